"""The one table reader (staffcast/tableio/reader.py): reading, vendor column names, where a row is, and the
one-line errors every loader shares."""

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.data import load_history
from staffcast.forecasting.errors import InputError
from staffcast.tableio.errors import TableError
from staffcast.tableio.reader import bad_values, check_timezone, parse_column_map, read_table


def test_csv_cells_are_text_exactly_as_written(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffagent_id,skill,note\n007, chat,\n".encode())  # BOM, blank
    table = read_table(path, "agents file")
    assert list(table.frame.columns) == ["agent_id", "skill", "note"]
    assert table.frame.iloc[0].tolist() == ["007", "chat", ""]
    assert table.lines and table.source == str(path)


def test_parquet_rows_are_data_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"y": [1.5, 2.0]}).to_parquet(path)
    table = read_table(path, "history file", parquet=True)
    assert not table.lines and table.frame["y"].tolist() == [1.5, 2.0]
    with pytest.raises(TableError, match="not a readable CSV|not UTF-8"):
        read_table(path, "history file")  # Parquet only where the loader accepts it


@pytest.mark.parametrize(("content", "message"), [
    (None, "t.csv: agents file not found (see docs)"),
    (b"", "t.csv: empty file; expected a header with a, b"),
    (b"a,b\n1,2\n3,4,5\n", "t.csv: not a readable CSV: Error tokenizing data. C error: "
                            "Expected 2 fields in line 3, saw 3"),
    (b"a,b\n\xff\xfe,1\n", "t.csv: not UTF-8 text (invalid start byte at byte 4); save the "
                           "file as UTF-8"),
])
def test_unreadable_files_are_one_line_errors_of_the_callers_class(tmp_path, content, message):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_table(path, "agents file", error=InputError, header_hint="header with a, b",
                   not_found=" (see docs)")
    assert str(info.value).startswith(f"{tmp_path}/{message}")
    assert "\n" not in str(info.value)


def test_vendor_columns_are_renamed_to_the_contract(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Skill,Interval Start,Offered\nchat,2026-03-02 00:00,4\n")
    mapping = parse_column_map("unique_id=Skill, ds=Interval Start,y=Offered",
                               ("unique_id", "ds", "y"))
    table = read_table(path, "history file", columns=mapping)
    assert list(table.frame.columns) == ["unique_id", "ds", "y"]
    assert table.column_name("ds") == "Interval Start" and table.column_name("x") == "x"
    with pytest.raises(TableError, match=r"t\.csv: no column 'Queue' \(mapped to unique_id\); "
                                         "found Skill, Interval Start, Offered"):
        read_table(path, "history file", columns={"unique_id": "Queue"})
    path.write_text("y,Offered\n1,2\n")
    with pytest.raises(TableError, match="has a column 'y' of its own and 'Offered' mapped"):
        read_table(path, "history file", columns={"y": "Offered"})


@pytest.mark.parametrize(("text", "message"), [
    ("queue", "--columns: each mapping must look like unique_id=their_name, got 'queue'"),
    ("queue=skill", "--columns: unknown column 'queue'; valid: unique_id, ds, y"),
])
def test_column_maps_are_checked(text, message):
    with pytest.raises(TableError) as info:
        parse_column_map(text, ("unique_id", "ds", "y"))
    assert str(info.value) == message


def test_bad_values_names_the_first_row_and_counts_the_rest():
    csv = bad_values("h.csv", "y", "must be >= 0", np.array([0, 4, 7]), [-1, -2, -3], True)
    assert str(csv) == ("h.csv: CSV line 2, column 'y': must be >= 0, got -1 (3 rows break "
                        "this rule: CSV lines [2, 6, 9], values [-1, -2, -3])")
    frame = bad_values("<frame>", "y", "must be >= 0", np.array([0]), [-1], False, InputError)
    assert isinstance(frame, InputError)
    assert str(frame) == "<frame>: data row (1-based) 1, column 'y': must be >= 0, got -1"


def test_time_zones_are_iana_names():
    assert check_timezone("Asia/Shanghai").key == "Asia/Shanghai"
    assert check_timezone("") is None
    with pytest.raises(TableError, match="timezone: unknown time zone 'Mars/Base'"):
        check_timezone("Mars/Base")


def test_history_loader_reads_a_vendor_export_through_the_mapping(tmp_path):
    ds = pd.date_range("2026-03-02", periods=336, freq="h")
    ours = pd.DataFrame({"unique_id": "chat", "ds": ds.strftime("%Y-%m-%d %H:%M"),
                         "y": (np.arange(336) % 7).astype(str)})
    ours.to_csv(tmp_path / "ours.csv", index=False)
    vendor = ours.rename(columns={"unique_id": "Skill", "ds": "Interval Start",
                                  "y": "Offered"})
    vendor.loc[5, "Offered"] = "-3"
    vendor.to_csv(tmp_path / "vendor.csv", index=False)
    mapping = {"unique_id": "Skill", "ds": "Interval Start", "y": "Offered"}
    with pytest.raises(InputError, match=r"vendor\.csv: CSV line 7, column 'y': contact count "
                                         "must be >= 0, got '-3'"):
        load_history(tmp_path / "vendor.csv", columns=mapping)
    vendor.loc[5, "Offered"] = ours.loc[5, "y"]
    vendor.to_csv(tmp_path / "vendor.csv", index=False)
    pd.testing.assert_frame_equal(load_history(tmp_path / "vendor.csv", columns=mapping),
                                  load_history(tmp_path / "ours.csv"))


def _stamps(*values):
    return pd.Series(list(values), dtype="string")


def test_timestamps_with_a_zone_become_its_wall_clock_across_daylight_saving():
    from staffcast.tableio.reader import parse_timestamps

    berlin = check_timezone("Europe/Berlin")
    got = parse_timestamps(_stamps("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z",
                                   "2026-03-29 05:00"), "h.csv", "ds", True, berlin)
    # 00:30 UTC is 01:30 CET (+01:00); 01:30 UTC is 03:30 CEST (+02:00): the clock skipped
    # 02:00-03:00. A naive value is taken as already local.
    assert got.tolist() == [pd.Timestamp("2026-03-29 01:30"), pd.Timestamp("2026-03-29 03:30"),
                            pd.Timestamp("2026-03-29 05:00")]
    one_zone = parse_timestamps(_stamps("2026-03-02 08:00+08:00", "2026-03-02 09:00+08:00"),
                                "h.csv", "ds", True)
    assert one_zone.tolist() == [pd.Timestamp("2026-03-02 08:00"),
                                 pd.Timestamp("2026-03-02 09:00")]


@pytest.mark.parametrize(("values", "message"), [
    (("2026-03-02 08:00+08:00", "2026-03-02 09:00"),
     "h.csv: column 'ds' mixes time zones: CSV line 2 has UTC offset +08:00 "
     "('2026-03-02 08:00+08:00') but CSV line 3 has none ('2026-03-02 09:00')"),
    (("2026-03-02 08:00", "soon"),
     "h.csv: CSV line 3, column 'ds': not a readable timestamp (e.g. 2025-11-11 08:00), "
     "got 'soon'"),
    (("13/03/2026 08:00",), "h.csv: column 'ds' holds day-first dates: CSV line 2 has "
                            "'13/03/2026 08:00' (day 13)"),
])
def test_unreadable_timestamps_name_the_row_and_value(values, message):
    from staffcast.tableio.reader import parse_timestamps

    with pytest.raises(InputError) as info:
        parse_timestamps(_stamps(*values), "h.csv", "ds", True, error=InputError)
    assert str(info.value).startswith(message)


def test_required_columns_are_named_with_what_the_file_has(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("agent_id,date\nana,2026-03-02\n")
    with pytest.raises(TableError) as info:
        read_table(path, "roster file", required=("agent_id", "shift_start", "shift_end"),
                   hint="; a roster has agent_id, date, shift_start, shift_end")
    assert str(info.value) == (f"{path}: missing column(s) shift_start, shift_end; a roster "
                               "has agent_id, date, shift_start, shift_end; found agent_id, date")
    assert read_table(path, "roster file", required=("agent_id",)).frame.shape == (1, 2)

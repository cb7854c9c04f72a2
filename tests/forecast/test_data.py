"""History loading: the output contract and every bad input, each named by file, row and value."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.data import (MIN_HOURS, load_events, load_history, open_hours_mask,
                           validate_history)
from staffcast.forecasting.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
START = pd.Timestamp("2025-03-03 00:00")  # a Monday
# Open 08:00-21:05 on weekdays, closed at weekends (the bank data's shape).
WEEKDAYS_8_TO_2105 = tuple(((480, 1265),) if d < 5 else () for d in range(7))


def history_frame(queues=("a", "b"), hours=MIN_HOURS, edits=None) -> pd.DataFrame:
    """Valid text-typed history, as read from a CSV: y = queue number * 1000 + hour index;
    `edits` maps (row, column) to a replacement cell."""
    parts = []
    for i, q in enumerate(queues):
        ds = pd.date_range(START, periods=hours, freq="h")
        parts.append(pd.DataFrame({"unique_id": q, "ds": ds.strftime("%Y-%m-%d %H:%M:%S"),
                                   "y": [str(i * 1000 + k) for k in range(hours)]}))
    frame = pd.concat(parts, ignore_index=True)
    for (row, col), value in (edits or {}).items():
        frame.loc[row, col] = value
    return frame


def write_csv(tmp_path: Path, frame: pd.DataFrame, name: str = "h.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- the contract

def test_contract_two_queues(tmp_path):
    frame = history_frame()
    shuffled = pd.concat([frame.iloc[MIN_HOURS:], frame.iloc[:MIN_HOURS]])  # queues as blocks, b first
    out = load_history(write_csv(tmp_path, shuffled))
    assert list(out.columns) == ["unique_id", "ds", "y"]
    assert out["unique_id"].dtype == "string"
    assert out["ds"].dtype == "datetime64[ns]"
    assert out["y"].dtype == "float64"
    assert out["unique_id"].tolist() == ["a"] * MIN_HOURS + ["b"] * MIN_HOURS
    assert out["ds"].iloc[0] == START and out["ds"].iloc[-1] == START + pd.Timedelta(hours=MIN_HOURS - 1)
    assert out.loc[out["unique_id"] == "b", "y"].iloc[5] == 1005.0


def test_absent_unique_id_is_default(tmp_path):
    out = load_history(write_csv(tmp_path, history_frame(queues=("x",)).drop(columns="unique_id")))
    assert set(out["unique_id"]) == {"default"}
    assert len(out) == MIN_HOURS


def test_parquet(tmp_path):
    frame = history_frame(queues=("x",))
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = frame["y"].astype(int)
    path = tmp_path / "h.parquet"
    frame.to_parquet(path)
    out = load_history(path)
    assert out["y"].sum() == frame["y"].sum()


def test_validate_history_copies_and_names_data_rows():
    frame = history_frame(queues=("x",))
    frame["y"] = frame["y"].astype(float)
    before = frame.copy()
    out = validate_history(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out["y"].tolist() == frame["y"].tolist()
    frame.loc[4, "y"] = -1.0
    with pytest.raises(InputError, match=r"<frame>: data row \(1-based\) 5, column 'y'"):
        validate_history(frame)


# ---------------------------------------------------------------- bad input, one test each

def test_missing_columns_names_those_found(tmp_path):
    path = write_csv(tmp_path, history_frame().rename(columns={"ds": "DateTime", "y": "Calls"}))
    with pytest.raises(InputError, match=r"h\.csv: missing column\(s\) 'ds', 'y'; found 'unique_id', "
                                         r"'DateTime', 'Calls'"):
        load_history(path)


def test_duplicated_timestamp(tmp_path):
    frame = history_frame()
    frame = pd.concat([frame.iloc[:11], frame.iloc[[10]], frame.iloc[11:]], ignore_index=True)
    with pytest.raises(InputError, match=r"h\.csv: duplicated \(unique_id, ds\) = \('a', "
                                         r"2025-03-03 10:00:00\) at CSV lines \[12, 13\]"):
        load_history(write_csv(tmp_path, frame))


def test_negative_count(tmp_path):
    with pytest.raises(InputError, match=r"h\.csv: CSV line 9, column 'y': contact count must be "
                                         r">= 0, got '-3'"):
        load_history(write_csv(tmp_path, history_frame(edits={(7, "y"): "-3"})))


def test_non_numeric_count(tmp_path):
    frame = history_frame(edits={(7, "y"): "n/a", (20, "y"): "", (30, "y"): "12x"})
    with pytest.raises(InputError, match=r"CSV line 9, column 'y': contact count must be a finite "
                                         r"number, got 'n/a' \(3 rows break this rule: CSV lines "
                                         r"\[9, 22, 32\]"):
        load_history(write_csv(tmp_path, frame))


def test_unsorted_rows(tmp_path):
    frame = history_frame()
    frame.iloc[[3, 4]] = frame.iloc[[4, 3]].to_numpy()
    with pytest.raises(InputError, match=r"sorted by ds within each queue: CSV line 6 \(ds "
                                         r"2025-03-03 03:00:00\) comes after CSV line 5 \(ds "
                                         r"2025-03-03 04:00:00\) in queue 'a'"):
        load_history(write_csv(tmp_path, frame))


def test_mixed_utc_offsets(tmp_path):
    frame = history_frame(queues=("x",))
    frame["ds"] = frame["ds"] + "+08:00"
    frame.loc[100, "ds"] = "2025-03-07 04:00:00+09:00"
    with pytest.raises(InputError, match=r"mixes time zones: CSV line 2 has UTC offset \+08:00 but "
                                         r"CSV line 102 has \+09:00"):
        load_history(write_csv(tmp_path, frame))


def test_aware_and_naive_mixed(tmp_path):
    frame = history_frame(queues=("x",))
    frame.loc[50, "ds"] = frame.loc[50, "ds"] + "Z"
    with pytest.raises(InputError, match=r"mixes time zones: CSV line 52 has UTC offset \+00:00"):
        load_history(write_csv(tmp_path, frame))


def test_one_offset_becomes_naive_wall_clock(tmp_path):
    frame = history_frame(queues=("x",))
    frame["ds"] = frame["ds"].str.replace(" ", "T") + "+0800"
    out = load_history(write_csv(tmp_path, frame))
    assert out["ds"].dt.tz is None
    assert out["ds"].iloc[0] == START  # the local clock reading, not UTC


def test_tz_aware_frame_becomes_naive_wall_clock():
    frame = pd.DataFrame({"ds": pd.date_range("2025-03-03", periods=MIN_HOURS, freq="h",
                                              tz="Asia/Shanghai"), "y": 1.0})
    out = validate_history(frame)
    assert out["ds"].dt.tz is None and out["ds"].iloc[0] == START


def test_unparsable_timestamp(tmp_path):
    with pytest.raises(InputError, match=r"CSV line 12, column 'ds': not a readable timestamp .*"
                                         r"got '2025-03-03 25:00'"):
        load_history(write_csv(tmp_path, history_frame(edits={(10, "ds"): "2025-03-03 25:00"})))


def test_timestamp_off_the_hourly_grid_is_a_mixed_interval(tmp_path):
    with pytest.raises(InputError, match=r"CSV line 12, column 'ds': mixed intervals: most rows "
                                         r"are 60 minutes apart.*got '2025-03-03 10:30:00'"):
        load_history(write_csv(tmp_path, history_frame(edits={(10, "ds"): "2025-03-03 10:30:00"})))


def test_series_shorter_than_two_weeks(tmp_path):
    frame = pd.concat([history_frame(queues=("long",)),
                       history_frame(queues=("short",), hours=100)], ignore_index=True)
    with pytest.raises(InputError, match=r"queue 'short' spans only 100 hours .* at least 336"):
        load_history(write_csv(tmp_path, frame))


def test_empty_queue_name(tmp_path):
    with pytest.raises(InputError, match=r"CSV line 4, column 'unique_id': queue name is empty"):
        load_history(write_csv(tmp_path, history_frame(edits={(2, "unique_id"): ""})))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.csv: history file not found"):
        load_history(tmp_path / "nope.csv")


def test_bad_fill_missing_value(tmp_path):
    with pytest.raises(InputError, match="fill_missing: must be 'error' or 'zero', got 'mean'"):
        load_history(write_csv(tmp_path, history_frame()), fill_missing="mean")


# ---------------------------------------------------------------- missing hours

def gappy(tmp_path: Path) -> Path:
    """Queue 'x' over three weeks: weekdays 08:00-21:00 only, one Wednesday (03-12) absent."""
    ds = pd.date_range(START, periods=21 * 24, freq="h")
    keep = open_hours_mask(ds, WEEKDAYS_8_TO_2105) & (ds.normalize() != pd.Timestamp("2025-03-12"))
    frame = pd.DataFrame({"unique_id": "x", "ds": ds[keep].strftime("%Y-%m-%d %H:%M:%S"), "y": "5"})
    return write_csv(tmp_path, frame)


def test_missing_hours_listed(tmp_path):
    with pytest.raises(InputError, match=r"queue 'x' has \d+ missing hour\(s\) inside its span, "
                                         r"first \['2025-03-03 22:00:00', .*opening hours"):
        load_history(gappy(tmp_path))


def test_opening_hours_explain_closed_hours_but_not_a_missing_open_day(tmp_path):
    with pytest.raises(InputError, match=r"queue 'x' has 14 missing hour\(s\).*first "
                                         r"\['2025-03-12 08:00:00'.*these are open hours"):
        load_history(gappy(tmp_path), opening_hours={"x": WEEKDAYS_8_TO_2105})


def test_closure_in_calendar_explains_missing_open_day(tmp_path):
    cal_path = tmp_path / "c.csv"
    cal_path.write_text("event,start,end,kind,unique_id\npower cut,2025-03-12,2025-03-12,closure,x\n")
    cal = load_calendar(cal_path, country="none")
    out = load_history(gappy(tmp_path), opening_hours={"default": WEEKDAYS_8_TO_2105},
                       closed_dates=cal.closed_hours)
    day = out[out["ds"].dt.normalize() == pd.Timestamp("2025-03-12")]
    assert len(day) == 24 and (day["y"] == 0).all()
    assert out.loc[out["ds"] == pd.Timestamp("2025-03-13 09:00"), "y"].item() == 5.0
    assert out.loc[out["ds"] == pd.Timestamp("2025-03-08 09:00"), "y"].item() == 0.0  # Saturday


def test_fill_missing_zero(tmp_path):
    out = load_history(gappy(tmp_path), fill_missing="zero")
    grid = pd.date_range(START + pd.Timedelta(hours=8), out["ds"].iloc[-1], freq="h")
    assert out["ds"].tolist() == list(grid)
    assert out["y"].sum() == 5.0 * 14 * 14  # 14 open weekdays of 14 open hours


def test_open_hours_mask_counts_a_partly_open_hour():
    hours = pd.date_range("2025-03-07 19:00", periods=4, freq="h")  # Friday 19..22
    assert open_hours_mask(hours, WEEKDAYS_8_TO_2105).tolist() == [True, True, True, False]
    assert not open_hours_mask(pd.date_range("2025-03-08", periods=24, freq="h"),
                               WEEKDAYS_8_TO_2105).any()


def test_bad_opening_hours_shape(tmp_path):
    with pytest.raises(InputError, match=r"opening_hours\['x'\]: must hold 7 weekdays"):
        load_history(gappy(tmp_path), opening_hours={"x": ((0, 1440),)})


# ---------------------------------------------------------------- raw contact log

def test_events_log_aggregates_to_hourly_counts():
    out = load_events(FIXTURES / "contacts.csv", timestamp_col="arrived_at", queue_col="channel_queue")
    assert out["unique_id"].unique().tolist() == ["aftersales", "presales"]
    pre = out[out["unique_id"] == "presales"].set_index("ds")["y"]
    assert pre.index[0] == pd.Timestamp("2025-03-01 09:00")
    assert pre.index[-1] == pd.Timestamp("2025-03-16 23:00")
    assert pre.loc["2025-03-05 09:00"] == 2.0  # 09:15 and 09:45:30 fall in the 09:00 hour
    assert pre.loc["2025-03-05 10:00"] == 0.0  # no contacts: a zero count, not missing
    assert pre.sum() == 16 * 2 + 1
    after = out[out["unique_id"] == "aftersales"]
    assert after["y"].sum() == 16 and len(after) == 15 * 24 + 1


def test_events_log_without_queue_column_is_default_queue():
    out = load_events(FIXTURES / "contacts.csv", timestamp_col="arrived_at")
    assert set(out["unique_id"]) == {"default"} and out["y"].sum() == 49


def test_events_log_missing_timestamp_column():
    with pytest.raises(InputError, match=r"contacts\.csv: missing column\(s\) 'ds'; found "
                                         r"'arrived_at', 'channel_queue'"):
        load_events(FIXTURES / "contacts.csv")


def test_events_log_bad_timestamp(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("t\n2025-03-01 09:00\nyesterday\n")
    with pytest.raises(InputError, match=r"log\.csv: CSV line 3, column 't': not a readable "
                                         r"timestamp .*got 'yesterday'"):
        load_events(path, timestamp_col="t")


def test_events_log_too_short(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("t\n2025-03-01 09:00\n2025-03-02 09:10\n")
    with pytest.raises(InputError, match=r"queue 'default' spans only 25 hours"):
        load_events(path, timestamp_col="t")


def test_history_values_are_kept_exactly(tmp_path):
    frame = history_frame(queues=("x",))
    out = load_history(write_csv(tmp_path, frame))
    np.testing.assert_array_equal(out["y"].to_numpy(), np.arange(MIN_HOURS, dtype=float))


# ---------------------------------------------------------------- the example data

def _generator():
    import importlib.util
    path = Path(__file__).resolve().parents[2] / "examples" / "generate.py"
    spec = importlib.util.spec_from_file_location("examples_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_files_byte_for_byte():
    gen = _generator()
    for name, text in gen.generate().items():
        committed = (gen.OUT_DIR / name).read_bytes()
        assert gen.sha256(text) == gen.sha256(committed.decode("utf-8")), name


def test_example_history_meets_the_contract():
    root = Path(__file__).resolve().parents[2] / "examples" / "data"
    every_day_8_to_23 = tuple(((480, 1380),) for _ in range(7))
    out = load_history(root / "history.csv", opening_hours={"aftersales": every_day_8_to_23})
    assert sorted(set(out["unique_id"])) == ["aftersales", "presales"]
    assert out["ds"].min() == pd.Timestamp("2024-11-09") and out["ds"].max() == pd.Timestamp("2026-11-08 23:00")
    after = out[out["unique_id"] == "aftersales"]
    assert after.loc[~open_hours_mask(after["ds"], every_day_8_to_23), "y"].eq(0).all()
    truth = pd.read_csv(root / "truth_double11_week.csv", parse_dates=["ds"])
    assert len(truth) == 2 * 168 and truth["ds"].min() == pd.Timestamp("2026-11-09")
    normal = _generator().expected_volume(pd.Timestamp("2026-09-16"), pd.Timestamp("2026-09-16 23:00"))
    for queue in ("presales", "aftersales"):
        festival = truth.loc[(truth["unique_id"] == queue)
                             & (truth["ds"].dt.normalize() == pd.Timestamp("2026-11-11")), "y"].sum()
        ratio = festival / normal.loc[normal["unique_id"] == queue, "y"].sum()
        assert 5 <= ratio <= 10, (queue, ratio)  # festival day vs an ordinary Wednesday
    cal = load_calendar(root / "calendar.csv", country="CN", years=[2024, 2025, 2026])
    assert {"double11_day", "double11_final_payment", "618_day", "1212_day"} <= set(cal.events["event"])


# ---------------------------------------------------------------- opening-hours property

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ranges = st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 600)), max_size=2).map(
    lambda rs: tuple(sorted((s, min(1440, s + n)) for s, n in rs)))


@settings(max_examples=60, deadline=None)
@given(week=st.tuples(*[_ranges] * 7))
def test_open_hours_mask_matches_minute_expansion(week):
    hours = pd.date_range(START, periods=7 * 24, freq="h")  # Monday 00:00 .. Sunday 23:00
    got = open_hours_mask(hours, week)
    # independent: an hour is open if any of its 60 minutes is inside an open range
    want = [any(lo <= h.hour * 60 + m < hi for m in range(60) for lo, hi in week[h.day_of_week])
            for h in hours]
    assert got.tolist() == want


def test_utf8_bom_header_is_read(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(b"\xef\xbb\xbf" + history_frame(queues=("x",)).to_csv(index=False).encode())
    assert len(load_history(path)) == MIN_HOURS


def test_non_utf8_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(history_frame(queues=("\u552e\u524d",)).to_csv(index=False).encode("gbk"))
    with pytest.raises(InputError, match=r"h\.csv: not UTF-8 text"):
        load_history(path)

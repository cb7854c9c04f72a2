"""staffcast.forecasting.ingest: contact logs to the history contract, checked against hand counts and an
independent pandas aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffcast.forecasting.errors import InputError
from staffcast.forecasting.ingest import ingest, parse_column_map

HEADER = "queue,arrived_at,answered_at,ended_at\n"


def write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hand_counted_log_in_shanghai_time(tmp_path):
    # 16:00Z is 00:00 in Shanghai (UTC+8, no daylight saving).
    log = write(tmp_path, HEADER +
                "chat,2025-11-10T16:00:05Z,2025-11-10T16:00:35Z,2025-11-10T16:05:35Z\n"
                "chat,2025-11-10T16:10:00Z,,\n"
                "chat,2025-11-11 00:20:00,2025-11-11 00:21:30,2025-11-11 00:23:30\n"
                "chat,2025-11-10T17:00:00+00:00,2025-11-10T17:00:10+00:00,2025-11-10T17:02:10+00:00\n")
    result = ingest(log, interval_minutes=30, timezone="Asia/Shanghai")
    h = result.history.set_index("ds")
    first = h.loc[pd.Timestamp("2025-11-11 00:00")]
    assert (first["y"], first["answered"], first["abandoned"]) == (3.0, 2.0, 1.0)
    assert first["aht_s"] == pytest.approx((300 + 120) / 2)   # 5:00 and 2:00 handle
    assert first["asa_s"] == pytest.approx((30 + 90) / 2)
    assert h.loc[pd.Timestamp("2025-11-11 00:30"), "y"] == 0.0
    assert np.isnan(h.loc[pd.Timestamp("2025-11-11 00:30"), "aht_s"])
    last = h.loc[pd.Timestamp("2025-11-11 01:00")]
    assert (last["y"], last["aht_s"], last["asa_s"]) == (1.0, 120.0, 10.0)
    assert list(result.history.columns) == ["unique_id", "ds", "y", "answered", "abandoned",
                                            "aht_s", "asa_s"]
    assert len(result.history) == 3 and result.rows_read == 4


def test_utc_offsets_without_a_time_zone_are_an_error(tmp_path):
    log = write(tmp_path, HEADER + "chat,2025-11-10 09:00:00,,\nchat,2025-11-10T16:00:05Z,,\n")
    with pytest.raises(InputError, match=r"log.csv: CSV line 3, column 'arrived_at': timestamp "
                                         r"carries a UTC offset but no --timezone.*"
                                         r"'2025-11-10T16:00:05Z'"):
        ingest(log, interval_minutes=60)


def test_daylight_saving_days_have_23_and_25_hours(tmp_path):
    # New York: clocks spring forward 2025-03-09 02:00 -> 03:00 and fall back 2025-11-02
    # 02:00 -> 01:00. 05:30Z and 06:30Z on 2025-11-02 are both 01:30 local.
    log = write(tmp_path, HEADER +
                "q,2025-03-09T06:30:00Z,,\n"            # 01:30 EST
                "q,2025-03-09T07:30:00Z,,\n"            # 03:30 EDT (02:xx never happened)
                "q,2025-11-02T05:30:00Z,2025-11-02T05:59:00Z,2025-11-02T06:01:00Z\n"
                "q,2025-11-02T06:30:00Z,,\n")
    result = ingest(log, interval_minutes=60, timezone="America/New_York")
    h = result.history.set_index("ds")["y"]
    assert h[pd.Timestamp("2025-03-09 01:00")] == 1
    assert h[pd.Timestamp("2025-03-09 02:00")] == 0        # the skipped hour: zero, present
    assert h[pd.Timestamp("2025-03-09 03:00")] == 1
    assert h[pd.Timestamp("2025-11-02 01:00")] == 2        # both 01:00 hours, one row
    assert result.repeated_hour_contacts == 2
    # The handle time is measured between instants: 05:59Z to 06:01Z is two minutes, even
    # though the wall clock reads 01:59 then 01:01.
    row = result.history.set_index("ds").loc[pd.Timestamp("2025-11-02 01:00")]
    assert row["aht_s"] == 120.0 and row["asa_s"] == 29 * 60


@pytest.mark.parametrize("row, column, rule", [
    ("chat,2025-11-10 10:00:00,2025-11-10 09:59:00,2025-11-10 10:05:00", "answered_at",
     "answered before arrival"),
    ("chat,2025-11-10 10:00:00,2025-11-10 10:01:00,2025-11-10 10:00:30", "ended_at",
     "contact ends before it starts"),
    ("chat,2025-11-10 10:00:00,,2025-11-10 09:00:00", "ended_at",
     "contact ends before it starts"),
    ("chat,2025-11-10 10:00:00,2025-11-10 10:01:00,2025-11-11 10:01:01", "ended_at",
     "handle time over 24 h"),
    ("chat,2025-11-10 10:00:00,2025-11-10 10:01:00,", "ended_at",
     "answered contact has no end time"),
    (",2025-11-10 10:00:00,,", "queue", "queue name is empty"),
    ("chat,,,", "arrived_at", "arrival time is empty"),
    ("chat,2025-11-10 25:00:00,,", "arrived_at", "not a readable timestamp"),
])
def test_bad_rows_name_file_line_column_rule_and_value(tmp_path, row, column, rule):
    good = "chat,2025-11-10 09:00:00,2025-11-10 09:00:10,2025-11-10 09:03:10\n"
    log = write(tmp_path, HEADER + good + row + "\n" + good)
    with pytest.raises(InputError, match=rf"log.csv: CSV line 3, column '{column}': {rule}"):
        ingest(log, interval_minutes=30)
    dropped = ingest(log, interval_minutes=30, on_bad="drop")
    assert sum(dropped.dropped.values()) == 1
    assert dropped.history["y"].sum() == 2 and dropped.rows_read == 3


def test_vendor_columns_several_files_and_a_folder(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    head = "skill_name,created,picked,closed,agent\n"
    write(folder, head + "a,2025-11-10 08:05:00,2025-11-10 08:06:00,2025-11-10 08:10:00,x\n",
          "day1.csv")
    frame = pd.DataFrame({"skill_name": ["a", "b"], "created": ["2025-11-10 08:20:00"] * 2,
                          "picked": [None, "2025-11-10 08:20:30"],
                          "closed": [None, "2025-11-10 08:21:30"], "agent": ["y", "z"]})
    frame.to_parquet(folder / "day2.parquet")
    columns = parse_column_map(["queue=skill_name,arrived_at=created",
                                "answered_at=picked,ended_at=closed"])
    result = ingest(folder, interval_minutes=15, columns=columns)
    h = result.history.set_index(["unique_id", "ds"])
    assert h.loc[("a", pd.Timestamp("2025-11-10 08:00")), "aht_s"] == 240.0
    assert h.loc[("a", pd.Timestamp("2025-11-10 08:15")), "abandoned"] == 1.0
    assert h.loc[("b", pd.Timestamp("2025-11-10 08:15")), "aht_s"] == 60.0
    assert len(result.files) == 2


def test_unknown_mapped_column_lists_the_valid_ones():
    with pytest.raises(InputError, match="unknown column 'skill'; valid: queue, arrived_at"):
        parse_column_map("skill=x")


def test_missing_column_says_how_to_map(tmp_path):
    log = write(tmp_path, "skill,arrived_at,answered_at,ended_at\n")
    with pytest.raises(InputError, match=r"missing column\(s\) 'queue'.*--columns"):
        ingest(log)


def test_patience_mle_from_hang_up_times(tmp_path):
    # Exponential patience MLE = total time at risk / abandons: answered waits 30 + 90 s,
    # abandoned waits (hang-up - arrival) 40 + 80 s; 2 abandons -> 240 / 2 = 120 s.
    log = write(tmp_path, HEADER +
                "q,2025-11-10 10:00:00,2025-11-10 10:00:30,2025-11-10 10:05:00\n"
                "q,2025-11-10 10:01:00,2025-11-10 10:02:30,2025-11-10 10:05:00\n"
                "q,2025-11-10 10:02:00,,2025-11-10 10:02:40\n"
                "q,2025-11-10 10:03:00,,2025-11-10 10:04:20\n")
    patience = ingest(log).patience.iloc[0]
    assert patience["patience_s"] == pytest.approx(120.0)
    assert patience["method"] == "mle" and patience["abandon_rate"] == 0.5


def test_patience_without_hang_up_times_is_mean_wait_over_abandon_rate(tmp_path):
    log = write(tmp_path, HEADER +
                "q,2025-11-10 10:00:00,2025-11-10 10:00:30,2025-11-10 10:05:00\n"
                "q,2025-11-10 10:01:00,2025-11-10 10:02:30,2025-11-10 10:05:00\n"
                "q,2025-11-10 10:02:00,,\n"
                "q,2025-11-10 10:03:00,2025-11-10 10:03:00,2025-11-10 10:04:00\n")
    patience = ingest(log).patience.iloc[0]
    # mean answered wait 40 s, abandon rate 1/4 -> 160 s
    assert patience["patience_s"] == pytest.approx(40 / 0.25)
    assert patience["method"] == "wait_over_abandon_rate"


contacts = st.lists(st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 3 * 86400 - 1),          # arrival, seconds after the start
    st.one_of(st.none(), st.integers(0, 600)),   # wait (None: abandoned)
    st.integers(0, 3600),                   # handle
), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=contacts, interval=st.sampled_from([5, 15, 30, 60]))
def test_ingest_matches_an_independent_groupby(tmp_path, rows, interval):
    start = pd.Timestamp("2025-06-01")
    frame = pd.DataFrame(rows, columns=["queue", "arrive", "wait", "handle"])
    arrived = start + pd.to_timedelta(frame["arrive"], unit="s")
    answered = arrived + pd.to_timedelta(frame["wait"], unit="s")
    ended = answered + pd.to_timedelta(frame["handle"], unit="s")
    log = pd.DataFrame({"queue": frame["queue"], "arrived_at": arrived,
                        "answered_at": answered, "ended_at": ended})
    path = tmp_path / "h.csv"
    log.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    # A tiny block size splits the file into many blocks, as a big log would be.
    got = ingest(path, interval_minutes=interval, block_bytes=256).history
    frame["slot"] = arrived.dt.floor(f"{interval}min")
    frame["is_answered"] = frame["wait"].notna()
    ref = frame.groupby(["queue", "slot"]).agg(
        y=("arrive", "size"), answered=("is_answered", "sum"),
        handle=("handle", lambda s: s[frame.loc[s.index, "is_answered"]].mean()),
        wait=("wait", "mean"))
    seen = got[got["y"] > 0].set_index(["unique_id", "ds"])
    assert len(seen) == len(ref)
    assert got["y"].sum() == len(frame)
    for (q, slot), r in ref.iterrows():
        row = seen.loc[(q, slot)]
        assert row["y"] == r["y"] and row["answered"] == r["answered"]
        assert row["abandoned"] == r["y"] - r["answered"]
        if r["answered"]:
            assert row["aht_s"] == pytest.approx(r["handle"])
            assert row["asa_s"] == pytest.approx(r["wait"])
        else:
            assert np.isnan(row["aht_s"])
    # Every queue is a complete grid from its first to its last contact.
    for _, sub in got.groupby("unique_id"):
        assert (sub["ds"].diff().dropna() == pd.Timedelta(minutes=interval)).all()

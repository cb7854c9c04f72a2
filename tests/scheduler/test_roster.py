"""Roster and activity tables: columns, order, segment invariants and bad rows."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.roster import (ACTIVITY_COLUMNS, ROSTER_COLUMNS, RosterError, activities_frame,
                              format_roster, read_roster, roster_coverage,
                              roster_frame)

T = pd.Timestamp
NAT = pd.NaT


def shift(agent_id, start, hours, *, brk=None, lunch=None, brk2=None, queue="presales",
          paid=None):
    """A roster input row; `brk` / `lunch` / `brk2` are (offset hours, length hours) from
    the start (`brk2` adds the break2 columns)."""
    start = T(start)
    row = dict(agent_id=agent_id, tour_id=f"T-{agent_id}", date=start.normalize(),
               shift_start=start, shift_end=start + pd.Timedelta(hours=hours),
               break_start=NAT, break_end=NAT, lunch_start=NAT, lunch_end=NAT,
               paid_hours=hours if paid is None else paid, queue=queue)
    if brk2 is not None:
        row.update(break2_start=NAT, break2_end=NAT)
    for kind, spec in (("break", brk), ("lunch", lunch), ("break2", brk2)):
        if spec is not None:
            row[f"{kind}_start"] = start + pd.Timedelta(hours=spec[0])
            row[f"{kind}_end"] = start + pd.Timedelta(hours=spec[0] + spec[1])
    return row


def test_roster_columns_order_and_types():
    rows = pd.DataFrame([shift("B", "2026-11-10 08:00", 8), shift("A", "2026-11-11 09:00", 4),
                         shift("A", "2026-11-09 22:00", 8, brk=(2, 0.25))])
    roster = roster_frame(rows)
    assert tuple(roster.columns) == ROSTER_COLUMNS
    assert list(zip(roster["agent_id"], roster["date"].dt.day)) == [("A", 9), ("A", 11), ("B", 10)]
    assert roster["break_start"].iloc[0] == T("2026-11-10 00:00")
    assert roster["lunch_start"].isna().all()
    text = format_roster(roster)
    assert text["shift_end"].iloc[0] == "2026-11-10 06:00"
    assert text["break_start"].iloc[1] == "" and text["date"].iloc[0] == "2026-11-09"


def test_roster_without_break_columns_means_no_breaks():
    rows = pd.DataFrame([shift("A", "2026-11-09 08:00", 4)]).drop(
        columns=["break_start", "break_end", "lunch_start", "lunch_end"])
    roster = roster_frame(rows)
    assert roster[["break_start", "lunch_end"]].isna().all().all()


@pytest.mark.parametrize("row, message", [
    (shift("A", "2026-11-09 08:00", 4, brk=(3.9, 0.25)), "must lie inside the shift"),
    (shift("A", "2026-11-09 08:00", 8, brk=(3, 0.5), lunch=(3.25, 1)), "break and lunch overlap"),
    ({**shift("A", "2026-11-09 08:00", 8), "date": T("2026-11-10")}, "day the shift starts"),
    ({**shift("A", "2026-11-09 08:00", 8), "break_start": T("2026-11-09 09:00")},
     "both set or both empty"),
])
def test_inconsistent_rows_are_rejected_with_agent_and_date(row, message):
    with pytest.raises(RosterError, match=message) as err:
        roster_frame(pd.DataFrame([row]))
    assert "agent A" in str(err.value)


def test_overlapping_shifts_of_one_agent_are_rejected():
    rows = pd.DataFrame([shift("A", "2026-11-09 20:00", 8), shift("A", "2026-11-10 02:00", 4)])
    with pytest.raises(RosterError, match="before the agent's previous shift ends"):
        roster_frame(rows)


def test_activities_tile_shifts_and_fill_days_off():
    rows = pd.DataFrame([shift("A", "2026-11-09 08:00", 9, brk=(2, 0.25), lunch=(4.5, 1)),
                         shift("A", "2026-11-10 22:00", 8, brk=(3, 0.25))])
    acts = activities_frame(roster_frame(rows), pd.date_range("2026-11-09", periods=3),
                            idle_agents=["Z"])
    assert tuple(acts.columns) == ACTIVITY_COLUMNS
    a = acts[acts["agent_id"] == "A"]
    assert list(a["activity"]) == ["WORK", "BREAK", "WORK", "LUNCH", "WORK",
                                   "WORK", "BREAK", "WORK", "OFF"]
    # The overnight shift ends 06:00 on the 11th, so that day's OFF starts there.
    off = a[a["activity"] == "OFF"].iloc[0]
    assert (off["start"], off["end"]) == (T("2026-11-11 06:00"), T("2026-11-12 00:00"))
    z = acts[acts["agent_id"] == "Z"]
    assert list(z["activity"]) == ["OFF"] * 3
    assert z["start"].iloc[0] == T("2026-11-09") and z["end"].iloc[-1] == T("2026-11-12")


@st.composite
def rosters(draw):
    rows = []
    for agent_id in ("A", "B", "C")[:draw(st.integers(1, 3))]:
        last_end = T("2026-11-01")
        for day in sorted(draw(st.sets(st.integers(0, 6), max_size=6))):
            hours = draw(st.sampled_from([4.0, 6.0, 8.0, 9.0]))
            start_h = draw(st.sampled_from([0.0, 7.5, 13.0, 16.0, 22.0]))
            brk = draw(st.one_of(st.none(), st.tuples(st.sampled_from([1.0, 1.5]),
                                                      st.just(0.25))))
            lunch = draw(st.one_of(st.none(), st.tuples(st.sampled_from([2.5, 3.0]),
                                                        st.sampled_from([0.5, 1.0]))))
            brk2 = draw(st.one_of(st.none(), st.just((5.0, 0.25))))
            if hours < 6:
                lunch = brk2 = None
            start = T("2026-11-09") + pd.Timedelta(days=day, hours=start_h)
            if start < last_end:  # one agent is never in two places
                continue
            last_end = start + pd.Timedelta(hours=hours)
            rows.append(shift(agent_id, start, hours, brk=brk, lunch=lunch, brk2=brk2))
            rows[-1].setdefault("break2_start", NAT)
            rows[-1].setdefault("break2_end", NAT)
    return rows


@settings(max_examples=200, deadline=None)
@given(rosters())
def test_activity_segments_never_overlap_and_tile_each_shift(rows):
    days = pd.date_range("2026-11-09", periods=7)
    frame = pd.DataFrame(rows, columns=list(shift("A", "2026-11-09", 1, brk2=(0, 0.25))))
    roster = roster_frame(frame)
    acts = activities_frame(roster, days)
    assert set(acts["activity"]) <= {"WORK", "BREAK", "LUNCH", "OFF"}
    assert (acts["end"] > acts["start"]).all()
    for agent_id, seg in acts.groupby("agent_id"):
        seg = seg.sort_values("start")
        assert (seg["start"].iloc[1:].to_numpy() >= seg["end"].iloc[:-1].to_numpy()).all()
        mine = roster[roster["agent_id"] == agent_id]
        for row in mine.itertuples():
            inside = seg[(seg["start"] >= row.shift_start) & (seg["end"] <= row.shift_end)]
            assert inside["activity"].isin(["WORK", "BREAK", "LUNCH"]).all()
            assert inside["start"].iloc[0] == row.shift_start
            assert inside["end"].iloc[-1] == row.shift_end
            assert (inside["start"].iloc[1:].to_numpy() == inside["end"].iloc[:-1].to_numpy()).all()
            assert (inside["activity"] == "BREAK").sum() == (int(pd.notna(row.break_start))
                                                              + int(pd.notna(row.break2_start)))
            assert (inside["activity"] == "LUNCH").sum() == int(pd.notna(row.lunch_start))
        off_days = {s.normalize() for s in seg.loc[seg["activity"] == "OFF", "start"]}
        assert off_days == set(days) - set(mine["date"])


def test_roster_coverage_counts_work_not_breaks_on_absolute_time():
    rows = pd.DataFrame([shift("A", "2026-11-09 22:00", 4, brk=(1, 0.5)),
                         shift("B", "2026-11-09 23:30", 2, queue="aftersales")])
    grid = pd.DataFrame({"unique_id": ["presales"] * 4 + ["aftersales"] * 2,
                         "ds": pd.to_datetime(["2026-11-09 22:00", "2026-11-09 23:00",
                                               "2026-11-10 00:00", "2026-11-10 01:00",
                                               "2026-11-09 23:00", "2026-11-10 01:00"])})
    got = roster_coverage(roster_frame(rows), grid, 60)
    # A works 22:00-23:00, breaks 23:00-23:30, works 23:30-02:00 (past midnight).
    # B works 23:30-01:30 on aftersales: half of 23:00 and half of 01:00.
    assert got.tolist() == [1.0, 0.5, 1.0, 1.0, 0.5, 0.5]


def test_read_roster_round_trips_the_written_csv(tmp_path):
    rows = pd.DataFrame([shift("A", "2026-11-09 22:00", 8, brk=(2, 0.25)),
                         shift("B", "2026-11-10 08:00", 9, lunch=(4, 1), paid=8.0)])
    roster = roster_frame(rows)
    path = tmp_path / "roster.csv"
    format_roster(roster).to_csv(path, index=False)
    back = read_roster(path)
    pd.testing.assert_frame_equal(back, roster, check_dtype=False)
    path.write_text(path.read_text().replace("2026-11-10 08:00", "soon", 1))
    with pytest.raises(RosterError, match=r"data row 2 \(line 3\), column 'shift_start': .*'soon'"):
        read_roster(path)


def test_several_breaks_round_trip_through_roster_csv_and_activities(tmp_path):
    rows = pd.DataFrame([
        shift("A", "2026-11-09 08:00", 9, brk=(1.5, 0.25), lunch=(4, 1), brk2=(7, 0.25)),
        shift("B", "2026-11-09 22:00", 8, brk=(2, 0.25), brk2=(6, 0.25)),
        shift("C", "2026-11-10 09:00", 4, brk=(2, 0.25)) | {"break2_start": NAT,
                                                           "break2_end": NAT}])
    roster = roster_frame(rows)
    assert tuple(roster.columns) == ROSTER_COLUMNS + ("break2_start", "break2_end")
    path = tmp_path / "roster.csv"
    format_roster(roster).to_csv(path, index=False)
    header = path.read_text().splitlines()[0]
    assert header.startswith(",".join(ROSTER_COLUMNS)) and header.endswith(
        "queue,break2_start,break2_end")
    back = read_roster(path)
    pd.testing.assert_frame_equal(back, roster, check_dtype=False)
    acts = activities_frame(back, pd.date_range("2026-11-09", periods=2))
    a = acts[acts["agent_id"] == "A"]
    assert list(a["activity"]) == ["WORK", "BREAK", "WORK", "LUNCH", "WORK", "BREAK", "WORK",
                                   "OFF"]
    second = a[a["activity"] == "BREAK"].iloc[1]
    assert (second["start"], second["end"]) == (T("2026-11-09 15:00"), T("2026-11-09 15:15"))
    b = acts[(acts["agent_id"] == "B") & (acts["activity"] == "BREAK")]
    assert list(b["start"]) == [T("2026-11-10 00:00"), T("2026-11-10 04:00")]
    # Both breaks are off the queue in the coverage.
    grid = pd.DataFrame({"unique_id": "presales",
                         "ds": pd.to_datetime(["2026-11-09 15:00", "2026-11-10 04:00"])})
    assert roster_coverage(back, grid, 30, statistic="min").tolist() == [0.0, 0.0]
    assert roster_coverage(back, grid, 30).tolist() == [0.5, 0.5]


def test_overlapping_second_break_is_rejected():
    row = shift("A", "2026-11-09 08:00", 9, lunch=(4, 1), brk2=(4.5, 0.25))
    with pytest.raises(RosterError, match="agent A on 2026-11-09: break2 and lunch overlap"):
        roster_frame(pd.DataFrame([row]))


def test_roster_coverage_at_quarter_hours_sees_a_break_stack():
    # Four agents, two on break 09:00-09:15: the 09:00 half-hour averages 3 but has 2.
    rows = pd.DataFrame([shift(x, "2026-11-09 08:00", 4, brk=(1, 0.25)) for x in "AB"]
                        + [shift(x, "2026-11-09 08:00", 4, brk=(2, 0.25)) for x in "CD"])
    grid = pd.DataFrame({"unique_id": "presales", "ds": [T("2026-11-09 09:00")]})
    assert roster_coverage(roster_frame(rows), grid, 30).tolist() == [3.0]
    assert roster_coverage(roster_frame(rows), grid, 30, statistic="min").tolist() == [2.0]

"""The planner exports, opened with real readers: openpyxl for roster.xlsx, icalendar for
agents/<id>.ics, pandas for wfm_import.csv; values checked against the hand-made roster."""

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from icalendar import Calendar

from staffcast.scheduler.roster import roster_frame
from staffcast.exports import (
    WFM_COLUMNS,
    ExportError,
    agent_calendars,
    calendar_file_name,
    roster_workbook,
    week_grids,
    wfm_import_frame,
    write_exports,
)

T = pd.Timestamp


def roster() -> pd.DataFrame:
    """Two agents over two weeks from Monday 2026-11-09; A1 works a night shift into
    Tuesday, B2 a day shift with break and lunch, and one shift in the second week."""
    rows = [
        dict(agent_id="A1", date="2026-11-09", shift_start=T("2026-11-09 22:00"),
             shift_end=T("2026-11-10 06:00"), break_start=T("2026-11-10 01:00"),
             break_end=T("2026-11-10 01:30"), paid_hours=8.0, queue="presales"),
        dict(agent_id="B2", date="2026-11-11", shift_start=T("2026-11-11 08:00"),
             shift_end=T("2026-11-11 17:00"), break_start=T("2026-11-11 10:00"),
             break_end=T("2026-11-11 10:15"), lunch_start=T("2026-11-11 12:00"),
             lunch_end=T("2026-11-11 13:00"), paid_hours=8.0, queue="aftersales;presales"),
        dict(agent_id="B2", date="2026-11-17", shift_start=T("2026-11-17 09:00"),
             shift_end=T("2026-11-17 13:00"), paid_hours=4.0, queue="aftersales;presales"),
    ]
    return roster_frame(pd.DataFrame(rows))


def coverage() -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ["presales", "presales"],
                         "ds": [T("2026-11-09 22:00"), T("2026-11-09 22:30")],
                         "required": [2.0, 1.0], "scheduled": [1.0, 1.0],
                         "shortfall": [1.0, 0.0], "service_level": [0.41, float("nan")]})


def test_workbook_has_a_grid_sheet_per_week_and_a_coverage_sheet():
    book = openpyxl.load_workbook(io.BytesIO(roster_workbook(roster(), coverage())))
    assert book.sheetnames == ["Week 2026-11-09", "Week 2026-11-16", "coverage"]
    week1 = book["Week 2026-11-09"]
    header = [c.value for c in week1[1]]
    assert header == ["agent_id", "queue", "paid_hours", "Mon 2026-11-09", "Tue 2026-11-10",
                      "Wed 2026-11-11", "Thu 2026-11-12", "Fri 2026-11-13", "Sat 2026-11-14",
                      "Sun 2026-11-15"]
    rows = {r[0]: r for r in week1.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"A1", "B2"}
    # The night shift sits on the day it starts and says it ends the next day.
    assert rows["A1"][3] == "22:00-06:00+1\nbreak 01:00-01:30+1"
    assert rows["A1"][4] in (None, "") and rows["A1"][2] == 8.0
    assert rows["B2"][5] == "08:00-17:00\nbreak 10:00-10:15\nlunch 12:00-13:00"
    assert rows["B2"][1] == "aftersales;presales" and rows["B2"][2] == 8.0
    week2 = list(book["Week 2026-11-16"].iter_rows(min_row=2, values_only=True))
    assert week2 == [("B2", "aftersales;presales", 4.0, None, "09:00-13:00", None, None, None,
                      None, None)]
    cov = list(book["coverage"].iter_rows(values_only=True))
    assert cov[0] == ("unique_id", "ds", "required", "scheduled", "shortfall", "service_level")
    assert cov[1] == ("presales", dt.datetime(2026, 11, 9, 22, 0), 2.0, 1.0, 1.0, 0.41)
    assert cov[2][-1] is None  # NaN service level is an empty cell, not a number


def test_weeks_start_on_the_plans_first_day():
    grids = week_grids(roster(), first_day=T("2026-11-11"))
    assert list(grids) == [T("2026-11-04"), T("2026-11-11")]
    assert list(grids[T("2026-11-11")].columns[2:4]) == ["Wed 2026-11-11", "Thu 2026-11-12"]


def test_agent_calendars_hold_one_event_per_shift():
    stamp = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)
    files = agent_calendars(roster(), stamp=stamp)
    assert sorted(files) == ["A1.ics", "B2.ics"]
    cal = Calendar.from_ical(files["B2.ics"])
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [(e.decoded("dtstart"), e.decoded("dtend")) for e in events] == [
        (dt.datetime(2026, 11, 11, 8, 0), dt.datetime(2026, 11, 11, 17, 0)),
        (dt.datetime(2026, 11, 17, 9, 0), dt.datetime(2026, 11, 17, 13, 0))]
    assert events[0].decoded("dtstart").tzinfo is None  # floating local time, as the roster
    assert str(events[0]["summary"]) == "Shift aftersales;presales"
    assert "break: 10:00-10:15" in str(events[0]["description"])
    assert "lunch: 12:00-13:00" in str(events[0]["description"])
    assert str(events[0]["uid"]) == "B2-20261111T0800@staffcast"
    assert events[0].decoded("dtstamp") == stamp
    night = next(iter(Calendar.from_ical(files["A1.ics"]).walk("VEVENT")))
    assert night.decoded("dtend") == dt.datetime(2026, 11, 10, 6, 0)


def test_calendar_file_names_stay_inside_the_folder_and_never_collide():
    assert calendar_file_name("../etc/passwd") == "_etc_passwd.ics"
    assert calendar_file_name("li.wei") == "li.wei.ics"
    frame = roster()
    frame.loc[0, "agent_id"] = "a/1"
    frame.loc[1:, "agent_id"] = "a_1"
    with pytest.raises(ExportError, match="'a/1' and 'a_1' would share the calendar file"):
        agent_calendars(frame)


def test_wfm_import_is_long_and_in_interval_order():
    requirement = pd.DataFrame({
        "unique_id": ["b", "a", "a"], "ds": [T("2026-11-09 08:00")] * 2 + [T("2026-11-09 08:30")],
        "volume": [10.0, 4.123456, 0.0], "aht_s": [300.0, 240.0, 240.0],
        "agents_required": [3.0, 2.0, 1.0]})
    frame = wfm_import_frame(requirement, 30)
    assert tuple(frame.columns) == WFM_COLUMNS
    assert frame.values.tolist() == [
        ["2026-11-09 08:00", "a", 30, 4.1235, 240.0, 2.0],
        ["2026-11-09 08:00", "b", 30, 10.0, 300.0, 3.0],
        ["2026-11-09 08:30", "a", 30, 0.0, 240.0, 1.0]]


def test_write_exports_writes_every_file_readably(tmp_path):
    requirement = pd.DataFrame({"unique_id": ["presales"], "ds": [T("2026-11-09 22:00")],
                                "volume": [12.0], "aht_s": [240.0], "agents_required": [2.0]})
    written = write_exports(tmp_path, roster=roster(), coverage=coverage(),
                            requirement=requirement, interval_minutes=30)
    assert sorted(written) == ["agents/A1.ics", "agents/B2.ics", "roster.xlsx",
                               "wfm_import.csv"]
    back = pd.read_csv(tmp_path / "wfm_import.csv")
    assert back.iloc[0].tolist() == ["2026-11-09 22:00", "presales", 30, 12.0, 240.0, 2.0]
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("agents/.*.tmp"))

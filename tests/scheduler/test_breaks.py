"""Breaks shorter than an interval are dealt over the interval, never changing its cover."""

import pandas as pd
import pytest

from scheduler.breaks import stagger_breaks
from scheduler.model import build_model
from scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from scheduler.solve import solve


def family(earliest=120, latest=150):
    return ShiftFamily(name="day", paid_hours=8, earliest_start="07:00", latest_start="07:00",
                       breaks=(BreakRule("break", 15, earliest, latest, paid=True),))


def tours(n, break_at="2026-11-09 09:00"):
    start = pd.Timestamp("2026-11-09 07:00")
    at = pd.Timestamp(break_at)
    return pd.DataFrame({
        "tour_id": [f"T{i:04d}" for i in range(1, n + 1)], "family": "day",
        "contract": "full_time", "queue": "chat", "date": pd.Timestamp("2026-11-09"),
        "shift_start": start, "shift_end": start + pd.Timedelta(hours=8),
        "break_start": at, "break_end": at + pd.Timedelta(minutes=15),
        "lunch_start": pd.NaT, "lunch_end": pd.NaT,
        "paid_hours": 8.0, "cost": 160.0})


def test_breaks_of_one_interval_are_split_over_its_quarter_hours():
    out = stagger_breaks(tours(5), {"day": family()}, 30)
    counts = out["break_start"].dt.strftime("%H:%M").value_counts().to_dict()
    assert counts == {"09:00": 3, "09:15": 2}
    assert ((out["break_end"] - out["break_start"]) == pd.Timedelta(minutes=15)).all()


def test_a_break_at_the_latest_offset_stays_in_its_window():
    # 09:00 is offset 120 = latest_offset_minutes: 09:15 would leave the window.
    out = stagger_breaks(tours(4), {"day": family(earliest=60, latest=120)}, 30)
    assert (out["break_start"] == pd.Timestamp("2026-11-09 09:00")).all()


def test_breaks_as_long_as_the_interval_are_left_alone():
    original = tours(4)
    out = stagger_breaks(original, {"day": family()}, 15)
    pd.testing.assert_frame_equal(out, original)


def test_solved_plan_has_no_quarter_hour_with_every_break():
    # Flat requirement of 12 agents 07:00-15:00: within each interval the two quarter-hours
    # differ by at most one agent on break (except at 11:00, the window's last start).
    ds = pd.date_range("2026-11-09 07:00", periods=16, freq="30min")
    req = pd.DataFrame({"unique_id": "chat", "ds": ds, "agents_required": 12.0})
    rules = ScheduleRules(interval_minutes=30, shortfall_penalty=1000,
                          families=(family(earliest=90, latest=240),))
    result = solve(build_model(req, rules), solver="highs", time_limit_s=20)
    assert result.has_plan and len(result.tours) >= 12
    starts = result.tours["break_start"]
    starts = starts[starts != pd.Timestamp("2026-11-09 11:00")]
    per_interval = starts.groupby(starts.dt.floor("30min"))
    for _, group in per_interval:
        counts = group.dt.minute.mod(30).value_counts()
        assert counts.max() - (counts.min() if len(counts) == 2 else 0) <= 1
    # Cover per interval is still what the model counted.
    cov = result.coverage
    assert (cov["scheduled"] + cov["shortfall"] >= cov["required"] - 1e-9).all()

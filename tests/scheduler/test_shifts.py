"""Shift enumeration: coverage on absolute time, costs with premiums, start bands, tours."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.scheduler.shifts import Grid, shift_cost, span_weights, start_bands, tour_patterns

WEEK_30 = Grid(interval_minutes=30, n_intervals=7 * 48, first_weekday=0)


def test_overnight_span_covers_the_next_morning_and_drops_past_the_end():
    grid = Grid(60, 48, 0)
    # 22:00 on day 0 for 8 h: 22, 23 on day 0 and 00-05 on day 1.
    assert span_weights(grid, 22 * 60, 480) == {i: 1.0 for i in range(22, 30)}
    # 22:00 on day 1: only 22:00-24:00 lies inside a 2-day plan.
    assert span_weights(grid, (24 + 22) * 60, 480) == {46: 1.0, 47: 1.0}


def test_cyclic_span_wraps_onto_the_start():
    grid = Grid(60, 24, 0, cyclic=True)
    assert span_weights(grid, 21 * 60, 480) == {21: 1.0, 22: 1.0, 23: 1.0, 0: 1.0, 1: 1.0,
                                                2: 1.0, 3: 1.0, 4: 1.0}


def test_partial_intervals_count_as_shares():
    # A 15-minute break starting on the half hour fills half of one 30-minute interval.
    assert span_weights(WEEK_30, 600, 15) == {20: 0.5}
    assert span_weights(WEEK_30, 615, 30) == {20: 0.5, 21: 0.5}


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 7 * 1440 - 1), length=st.integers(1, 900))
def test_span_weights_add_up_to_the_minutes_inside_the_plan(start, length):
    weights = span_weights(WEEK_30, start, length)
    inside = min(start + length, 7 * 1440) - start
    assert sum(weights.values()) * 30 == pytest.approx(inside)
    assert all(0 < w <= 1 for w in weights.values())


def test_shift_cost_applies_night_and_weekend_premiums_by_share_of_span():
    fam = ShiftFamily("n", 8, "22:00", "22:00", cost_per_hour=10, night_premium=0.5,
                      weekend_premium=0.25, night_window="00:00-06:00")
    # Friday 22:00 -> Saturday 06:00: 6 of 8 hours at night, 6 of 8 on Saturday.
    friday_22 = 4 * 1440 + 22 * 60
    assert shift_cost(fam, friday_22, first_weekday=0) == pytest.approx(
        80 * (1 + 0.5 * 6 / 8 + 0.25 * 6 / 8))
    monday_22 = 22 * 60
    assert shift_cost(fam, monday_22, first_weekday=0) == pytest.approx(80 * (1 + 0.5 * 6 / 8))


def test_start_bands_keep_rest_and_start_variation():
    fam = ShiftFamily("d", 8, "06:00", "14:00", days_per_week=5,
                      breaks=(BreakRule("lunch", 60, 180, 240, kind="lunch"),))
    # 9 h shifts + 11 h rest leave 4 h of start drift between consecutive days.
    bands = start_bands(fam, min_rest_hours=11)
    assert [b[0] for b in bands] == [360, 630]
    assert all(b[-1] - b[0] <= 240 for b in bands)
    assert sorted(s for b in bands for s in b) == fam.start_minutes()
    narrow = ShiftFamily("d", 8, "06:00", "14:00", days_per_week=5, max_start_variation_hours=1)
    assert all(b[-1] - b[0] <= 60 for b in start_bands(narrow, min_rest_hours=11))


def brute_force_tours(days_per_week, consecutive, n_days, max_run, allowed=range(7)):
    """All worked-day sets week by week, filtered by the stated rules (independent check)."""
    weeks = -(-n_days // 7)
    week_masks = []
    for mask in itertools.product([0, 1], repeat=7):
        if sum(mask) != days_per_week or any(m and d not in allowed for d, m in enumerate(mask)):
            continue
        off = [d for d in range(7) if not mask[d]]
        if consecutive and off and not any({(a + i) % 7 for i in range(len(off))} == set(off)
                                           for a in off):
            continue
        week_masks.append(mask)
    out = set()
    for combo in itertools.product(week_masks, repeat=weeks):
        flat = [m for w in combo for m in w][:n_days]
        runs = "".join(map(str, flat)).split("0")
        if max(len(r) for r in runs) <= max_run and any(flat):
            out.add(tuple(d for d, m in enumerate(flat) if m))
    return out


@pytest.mark.parametrize(("days", "consecutive", "n_days", "max_run", "count"), [
    (5, True, 7, 6, 7), (5, False, 7, 6, 21), (5, True, 14, 6, 39), (5, True, 14, 10, 49),
    (3, False, 7, 6, 35), (5, True, 3, 6, None),
])
def test_tour_patterns_match_brute_force(days, consecutive, n_days, max_run, count):
    fam = ShiftFamily("f", 8, "08:00", "08:00", days_per_week=days,
                      consecutive_days_off=consecutive)
    grid = Grid(60, n_days * 24, 0)
    found = tour_patterns(fam, grid, max_run)
    assert len(found) == len(set(found))
    assert set(found) == brute_force_tours(days, consecutive, n_days, max_run)
    if count is not None:
        assert len(found) == count


def test_tour_patterns_respect_allowed_weekdays():
    fam = ShiftFamily("wk", 4, "10:00", "10:00", days_per_week=2, weekdays=("sat", "sun"))
    assert tour_patterns(fam, Grid(60, 7 * 24, 0), 6) == [(5, 6)]
    # A plan starting on Wednesday sees Saturday and Sunday as days 3 and 4.
    assert tour_patterns(fam, Grid(60, 7 * 24, 2), 6) == [(3, 4)]


def _stable(weeks: list[tuple[bool, ...]]) -> bool:
    """Days off move by at most one day (a rotation by -1, 0 or +1) week to week."""
    return all(b in (a, a[1:] + a[:1], a[-1:] + a[:-1]) for a, b in zip(weeks, weeks[1:]))


@pytest.mark.parametrize(("consecutive", "weeks"), [(True, 4), (False, 4), (True, 6)])
def test_long_horizons_keep_stable_days_off_without_the_pattern_explosion(consecutive, weeks):
    fam = ShiftFamily("f", 8, "08:00", "08:00", days_per_week=5,
                      consecutive_days_off=consecutive)
    n_days = 7 * weeks
    found = tour_patterns(fam, Grid(60, n_days * 24, 0), 6)
    week_masks = sorted({tuple(d in p for d in range(7))
                         for p in itertools.combinations(range(7), 5)})
    if consecutive:
        week_masks = [m for m in week_masks
                      if sum(m[d] and not m[(d + 1) % 7] for d in range(7)) == 1]
    # Independent enumeration: every stable sequence of weekly masks, runs <= 6.
    expected = set()
    for combo in itertools.product(week_masks, repeat=weeks):
        if not _stable(list(combo)):
            continue
        flat = [m for w in combo for m in w]
        if max(len(r) for r in "".join(map(str, map(int, flat))).split("0")) <= 6:
            expected.add(tuple(d for d, m in enumerate(flat) if m))
    assert set(found) == expected and len(found) == len(expected)
    # Linear in the weekly choices, not |weekly| ** weeks.
    assert len(found) <= len(week_masks) * 3 ** (weeks - 1) < len(week_masks) ** weeks


def test_four_week_plan_builds_and_solves_with_stable_days_off():
    from staffcast.scheduler.model import build_model
    from staffcast.scheduler.solve import solve

    ds = pd.date_range("2026-11-02", periods=28 * 24, freq="60min")
    hour = ds.hour.to_numpy()
    req = pd.DataFrame({"unique_id": pd.array(["q"] * len(ds), dtype="string"), "ds": ds,
                        "agents_required": np.where((hour >= 8) & (hour < 20), 6.0, 0.0)})
    rules = ScheduleRules(interval_minutes=60, families=(
        ShiftFamily("day", 8, "08:00", "12:00", days_per_week=5, cost_per_hour=10,
                    start_step_minutes=60),))
    model = build_model(req, rules)
    assert len(model.tours) < 7 * 3 ** 3 * 2  # two start bands at most
    result = solve(model, solver="highs", time_limit_s=60, gap=0.02)
    assert result.has_plan and result.shortfall_agent_hours == 0
    # Each tour works 5 days in each of the 4 weeks.
    per_week = result.tours.assign(week=(result.tours["date"] - ds[0]).dt.days // 7)
    assert (per_week.groupby(["tour_id", "week"]).size() == 5).all()
    assert per_week["week"].nunique() == 4

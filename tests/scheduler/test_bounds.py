"""The bound from branching on each family's tour total (`scheduler.bounds`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffcast.scheduler.bounds import tour_total_bound
from staffcast.scheduler.mip import Columns, run_mip, solve_lp
from staffcast.scheduler.model import build_model
from staffcast.scheduler.rules import ScheduleRules, ShareLimit, ShiftFamily
from staffcast.scheduler.solve import _tour_groups
from tests.scheduler.test_solve import MONDAY, frame


def _week(daily: list[list[float]]) -> pd.DataFrame:
    """Agents required per hour 09:00-17:00, one list of eight per day of a week."""
    required = np.zeros(7 * 24)
    for day, hours in enumerate(daily):
        required[day * 24 + 9:day * 24 + 9 + len(hours)] = hours
    return frame(required)


def _rules(part_time_share: float = 1.0) -> ScheduleRules:
    return ScheduleRules(interval_minutes=60, shortfall_penalty=1000, min_rest_hours=11,
                         families=(
        ShiftFamily("ft", 8, "09:00", "09:00", days_per_week=5, cost_per_hour=20),
        ShiftFamily("pt", 4, "09:00", "13:00", contract="part_time", days_per_week=5,
                    consecutive_days_off=True, cost_per_hour=18)),
        share_limits=(ShareLimit(("pt",), max_share=part_time_share),))


def _bound(model, seconds: float = 20.0) -> tuple[float, float]:
    cols = Columns.of(model.problem)
    return (tour_total_bound(cols, _tour_groups(model, cols), seconds),
            solve_lp(cols, 20).objective)


def test_one_agent_every_day_needs_two_whole_tours():
    # 09:00-17:00 every day of the week by 8-hour shifts in 5-day tours: the LP buys 1.4
    # tours (7 shifts, 7 x 160 = 1,120), every plan 2 tours (10 shifts, 1,600). The totals
    # made whole give exactly that.
    model = build_model(_week([[1.0] * 8] * 7),
                        ScheduleRules(interval_minutes=60, shortfall_penalty=1000, families=(
                            ShiftFamily("ft", 8, "09:00", "09:00", days_per_week=5,
                                        cost_per_hour=20),)))
    bound, lp = _bound(model)
    assert lp == pytest.approx(1120)
    assert bound == pytest.approx(1600)


def test_a_bound_that_runs_out_of_time_is_still_a_bound():
    model = build_model(_week([[1.0] * 8] * 7), _rules())
    cols = Columns.of(model.problem)
    lp = solve_lp(cols, 20).objective
    assert tour_total_bound(cols, _tour_groups(model, cols), 20, max_nodes=0) == (
        pytest.approx(lp))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(0, 3), min_size=8, max_size=8), min_size=7, max_size=7),
       st.sampled_from([1.0, 0.3]))
def test_the_bound_never_passes_the_best_plan(daily, share):
    model = build_model(_week([[float(v) for v in day] for day in daily]), _rules(share))
    cols = Columns.of(model.problem)
    best = run_mip(cols, lower=cols.lower, upper=cols.upper, start=None, time_limit_s=30,
                   gap=0.0)
    assert best.status == "optimal"
    bound, lp = _bound(model)
    assert lp - 1e-6 <= bound <= best.objective + 1e-6 * max(1.0, abs(best.objective))


def test_a_plan_the_solver_leaves_unproven_gets_the_bound(monkeypatch):
    # The solver's own steps held to their rounding (no node explored, no bound of their
    # own): the plan of 2 tours is 28.6% above the LP bound of 1.4, and the tour totals
    # prove it best, so the plan is reported within the gap of the best bound.
    from staffcast.scheduler import solve as solve_module

    real = solve_module._run_highs

    def no_search(model, cols, **kwargs):
        out = real(model, cols, **{**kwargs, "max_nodes": 0})
        return dataclasses.replace(out, bound=None, status="stopped")

    limits: list[float] = []
    real_bound = solve_module.tour_total_bound

    def timed(cols, groups, time_limit_s, **kwargs):
        limits.append(time_limit_s)
        return real_bound(cols, groups, time_limit_s, **kwargs)

    monkeypatch.setattr(solve_module, "_run_highs", no_search)
    monkeypatch.setattr(solve_module, "tour_total_bound", timed)
    model = build_model(_week([[1.0] * 8] * 7),
                        ScheduleRules(interval_minutes=60, shortfall_penalty=1000, families=(
                            ShiftFamily("ft", 8, "09:00", "09:00", days_per_week=5,
                                        cost_per_hour=20),)))
    result = solve_module.solve(model, solver="highs", time_limit_s=60, gap=0.005)
    # A plan found in about a second is not held back for the rest of the minute.
    assert len(limits) == 1 and limits[0] <= solve_module.BOUND_MIN_S + 5
    assert result.objective == pytest.approx(1600)
    assert result.lp_bound == pytest.approx(1120)
    assert result.bound == pytest.approx(1600)
    assert result.status == "optimal" and result.quality == "good"
    assert "tours per family whole" in result.message

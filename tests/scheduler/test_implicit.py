"""The break twin (`scheduler.implicit`): break counts per start minute with FIFO rows
instead of one variable per shift and offset. Checked against the explicit model: the
same LP optimum, and plans carried both ways keep their cost and every row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffcast.scheduler.implicit import break_twin, explicit_plan, twin_plan
from staffcast.scheduler.mip import Columns, run_mip, solve_lp
from staffcast.scheduler.model import build_model
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.scheduler.solve import _complete
from tests.scheduler.test_solve import MONDAY


def two_days(cyclic: bool) -> tuple:
    """Two days of a 24-hour queue on a 30-minute grid; 8-hour shifts every hour with a
    15-minute break and a 30-minute lunch (cover counted per quarter-hour), so late
    shifts' windows cross the end of the plan."""
    ds = pd.date_range(MONDAY, periods=2 * 48, freq="30min")
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60
    need = np.round(2 + 4 * np.exp(-((hour - 13) / 4) ** 2))
    req = pd.DataFrame({"unique_id": pd.array(["chat"] * len(ds), dtype="string"), "ds": ds,
                        "agents_required": need})
    rules = ScheduleRules(interval_minutes=30, cyclic=cyclic, shortfall_penalty=500,
                          families=(ShiftFamily(
                              "day", 8, "00:00", "23:00", start_step_minutes=60,
                              cost_per_hour=10, breaks=(
                                  BreakRule("break", 15, 60, 150, paid=True),
                                  BreakRule("lunch", 30, 210, 300, kind="lunch"))),))
    model = build_model(req, rules)
    return model, Columns.of(model.problem), break_twin(model)


@pytest.mark.parametrize("cyclic", [False, True])
def test_the_twin_has_the_models_lp_optimum(cyclic):
    model, cols, twin = two_days(cyclic)
    assert twin is not None
    assert twin.cols.integer.sum() < cols.integer.sum()
    assert solve_lp(twin.cols, 30).objective == pytest.approx(solve_lp(cols, 30).objective,
                                                              rel=1e-9)


CASES = {cyclic: two_days(cyclic) for cyclic in (False, True)}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cyclic=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_plans_carried_both_ways_keep_their_cost_and_every_row(cyclic, seed):
    # A random plan of the model (shifts, and each shift's breaks at random allowed
    # offsets) is the same plan of the twin, and back: the same cost, no row broken.
    model, cols, twin = CASES[cyclic]
    rng = np.random.default_rng(seed)
    position = {n: i for i, n in enumerate(cols.names)}
    x = np.zeros(cols.n_cols)
    for key, var in model.shifts.items():
        n = int(rng.integers(0, 3))
        x[position[var.name]] = n
        for per_offset in model.breaks[key].values():
            offsets = list(per_offset)
            for chosen in rng.choice(len(offsets), size=n):
                x[position[per_offset[offsets[chosen]].name]] += 1
    plan = _complete(cols, x, 30)
    assert plan is not None and cols.violation(plan) < 1e-6
    as_twin = _complete(twin.cols, twin_plan(twin, model, cols, plan), 30)
    assert as_twin is not None and twin.cols.violation(as_twin) < 1e-6
    assert twin.cols.objective(as_twin) == pytest.approx(cols.objective(plan), rel=1e-9)
    back = _complete(cols, explicit_plan(twin, model, cols, as_twin), 30)
    assert back is not None and cols.violation(back) < 1e-6
    assert cols.objective(back) == pytest.approx(cols.objective(plan), rel=1e-9)


@pytest.mark.parametrize("cyclic", [False, True])
def test_the_twins_optimum_is_a_plan_of_the_model_at_the_same_cost(cyclic):
    model, cols, twin = CASES[cyclic]
    out = run_mip(twin.cols, lower=twin.cols.lower, upper=twin.cols.upper, start=None,
                  time_limit_s=30, gap=0.0, max_nodes=20000)
    assert out.x is not None
    back = _complete(cols, explicit_plan(twin, model, cols, out.x), 30)
    assert back is not None and cols.violation(back) < 1e-6
    assert cols.objective(back) == pytest.approx(twin.cols.objective(out.x), rel=1e-9)

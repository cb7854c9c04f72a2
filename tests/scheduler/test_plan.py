"""Reading and measuring the written plan: quarter-hour coverage, shortfall, cyclic wrap,
the objective recomputed from the shifts, and several breaks per shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
import pytest

from staffcast.scheduler.model import build_model
from staffcast.scheduler.plan import gap_to_bound, written_plan
from staffcast.scheduler.roster import activities_frame, roster_frame
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.scheduler.solve import solve

T = pd.Timestamp
MONDAY = T("2026-11-09")


def requirement(start: str, periods: int, agents, minutes=30, queue="q") -> pd.DataFrame:
    ds = pd.date_range(start, periods=periods, freq=f"{minutes}min")
    return pd.DataFrame({"unique_id": queue, "ds": ds,
                         "agents_required": np.broadcast_to(np.asarray(agents, float), periods)})


def shifts(specs, queue="q", cost=40.0, paid=4.0) -> pd.DataFrame:
    """Rows from (start, hours, {pause column: (start, minutes)})."""
    rows = []
    for start, hours, pauses in specs:
        row = {"queue": queue, "shift_start": T(start),
               "shift_end": T(start) + pd.Timedelta(hours=hours), "paid_hours": paid,
               "cost": cost, "break_start": pd.NaT, "break_end": pd.NaT,
               "lunch_start": pd.NaT, "lunch_end": pd.NaT}
        for name, (at, minutes) in pauses.items():
            row[f"{name}_start"] = T(at)
            row[f"{name}_end"] = T(at) + pd.Timedelta(minutes=minutes)
        rows.append(row)
    return pd.DataFrame(rows)


RULES = ScheduleRules(interval_minutes=30, shortfall_penalty=100, families=(
    ShiftFamily("day", 4, "08:00", "08:00", cost_per_hour=10,
                breaks=(BreakRule("b", 15, 60, 120, paid=True),)),))


@pytest.mark.parametrize("kind", ["break", "lunch"])
def test_a_stack_under_covering_a_quarter_hour_is_short(kind):
    # Three agents needed 08:00-12:00; four on shift. Two take their pause in the same
    # quarter-hour 09:00-09:15: the 09:00 half-hour averages exactly 3 at work (4 - 2 x 0.5)
    # but 09:00-09:15 has only 2, so it is one agent short for a quarter of an hour.
    model = build_model(requirement("2026-11-09 08:00", 8, 3.0), RULES)
    plan = shifts([("2026-11-09 08:00", 4, {kind: ("2026-11-09 09:00", 15)}),
                   ("2026-11-09 08:00", 4, {kind: ("2026-11-09 09:00", 15)}),
                   ("2026-11-09 08:00", 4, {kind: ("2026-11-09 10:00", 15)}),
                   ("2026-11-09 08:00", 4, {kind: ("2026-11-09 10:15", 15)})])
    written = written_plan(model, plan)
    cov = written.coverage.set_index("ds")
    assert cov.loc[T("2026-11-09 09:00"), "scheduled_mean"] == 3.0
    assert cov.loc[T("2026-11-09 09:00"), "scheduled"] == 2.0
    assert cov.loc[T("2026-11-09 09:00"), "shortfall"] == 1.0
    assert cov.loc[T("2026-11-09 09:00"), "shortfall_agent_hours"] == 0.25
    # One pause a quarter-hour in 10:00: never fewer than 3, nothing short.
    assert cov.loc[T("2026-11-09 10:00"), ["scheduled", "shortfall"]].tolist() == [3.0, 0.0]
    assert written.shortfall_agent_hours == 0.25
    # objective = labour (4 x 40) + penalty 100 x 0.25 agent-hours / 0.5 h per interval
    assert written.objective == pytest.approx(160 + 100 * 0.5)


def test_shortfall_is_required_minus_scheduled_never_negative():
    # Required 1 then 5 per hour; 3 agents at work all the time.
    rules = ScheduleRules(interval_minutes=60, shortfall_penalty=10, families=(
        ShiftFamily("x", 2, "08:00", "08:00"),))
    model = build_model(requirement("2026-11-09 08:00", 2, [1.0, 5.0], minutes=60), rules)
    written = written_plan(model, shifts([("2026-11-09 08:00", 2, {})] * 3, cost=2.0, paid=2))
    cov = written.coverage
    assert cov["scheduled"].tolist() == [3.0, 3.0]
    assert cov["shortfall"].tolist() == [0.0, 2.0]
    assert cov["shortfall_agent_hours"].tolist() == [0.0, 2.0]
    assert written.objective == pytest.approx(3 * 2.0 + 10 * 2.0)


@pytest.mark.parametrize("cyclic", [True, False])
def test_cyclic_wrap_of_the_roster_matches_the_model(cyclic):
    # A week needing one agent every night 00:00-06:00; one Sunday 22:00-06:00 shift.
    ds = pd.date_range(MONDAY, periods=7 * 24, freq="h")
    req = pd.DataFrame({"unique_id": "q", "ds": ds,
                        "agents_required": np.where(ds.hour < 6, 1.0, 0.0)})
    rules = ScheduleRules(interval_minutes=60, cyclic=cyclic, families=(
        ShiftFamily("night", 8, "22:00", "22:00"),))
    model = build_model(req, rules)
    for var in model.problem.variables():
        var.varValue = 0
    key = ("q", "night", 6, 22 * 60)
    model.shifts[key].varValue = 1
    # The model counts cover per slot of its own grid (half-hours here: the family may
    # start on the half hour); the interval's mean is what the written plan reports.
    per = rules.interval_minutes // model.grid.interval_minutes
    counted = np.array([pulp.value(model.coverage.get(("q", i), 0)) or 0.0
                        for i in range(len(ds) * per)], dtype=float).reshape(-1, per).mean(axis=1)
    written = written_plan(model, shifts([("2026-11-15 22:00", 8, {})]))
    np.testing.assert_allclose(written.coverage["scheduled_mean"], counted)
    monday_early = written.coverage["ds"] < MONDAY + pd.Timedelta(hours=6)
    # Cyclic: the roster repeats, so this Sunday night covers Monday morning; otherwise no
    # shift before the plan covers it.
    assert (written.coverage.loc[monday_early, "scheduled"] == (1.0 if cyclic else 0.0)).all()
    sunday_late = written.coverage["ds"] >= T("2026-11-15 22:00")
    assert (written.coverage.loc[sunday_late, "scheduled"] == 1.0).all()


def test_gap_is_measured_from_the_written_objective():
    assert gap_to_bound(110.0, 99.0) == pytest.approx(0.1)
    assert gap_to_bound(99.0, 100.0) == 0.0
    assert gap_to_bound(5.0, None) is None


def three_pause_rules() -> ScheduleRules:
    return ScheduleRules(interval_minutes=30, shortfall_penalty=500, families=(
        ShiftFamily("ft", 8, "07:00", "09:00", cost_per_hour=20, breaks=(
            BreakRule("morning", 15, 60, 120, paid=True),
            BreakRule("lunch", 60, 210, 270, kind="lunch"),
            BreakRule("afternoon", 15, 360, 420, paid=True))),))


def test_several_breaks_are_solved_written_and_counted():
    req = requirement("2026-11-09 07:00", 26, 6.0)
    result = solve(build_model(req, three_pause_rules()), solver="highs", time_limit_s=20)
    assert result.has_plan
    tours = result.tours
    assert {"break2_start", "break2_end"} <= set(tours.columns)
    fam = three_pause_rules().families[0]
    for col, rule in (("break", fam.breaks[0]), ("lunch", fam.breaks[1]),
                      ("break2", fam.breaks[2])):
        offset = (tours[f"{col}_start"] - tours["shift_start"]) / pd.Timedelta(minutes=1)
        assert offset.between(rule.earliest_offset_minutes, rule.latest_offset_minutes).all()
        assert ((tours[f"{col}_end"] - tours[f"{col}_start"])
                == pd.Timedelta(minutes=rule.length_minutes)).all()
    # Coverage counts every pause: recount minute by minute from the tours.
    minutes = pd.date_range("2026-11-09 07:00", periods=26 * 30, freq="min")
    at_work = np.zeros(len(minutes))
    for row in tours.itertuples():
        at_work += (minutes >= row.shift_start) & (minutes < row.shift_end)
        for col in ("break", "break2", "lunch"):
            at_work -= ((minutes >= getattr(row, f"{col}_start"))
                        & (minutes < getattr(row, f"{col}_end")))
    np.testing.assert_allclose(result.coverage["scheduled"],
                               at_work.reshape(26, 30).min(axis=1))
    # Every pause is an activity of its own.
    roster = roster_frame(tours.assign(agent_id=tours["tour_id"]))
    acts = activities_frame(roster, [MONDAY])
    per_agent = acts[acts["activity"] != "OFF"].groupby("agent_id")["activity"]
    assert (per_agent.apply(lambda a: (a == "BREAK").sum()) == 2).all()
    assert (per_agent.apply(lambda a: (a == "LUNCH").sum()) == 1).all()

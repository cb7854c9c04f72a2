"""`run_schedule`: the files and the summary describe the named roster as written."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.pipeline import run_schedule

RATE = {"day8": 10.0, "eve4": 12.0}
RULES = ScheduleRules(interval_minutes=60, shortfall_penalty=100, families=(
    ShiftFamily("day8", 8, "07:00", "10:00", start_step_minutes=60, cost_per_hour=RATE["day8"],
                days_per_week=5, breaks=(BreakRule("lunch", 60, 180, 300, kind="lunch"),)),
    ShiftFamily("eve4", 4, "14:00", "18:00", contract="part_time", start_step_minutes=60,
                cost_per_hour=RATE["eve4"]),
))


def requirement() -> pd.DataFrame:
    ds = pd.date_range("2026-11-09", periods=7 * 24, freq="h")
    need = [(2.0 if 9 <= d.hour < 17 else 1.0) if 8 <= d.hour < 21 else 0.0 for d in ds]
    return pd.DataFrame({"unique_id": "presales", "ds": ds, "agents_required": need})


def run(tmp_path, agents=None):
    out = tmp_path / "out"
    result = run_schedule(requirement(), RULES, out, agents=agents, agents_source="test",
                          solver="highs", time_limit_s=20, gap=0.0)
    summary = json.loads((out / "summary.json").read_text())
    roster = pd.read_csv(out / "roster.csv", keep_default_na=False)
    coverage = pd.read_csv(out / "coverage.csv")
    return result, summary, roster, coverage


def objective_from_files(roster: pd.DataFrame, coverage: pd.DataFrame) -> float:
    """Labour of the written shifts (paid hours x the family's flat rate; the 8 h shifts are
    day8, the 4 h ones eve4) + penalty x agent-hours short / 1 h interval."""
    rate = roster["paid_hours"].map({8: RATE["day8"], 4: RATE["eve4"]})
    return float((roster["paid_hours"] * rate).sum()
                 + RULES.shortfall_penalty * coverage["shortfall_agent_hours"].sum() / 1.0)


def test_objective_and_gap_are_recomputed_from_the_written_files(tmp_path):
    _, summary, roster, coverage = run(tmp_path)
    assert summary["objective"] == pytest.approx(objective_from_files(roster, coverage))
    assert summary["bound"] >= summary["lp_bound"]
    assert summary["mip_gap"] == pytest.approx(
        max(0.0, (summary["objective"] - summary["bound"]) / summary["objective"]))
    assert summary["shortfall_agent_hours"] == pytest.approx(
        coverage["shortfall_agent_hours"].sum())
    assert (coverage["shortfall"] == (coverage["required"] - coverage["scheduled"]).clip(
        lower=0)).all()


def test_a_roster_nobody_can_work_reports_the_whole_requirement_short(tmp_path):
    week = frozenset(dt.date(2026, 11, 9) + dt.timedelta(days=d) for d in range(7))
    agents = tuple(Agent(f"a{i}", "full_time", 0, 40, unavailable_dates=week) for i in range(3))
    run_result, summary, roster, coverage = run(tmp_path, agents)
    # The agents shape the plan (issue 11): nobody can work, so no tour is planned at all.
    assert roster.empty and summary["unassigned_tours"] == 0 and summary["tours"] == 0
    assert (coverage["scheduled"] == 0).all()
    assert (coverage["shortfall"] == coverage["required"]).all()
    required_hours = requirement()["agents_required"].sum()
    assert summary["shortfall_agent_hours"] == pytest.approx(required_hours)
    assert summary["plan_shortfall_agent_hours"] == pytest.approx(required_hours)
    assert summary["labour_cost"] == 0 and summary["paid_hours"] == 0
    assert summary["objective"] == pytest.approx(RULES.shortfall_penalty * required_hours)
    assert "the named agents cap the plan" in summary["message"]
    pd.testing.assert_series_equal(run_result.coverage["shortfall"].reset_index(drop=True),
                                   coverage["shortfall"], check_names=False)


def test_a_partly_staffed_roster_is_measured_on_its_own_shifts(tmp_path):
    agents = (Agent("ana", "full_time", 0, 40), Agent("bo", "part_time", 0, 20))
    _, summary, roster, coverage = run(tmp_path, agents)
    assert summary["unassigned_tours"] > 0
    assert summary["objective"] == pytest.approx(objective_from_files(roster, coverage))
    assert summary["paid_hours"] == pytest.approx(roster["paid_hours"].sum())
    assert summary["shortfall_agent_hours"] > summary["plan_shortfall_agent_hours"]
    assert (f"the named roster, without the {summary['unassigned_tours']} tour(s) nobody "
            "could take") in summary["message"]

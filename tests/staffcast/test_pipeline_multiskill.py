"""`run_schedule` with `multi_skill`: roster.csv carries skill sets, and coverage.csv agrees
with a cover recomputed independently from activities.csv and the agents' skills."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.config import ConfigError, load_config
from staffcast.pipeline import run_schedule

MONDAY = pd.Timestamp("2026-11-09")
RULES = ScheduleRules(interval_minutes=30, shortfall_penalty=100, multi_skill=True, families=(
    ShiftFamily("day8", 8, "08:00", "10:00", start_step_minutes=30,
                breaks=(BreakRule("coffee", 15, 120, 240),)),))
SKILLS = {"ana": "a;b", "bo": "a;b", "cy": "a", "di": "b", "ed": "a;b", "fay": ""}


def requirement() -> pd.DataFrame:
    ds = pd.date_range(MONDAY + pd.Timedelta(hours=8), periods=20, freq="30min")
    hour = ds.hour + ds.minute / 60
    return pd.DataFrame({
        "unique_id": np.repeat(["a", "b"], len(ds)), "ds": np.tile(ds, 2),
        "agents_required": np.concatenate([np.where(hour < 13, 2.0, 0.0),
                                           np.where(hour >= 11, 3.0, 0.0)])})


def staff() -> tuple[Agent, ...]:
    away = {"ed": frozenset({MONDAY.date()})}
    return tuple(Agent(name, "full_time", 0, 40,
                       frozenset(q for q in skills.split(";") if q), away.get(name, frozenset()))
                 for name, skills in SKILLS.items())


def independent_shortfall(activities: pd.DataFrame, req: pd.DataFrame, step_min: int) -> float:
    """Agent-hours short, from WORK segments and the agents' skills alone: per step_min
    slot, the most requirement the agents at work can cover (an LP over agent -> queue
    pairs they are skilled for), subtracted from what is required."""
    work = activities[activities["activity"] == "WORK"]
    queues = ["a", "b"]
    total = 0.0
    for _, row in req.drop_duplicates("ds").iterrows():
        for part in range(30 // step_min):
            t0 = pd.Timestamp(row["ds"]) + pd.Timedelta(minutes=part * step_min)
            at = work[(pd.to_datetime(work["start"]) <= t0) & (pd.to_datetime(work["end"]) > t0)]
            need = {q: float(req[(req["unique_id"] == q) & (req["ds"] == row["ds"])]
                             ["agents_required"].iloc[0]) for q in queues}
            pairs = [(a, q) for a in at["agent_id"] for q in queues
                     if not SKILLS[a] or q in SKILLS[a].split(";")]
            best = 0.0
            if pairs:
                agents_at = list(at["agent_id"])
                a_ub = [[1.0 if p[0] == a else 0.0 for p in pairs] for a in agents_at]
                a_ub += [[1.0 if p[1] == q else 0.0 for p in pairs] for q in queues]
                b_ub = [1.0] * len(agents_at) + [need[q] for q in queues]
                best = -linprog(-np.ones(len(pairs)), A_ub=a_ub, b_ub=b_ub, bounds=(0, 1),
                                method="highs").fun
            total += (sum(need.values()) - best) * step_min / 60
    return total


def test_pooled_roster_coverage_agrees_with_activities_and_skills(tmp_path):
    out = tmp_path / "out"
    run = run_schedule(requirement(), RULES, out, agents=staff(), agents_source="test",
                       solver="highs", time_limit_s=30, gap=0.0)
    assert run.has_plan
    roster = pd.read_csv(out / "roster.csv", keep_default_na=False)
    activities = pd.read_csv(out / "activities.csv")
    coverage = pd.read_csv(out / "coverage.csv")
    summary = json.loads((out / "summary.json").read_text())
    # Each row's queue is its agent's own skill set, sorted; fay (blank) serves a and b.
    assert (roster["queue"] == roster["agent_id"].map(
        {k: v or "a;b" for k, v in SKILLS.items()})).all()
    assert "ed" not in set(roster["agent_id"])  # unavailable on the only day
    assert summary["skill_sets"] == ["a", "b", "a;b"]
    short = independent_shortfall(activities, requirement(), 15)
    assert summary["shortfall_agent_hours"] == pytest.approx(short, abs=1e-6)
    assert coverage["shortfall_agent_hours"].sum() == pytest.approx(short, abs=1e-6)
    # a needs 2 x 5 h, b 3 x 7 h: 31 agent-hours; five agents of 8 h each can reach most.
    assert short < 31


def test_multi_skill_is_a_typed_config_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("schedule:\n  multi_skill: true\n  families:\n"
                    "    - {name: d, paid_hours: 8, earliest_start: '08:00', "
                    "latest_start: '08:00'}\n")
    assert load_config(path).schedule.multi_skill is True
    path.write_text(path.read_text().replace("true", "sometimes"))
    with pytest.raises(ConfigError, match="multi_skill"):
        load_config(path)


def test_rules_without_agents_refuse_multi_skill(tmp_path):
    from staffcast.scheduler.errors import SchedulerError
    with pytest.raises(SchedulerError, match="multi_skill needs the agents file"):
        run_schedule(requirement(), dataclasses.replace(RULES), tmp_path / "o", agents=None,
                     solver="highs", time_limit_s=5, gap=0.0)


def test_cli_multi_skill_flag_without_agents_is_one_line(tmp_path):
    from click.testing import CliRunner

    from staffcast.cli import main
    from tests.staffcast.test_cli_schedule import CONFIG
    from tests.staffcast.test_cli_schedule import requirement as one_queue

    one_queue().to_csv(tmp_path / "req.csv", index=False)
    (tmp_path / "shop.yaml").write_text(CONFIG)
    result = CliRunner().invoke(main, [
        "schedule", "--requirements", str(tmp_path / "req.csv"), "--config",
        str(tmp_path / "shop.yaml"), "--out-dir", str(tmp_path / "out"), "--multi-skill",
        "--no-exports"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        "Error: schedule.multi_skill needs the agents file")

"""A labour-rule preset in a plan: agents' weekly hours capped by the preset, and the
named roster's overtime and its pay recomputed from the roster by hand."""

import io

import numpy as np
import pandas as pd
import pytest

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.rules import ScheduleRules, ShiftFamily
from staffcast.pipeline import solve_schedule

MONDAY = pd.Timestamp("2026-11-09")


def _week() -> pd.DataFrame:
    # Two agents 08:00-17:00 and one more 17:00-21:00, every day.
    ds = pd.date_range(MONDAY, periods=7 * 24, freq="60min")
    hour = ds.hour.to_numpy()
    need = np.where((hour >= 8) & (hour < 17), 2.0, np.where((hour >= 17) & (hour < 21),
                                                            1.0, 0.0))
    return pd.DataFrame({"unique_id": pd.array(["q"] * len(ds), dtype="string"), "ds": ds,
                         "agents_required": need})


def _rules(labour_rules=None) -> ScheduleRules:
    # 9 h x 5 days = 45 h, inside cn_standard's 40 h + 8.3 h of overtime a week; a 4 h
    # evening shift on top would take an agent to 49 h.
    return ScheduleRules(interval_minutes=60, labour_rules=labour_rules,
                         shortfall_penalty=500, families=(
                             ShiftFamily("day", 9, "08:00", "08:00", days_per_week=5,
                                         cost_per_hour=10, start_step_minutes=60),
                             ShiftFamily("eve", 4, "17:00", "17:00", cost_per_hour=10,
                                         start_step_minutes=60)))


def test_cn_standard_caps_weekly_hours_and_reports_overtime():
    agents = tuple(Agent(f"a{i}", "full_time", 0, 60) for i in range(3))
    free = solve_schedule(_week(), _rules(), agents=agents, solver="highs",
                          time_limit_s=30, gap=0.01)
    result = solve_schedule(_week(), _rules("cn_standard"), agents=agents,
                            agents_source="test", solver="highs", time_limit_s=30, gap=0.01)
    assert free.has_plan and result.has_plan
    limit = 40 + 36 * 12 / 52
    assert free.roster.groupby("agent_id")["paid_hours"].sum().max() > limit  # cap binds
    hours = result.roster.groupby("agent_id")["paid_hours"].sum()
    assert (hours <= limit + 1e-9).all()
    assert result.summary["labour_rules"] == "cn_standard"
    compliance = pd.read_csv(io.StringIO(result.files()["labour_compliance.csv"]))
    # By hand: every hour worked on Saturday/Sunday is rest-day overtime at 2x, weekday
    # overtime (beyond 8 h a day, or 40 h a week) at 1.5x.
    roster = result.roster.assign(weekday=result.roster["date"].dt.day_of_week)
    weekend = roster[roster["weekday"] >= 5].groupby("agent_id")["paid_hours"].sum()
    daily = roster[roster["weekday"] < 5].groupby(["agent_id", "date"])["paid_hours"].sum()
    weekday_ot = (daily - 8).clip(lower=0).groupby(level="agent_id").sum()
    by_agent = compliance.set_index("agent_id")
    for agent in hours.index:
        rest = float(weekend.get(agent, 0.0))
        assert by_agent.loc[agent, "overtime_rest"] == pytest.approx(rest)
        assert by_agent.loc[agent, "overtime_work"] >= float(weekday_ot.get(agent, 0.0)) - 1e-9
        assert by_agent.loc[agent, "overtime_pay_hours"] == pytest.approx(
            2.0 * rest + 1.5 * by_agent.loc[agent, "overtime_work"])
    assert result.summary["overtime_pay_hours"] == pytest.approx(
        compliance["overtime_pay_hours"].sum(), abs=1e-3)


def test_no_preset_no_compliance_file():
    rules = ScheduleRules(interval_minutes=60, families=(
        ShiftFamily("day", 8, "08:00", "08:00", days_per_week=5, cost_per_hour=10,
                    start_step_minutes=60),))
    agents = tuple(Agent(f"a{i}", "full_time", 0, 40) for i in range(3))
    result = solve_schedule(_week(), rules, agents=agents, solver="highs",
                            time_limit_s=30, gap=0.01)
    assert "labour_compliance.csv" not in result.files()
    assert "labour_rules" not in result.summary

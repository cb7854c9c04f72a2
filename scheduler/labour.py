"""China's labour-rule presets for the interval scheduler: what a shift family may be and
whether a named roster keeps the rules, with its overtime and overtime pay.

- `cn_standard` (标准工时制, Labour Law art. 36, 38, 41, 44): 8 h a day, 40 h a week, at
  least one rest day a week; overtime at most 3 h a day and 36 h a month, paid 1.5x on
  working days, 2x on rest days, 3x on statutory holidays.
- `cn_comprehensive` (综合计算工时制): hours are averaged over a period (`period_weeks`,
  4 here): the period's total may reach 40 h x its weeks, days may be long (up to
  `max_day_hours`); hours beyond the period total are overtime at 1.5x, hours on a
  statutory holiday 3x; the 36 h a month cap still holds.

Hours are paid hours of a shift; days are calendar dates of the shift's start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from .errors import SchedulerError

__all__ = ["LabourRules", "PRESETS", "preset", "family_violations", "roster_compliance",
           "cap_agents"]


@dataclass(frozen=True)
class LabourRules:
    """One preset. `max_day_hours` is the longest paid day including overtime;
    `period_weeks` 1 means weekly totals (standard), more means averaged (comprehensive)."""

    name: str
    day_hours: float
    week_hours: float
    max_day_hours: float
    period_weeks: int
    min_rest_days_per_week: int
    overtime_day_hours: float
    overtime_month_hours: float
    weekday_multiplier: float
    rest_day_multiplier: float
    holiday_multiplier: float

    @property
    def period_hours(self) -> float:
        """Hours a period holds before overtime starts."""
        return self.week_hours * self.period_weeks

    @property
    def max_week_hours(self) -> float:
        """A week's hours with the overtime a month allows spread over its weeks
        (40 + 36 x 12 / 52 = 48.3 h); an agent's weekly limit under the preset."""
        return self.week_hours + self.overtime_month_hours * 12 / 52


PRESETS: dict[str, LabourRules] = {
    "cn_standard": LabourRules("cn_standard", day_hours=8, week_hours=40, max_day_hours=11,
                               period_weeks=1, min_rest_days_per_week=1, overtime_day_hours=3,
                               overtime_month_hours=36, weekday_multiplier=1.5,
                               rest_day_multiplier=2.0, holiday_multiplier=3.0),
    "cn_comprehensive": LabourRules("cn_comprehensive", day_hours=8, week_hours=40,
                                    max_day_hours=12, period_weeks=4,
                                    min_rest_days_per_week=0, overtime_day_hours=math.inf,
                                    overtime_month_hours=36, weekday_multiplier=1.5,
                                    rest_day_multiplier=1.5, holiday_multiplier=3.0),
}


def preset(name: str) -> LabourRules:
    """The preset called `name`; an unknown name lists the valid ones."""
    if name not in PRESETS:
        raise SchedulerError(f"labour_rules must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]


def family_violations(families: Iterable, rules: LabourRules,
                      max_consecutive_days: int) -> list[str]:
    """One line per way the shift families (staffcast.scheduler.rules.ShiftFamily) break `rules`:
    a shift longer than the longest lawful day, a weekly tour over the week's hours plus the
    overtime a month allows per week, or no rest day in a week."""
    out = []
    weekly_overtime = rules.max_week_hours - rules.week_hours
    for fam in families:
        if fam.paid_hours > rules.max_day_hours:
            out.append(f"family {fam.name!r}: paid_hours {fam.paid_hours:g} exceeds the "
                       f"{rules.max_day_hours:g} h a day {rules.name} allows")
        if fam.days_per_week is not None:
            week = fam.days_per_week * fam.paid_hours
            if week > rules.week_hours + weekly_overtime + 1e-9:
                out.append(f"family {fam.name!r}: {fam.days_per_week} days x "
                           f"{fam.paid_hours:g} h = {week:g} h a week exceeds {rules.name}'s "
                           f"{rules.week_hours:g} h plus {weekly_overtime:.1f} h of overtime "
                           f"({rules.overtime_month_hours:g} h a month)")
    if rules.min_rest_days_per_week and max_consecutive_days > 7 - rules.min_rest_days_per_week:
        out.append(f"max_consecutive_days {max_consecutive_days} leaves no rest day in a week; "
                   f"{rules.name} needs at most {7 - rules.min_rest_days_per_week}")
    return out


def _kind(day: pd.Timestamp, day_kinds: Mapping | None) -> str:
    if day_kinds is not None and day in day_kinds:
        return str(day_kinds[day])
    return "work" if day.day_of_week < 5 else "rest"


def roster_compliance(roster: pd.DataFrame, rules: LabourRules,
                      day_kinds: Mapping | None = None) -> pd.DataFrame:
    """Each agent's hours, overtime and overtime pay factor per period, and the rules it
    breaks.

    roster: ``agent_id, date, paid_hours`` (one row per shift; `date` its start date).
    day_kinds: date -> 'work' | 'rest' | 'holiday' (default: Monday to Friday work, the
        weekend rest; pass China's calendar, e.g. `staffcast.forecasting.weekly.day_kinds`, for adjusted
        workdays and statutory holidays).
    Returns ``agent_id, period_start, days, hours, regular_hours, overtime_work,
    overtime_rest, overtime_holiday, overtime_pay_hours, violations`` where
    overtime_pay_hours is the overtime weighted by its multiplier (hours paid) and
    violations is '' or '; '-joined rule breaches. Periods are whole weeks from the roster's
    first Monday (`period_weeks` of them).
    """
    needed = [c for c in ("agent_id", "date", "paid_hours") if c not in roster.columns]
    if needed:
        raise SchedulerError(f"roster: missing column {needed[0]!r}")
    frame = roster[["agent_id", "date", "paid_hours"]].copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    daily = frame.groupby(["agent_id", "date"], as_index=False)["paid_hours"].sum()
    first = daily["date"].min() - pd.Timedelta(days=int(daily["date"].min().day_of_week))
    daily["week"] = (daily["date"] - first).dt.days // 7
    daily["period"] = daily["week"] // rules.period_weeks
    daily["kind"] = [_kind(d, day_kinds) for d in daily["date"]]
    hours = daily["paid_hours"].to_numpy()
    kind = daily["kind"].to_numpy()
    daily["ot_rest"] = (kind == "rest") * hours
    daily["ot_holiday"] = (kind == "holiday") * hours
    if rules.period_weeks == 1:
        daily["ot_work"] = (kind == "work") * (hours - rules.day_hours).clip(min=0)
    else:
        daily["ot_work"] = 0.0
    rows = []
    for (agent, period), group in daily.groupby(["agent_id", "period"], sort=True):
        total = float(group["paid_hours"].sum())
        ot_work = float(group["ot_work"].sum())
        ot_rest = float(group["ot_rest"].sum())
        ot_holiday = float(group["ot_holiday"].sum())
        problems = []
        if rules.period_weeks == 1:
            # Hours on working days beyond the week's standard are overtime too.
            regular = total - ot_work - ot_rest - ot_holiday
            extra = max(0.0, regular - rules.week_hours)
            ot_work += extra
            long_days = group[(group["kind"] == "work")
                              & (group["paid_hours"] > rules.day_hours
                                 + rules.overtime_day_hours + 1e-9)]
            problems += [f"{d:%Y-%m-%d}: {h:g} h is more than {rules.day_hours:g} + "
                         f"{rules.overtime_day_hours:g} h overtime"
                         for d, h in zip(long_days["date"], long_days["paid_hours"])]
            for week, days in group.groupby("week"):
                if len(days) > 7 - rules.min_rest_days_per_week:
                    problems.append(f"week {first + pd.Timedelta(weeks=int(week)):%Y-%m-%d}: "
                                    f"no rest day ({len(days)} days worked)")
        else:
            ot_rest = 0.0  # rest days count in the period total under averaging
            excess = max(0.0, total - ot_holiday - rules.period_hours)
            ot_work = excess
        too_long = group[group["paid_hours"] > rules.max_day_hours + 1e-9]
        problems += [f"{d:%Y-%m-%d}: {h:g} h is more than {rules.max_day_hours:g} h a day"
                     for d, h in zip(too_long["date"], too_long["paid_hours"])]
        months = max(1.0, rules.period_weeks * 7 / 30.4375)
        overtime = ot_work + ot_rest + ot_holiday
        if overtime > rules.overtime_month_hours * months + 1e-9:
            problems.append(f"{overtime:g} h overtime is more than "
                            f"{rules.overtime_month_hours:g} h a month")
        rows.append({
            "agent_id": agent, "period_start": first + pd.Timedelta(
                weeks=int(period) * rules.period_weeks),
            "days": int(len(group)), "hours": total,
            "regular_hours": total - overtime, "overtime_work": ot_work,
            "overtime_rest": ot_rest, "overtime_holiday": ot_holiday,
            "overtime_pay_hours": ot_work * rules.weekday_multiplier
            + ot_rest * rules.rest_day_multiplier + ot_holiday * rules.holiday_multiplier,
            "violations": "; ".join(problems)})
    return pd.DataFrame(rows)


def cap_agents(agents: Iterable, rules: LabourRules) -> tuple:
    """The agents (staffcast.scheduler.agents.Agent) with `max_weekly_hours` lowered to the preset's
    weekly limit (`max_week_hours`), so the assignment cannot give anyone more; an agent
    whose `min_weekly_hours` is above it is an error naming the agent."""
    import dataclasses

    out = []
    for agent in agents:
        if agent.min_weekly_hours > rules.max_week_hours:
            raise SchedulerError(f"agent {agent.agent_id!r}: min_weekly_hours "
                             f"{agent.min_weekly_hours:g} exceeds the {rules.max_week_hours:.1f}"
                             f" h a week {rules.name} allows")
        out.append(dataclasses.replace(agent, max_weekly_hours=min(agent.max_weekly_hours,
                                                                   rules.max_week_hours)))
    return tuple(out)

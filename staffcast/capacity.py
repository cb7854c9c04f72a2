"""Long-range capacity planning: whom to recruit, train and buy, week by week.

Three steps, each usable on its own:

1. `weekly_requirements`: a long-range forecast (`staffcast.forecasting.weekly`) spread over hours,
   bot containment applied, staffed interval by interval with each queue's Erlang targets
   and shrinkage (`staffcast.scheduler.requirements`), summed to required hours per queue and week
   and divided by the schedule efficiency (docs/capacity.md).
2. `build_capacity_model`: the MIP over weeks (PuLP; named variables and constraints).
3. `solve_capacity`: solves it (HiGHS or CBC) into a `CapacityResult` with a status, the
   weekly table and the hiring plan.

`plan_capacity` wires them for a config. Hours are productive hours on duty (the
requirement includes shrinkage), money is in the config's currency, weeks start on Monday.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from staffcast.capacity_config import (
    CapacityConfig,
    CapacityScenario,
    Cohorts,
    NewHireCohort,
)
from staffcast.config import ConfigError
from staffcast.errors import StaffcastError

__all__ = ["Demand", "CapacityModel", "CapacityResult", "CapacityPlan", "build_capacity_model",
           "solve_capacity", "weekly_requirements", "plan_capacity", "apply_scenario",
           "CAPACITY_COLUMNS", "HIRING_COLUMNS", "STATUSES", "weekly_attrition_with_points"]

STATUSES = ("optimal", "feasible", "infeasible", "not_solved")
# The supply columns of capacity.csv; overtime is regular staff's extra hours.
SUPPLY = ("regular", "new_hire", "temp", "outsourced", "cloud")
CAPACITY_COLUMNS = ("week", "queue", "required_hours",
                    *(f"productive_hours_{c}" for c in SUPPLY),
                    "hires_new_hire", "hires_temp", "overtime_hours", "shortfall_hours", "cost",
                    "cover", "headcount_regular", "headcount_new_hire", "temps_active",
                    "blocks_outsourced", "idle_hours", "festivals")
HIRING_COLUMNS = ("cohort", "recruit_by", "start_training", "productive_from", "count", "unit")
TOTAL = "total"


# ---------------------------------------------------------------------- demand

@dataclass(frozen=True)
class Demand:
    """What the MIP covers.

    weeks: the Monday of each planned week.
    required: queue -> required productive hours per week (one per week).
    day_kinds: per week, the 7 days' kinds Monday first: 'work', 'rest' or 'holiday'
        (China's statutory holidays; see `staffcast.forecasting.weekly.day_kinds`).
    """

    weeks: tuple[dt.date, ...]
    required: Mapping[str, np.ndarray]
    day_kinds: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.weeks)
        if n == 0:
            raise ValueError("demand has no weeks")
        if any(w.weekday() != 0 for w in self.weeks):
            raise ValueError("demand weeks must start on Mondays")
        if len(self.day_kinds) != n or any(len(d) != 7 for d in self.day_kinds):
            raise ValueError(f"day_kinds must hold 7 days for each of the {n} weeks")
        bad = {k for d in self.day_kinds for k in d} - {"work", "rest", "holiday"}
        if bad:
            raise ValueError(f"day kinds must be work, rest or holiday, got {sorted(bad)}")
        for queue, hours in self.required.items():
            hours = np.asarray(hours, dtype=float)
            if hours.shape != (n,) or not np.isfinite(hours).all() or (hours < 0).any():
                raise ValueError(f"required hours of queue {queue!r} must be {n} finite "
                                 f"numbers >= 0, got {hours!r}")

    @property
    def queues(self) -> list[str]:
        return sorted(self.required)

    def working_days(self) -> np.ndarray:
        return np.array([sum(k == "work" for k in days) for days in self.day_kinds], float)


# ---------------------------------------------------------------------- model

@dataclass
class CapacityModel:
    """The built MIP and its variables, keyed by (queue,) week index or day index."""

    problem: pulp.LpProblem
    demand: Demand
    cohorts: Cohorts
    shortfall_penalty: float
    classes: dict[int, pulp.LpVariable] = field(default_factory=dict)
    class_open: dict[int, pulp.LpVariable] = field(default_factory=dict)
    temp_start: dict[int, pulp.LpVariable] = field(default_factory=dict)
    temp_release: dict[int, pulp.LpVariable] = field(default_factory=dict)
    blocks: dict[int, pulp.LpVariable] = field(default_factory=dict)
    block_start: dict[int, pulp.LpVariable] = field(default_factory=dict)
    cloud: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    overtime: dict[int, pulp.LpVariable] = field(default_factory=dict)
    alloc: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    shortfall: dict[tuple[str, int], pulp.LpVariable] = field(default_factory=dict)
    # Linear expressions per week, read back after the solve.
    regular_heads: list[Any] = field(default_factory=list)
    new_hire_heads: list[Any] = field(default_factory=list)
    temps_active: list[Any] = field(default_factory=list)
    supply: dict[str, list[Any]] = field(default_factory=dict)
    cost: list[Any] = field(default_factory=list)


def _tag(week: dt.date) -> str:
    return f"{week:%Y%m%d}"


def _served(queues: tuple[str, ...] | None, all_queues: list[str]) -> list[str]:
    return list(all_queues) if queues is None else [q for q in all_queues if q in queues]


def _new_hire_attrition(cohorts: Cohorts) -> float:
    nh = cohorts.new_hire
    if nh is None or nh.weekly_attrition is None:
        return cohorts.regular.weekly_attrition
    return nh.weekly_attrition


def class_heads(nh: NewHireCohort, regular_attrition: float, new_hire_attrition: float,
                age: int) -> tuple[float, float, float]:
    """For one person hired into a class, `age` weeks after its training started:
    (heads still in the class before full productivity, heads counted as regular staff,
    productivity share of the class heads). Negative ages are before the class starts."""
    if age < 0:
        return 0.0, 0.0, 0.0
    full = nh.weeks_to_full
    if age < full:
        share = 0.0 if age < nh.training_weeks else nh.ramp[age - nh.training_weeks]
        return (1 - new_hire_attrition) ** age, 0.0, share
    return 0.0, (1 - new_hire_attrition) ** full * (1 - regular_attrition) ** (age - full), 1.0


def build_capacity_model(demand: Demand, cohorts: Cohorts, *,
                         shortfall_penalty: float) -> CapacityModel:
    """The capacity MIP: cover each queue's required hours every week at least cost.

    Decisions: new-hire class sizes per start week (integer, 0 or min_class..max_per_week),
    temps engaged and released per week (integer), outsourced blocks per week (integer),
    cloud hours and overtime hours per day (continuous), the hours each cohort gives each
    queue, and the hours left short (penalised at `shortfall_penalty` an hour).
    """
    weeks, queues = demand.weeks, demand.queues
    n = len(weeks)
    prob = pulp.LpProblem("capacity", pulp.LpMinimize)
    model = CapacityModel(prob, demand, cohorts, shortfall_penalty)
    reg = cohorts.regular
    workdays = demand.working_days()
    a_reg = reg.weekly_attrition
    nh, tmp, out, cloud = cohorts.new_hire, cohorts.temp, cohorts.outsourced, cohorts.cloud
    a_nh = _new_hire_attrition(cohorts)

    # New-hire classes: none before the lead time, none that would not be productive in time.
    if nh is not None:
        for s in range(nh.lead_time_weeks, n - nh.training_weeks):
            size = pulp.LpVariable(f"class_{_tag(weeks[s])}", 0, nh.max_per_week, cat="Integer")
            opened = pulp.LpVariable(f"class_open_{_tag(weeks[s])}", cat="Binary")
            prob += (size >= nh.min_class * opened, f"min_class_{_tag(weeks[s])}")
            prob += (size <= nh.max_per_week * opened, f"max_class_{_tag(weeks[s])}")
            model.classes[s], model.class_open[s] = size, opened
    if tmp is not None:
        for s in range(tmp.lead_time_weeks, n - tmp.training_weeks):
            model.temp_start[s] = pulp.LpVariable(f"temp_start_{_tag(weeks[s])}", 0,
                                                  tmp.max_per_week, cat="Integer")
        for t in range(n):
            model.temp_release[t] = pulp.LpVariable(f"temp_release_{_tag(weeks[t])}", 0,
                                                    cat="Integer")
    if out is not None:
        for t in range(out.lead_time_weeks, n):
            model.blocks[t] = pulp.LpVariable(f"blocks_{_tag(weeks[t])}", 0, out.max_blocks,
                                              cat="Integer")
            model.block_start[t] = pulp.LpVariable(f"block_start_{_tag(weeks[t])}", 0,
                                                   out.max_blocks, cat="Integer")
            # Blocks added this week are started ones; a started block runs min_weeks.
            prob += (model.blocks[t] - model.blocks.get(t - 1, 0) <= model.block_start[t],
                     f"block_added_{_tag(weeks[t])}")
            prob += (model.blocks[t] >= pulp.lpSum(
                model.block_start[u] for u in range(max(out.lead_time_weeks,
                                                        t - out.min_weeks + 1), t + 1)),
                f"block_min_weeks_{_tag(weeks[t])}")

    supply: dict[str, list[Any]] = {c: [] for c in (*SUPPLY, "overtime")}
    cost_terms: list[Any] = []
    for t in range(n):
        tag = _tag(weeks[t])
        heads_nh, heads_reg, prod_nh = 0, reg.headcount * (1 - a_reg) ** t, 0
        nh_pay = 0
        if nh is not None:
            for s, size in model.classes.items():
                in_class, graduated, share = class_heads(nh, a_reg, a_nh, t - s)
                heads_nh += in_class * size
                heads_reg += graduated * size
                prod_nh += in_class * share * size
            nh_pay = heads_nh * nh.weekly_hours * nh.hourly_wage
            nh_pay += nh.hire_cost * (model.classes[t] if t in model.classes else 0)
            prod_nh = prod_nh * (nh.weekly_hours / 5) * workdays[t]
        model.regular_heads.append(heads_reg)
        model.new_hire_heads.append(heads_nh)
        supply["regular"].append(heads_reg * (reg.weekly_hours / 5) * workdays[t])
        supply["new_hire"].append(prod_nh)
        week_cost = heads_reg * reg.weekly_hours * reg.hourly_wage + nh_pay

        # Overtime per day, within the daily cap per regular head and the monthly cap.
        ot_week = 0
        if reg.overtime.enabled:
            for d, kind in enumerate(demand.day_kinds[t]):
                day = weeks[t] + dt.timedelta(days=d)
                var = pulp.LpVariable(f"overtime_{day:%Y%m%d}", 0)
                model.overtime[7 * t + d] = var
                prob += (var <= reg.overtime.max_hours_per_day * heads_reg,
                         f"overtime_day_{day:%Y%m%d}")
                mult = {"work": reg.overtime.weekday_multiplier,
                        "rest": reg.overtime.rest_day_multiplier,
                        "holiday": reg.overtime.holiday_multiplier}[kind]
                week_cost += var * reg.hourly_wage * mult
                ot_week += var
        supply["overtime"].append(ot_week)

        # Temps: engaged = started - released; a release only after min_weeks.
        active = prod_tmp = 0
        if tmp is not None:
            started = pulp.lpSum(v for s, v in model.temp_start.items() if s <= t)
            released = pulp.lpSum(model.temp_release[u] for u in range(t + 1))
            old = pulp.lpSum(v for s, v in model.temp_start.items() if s <= t - tmp.min_weeks)
            prob += (released <= old, f"temp_min_weeks_{tag}")
            active = started - released
            if tmp.max_active is not None:
                prob += (active <= tmp.max_active, f"temp_max_active_{tag}")
            training = pulp.lpSum(v for s, v in model.temp_start.items()
                                  if t - tmp.training_weeks < s <= t)
            prod_tmp = (active - training) * tmp.weekly_hours
            week_cost += active * tmp.weekly_hours * tmp.hourly_wage
            if t in model.temp_start:
                week_cost += tmp.engagement_fee * model.temp_start[t]
        model.temps_active.append(active)
        supply["temp"].append(prod_tmp)

        blocks = model.blocks.get(t, 0)
        supply["outsourced"].append(0 if out is None else blocks * out.block_hours
                                    * out.productivity)
        if out is not None:
            week_cost += blocks * out.block_price

        cloud_week = 0
        if cloud is not None and t >= cloud.lead_time_weeks:
            for q in _served(cloud.queues, queues):
                var = pulp.LpVariable(f"cloud_{q}_{tag}", 0)
                model.cloud[q, t] = var
                prob += (var <= cloud.max_share * float(demand.required[q][t]),
                         f"cloud_share_{q}_{tag}")
                cloud_week += var
                week_cost += var * cloud.hourly_price
        supply["cloud"].append(cloud_week)

        # Each cohort's hours are shared out among the queues it serves.
        for name in ("regular", "new_hire", "overtime", "temp", "outsourced"):
            cohort = reg if name == "overtime" else getattr(cohorts, name)
            if cohort is None or (name == "overtime" and not reg.overtime.enabled):
                continue
            served = _served(cohort.queues, queues)
            given = []
            for q in served:
                var = pulp.LpVariable(f"alloc_{name}_{q}_{tag}", 0)
                model.alloc[name, q, t] = var
                given.append(var)
            prob += (pulp.lpSum(given) <= supply[name][t], f"supply_{name}_{tag}")
        for q in queues:
            short = pulp.LpVariable(f"shortfall_{q}_{tag}", 0)
            model.shortfall[q, t] = short
            prob += (pulp.lpSum(v for (c, qq, tt), v in model.alloc.items()
                                if qq == q and tt == t)
                     + model.cloud.get((q, t), 0) + short == float(demand.required[q][t]),
                     f"cover_{q}_{tag}")
        model.cost.append(week_cost)
        cost_terms.append(week_cost)

    # Monthly overtime cap: per head, so the month's hours stay within the cap times the
    # fewest regular heads of any of its weeks.
    if reg.overtime.enabled:
        months: dict[str, list[int]] = {}
        for idx in model.overtime:
            day = weeks[idx // 7] + dt.timedelta(days=idx % 7)
            months.setdefault(f"{day:%Y%m}", []).append(idx)
        for month, days in months.items():
            total = pulp.lpSum(model.overtime[i] for i in days)
            for t in sorted({i // 7 for i in days}):
                prob += (total <= reg.overtime.max_hours_per_month * model.regular_heads[t],
                         f"overtime_month_{month}_{_tag(weeks[t])}")
    model.supply = supply
    prob += (pulp.lpSum(cost_terms)
             + shortfall_penalty * pulp.lpSum(model.shortfall.values()))
    return model


# ---------------------------------------------------------------------- solve

@dataclass(frozen=True)
class CapacityResult:
    """A solved capacity plan. `status` is one of STATUSES; `weekly` (capacity.csv rows)
    and `hiring` (hiring_plan.csv rows) are empty unless status is optimal or feasible.
    `objective` = cost + shortfall penalty (money); `lp_bound` the LP relaxation's
    objective; `mip_gap` 0 when the solver proved the plan optimal, else (objective -
    lp_bound) / objective, an upper bound on the true gap; `lp_gap` that last figure
    always (what integrality costs: class sizes, whole temps and blocks)."""

    status: str
    objective: float | None
    lp_bound: float | None
    mip_gap: float | None
    cost: float | None
    shortfall_hours: float | None
    solve_seconds: float
    solver: str
    weekly: pd.DataFrame
    hiring: pd.DataFrame
    lp_gap: float | None = None
    overtime: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["date", "kind", "hours", "pay_multiplier"]))
    """Overtime of regular staff per day: date, day kind (work / rest / holiday), hours
    (all heads together) and the pay multiplier applied."""
    n_variables: int = 0
    n_constraints: int = 0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")


def _solver(name: str, mip: bool, time_limit_s: float, gap: float) -> pulp.LpSolver:
    if name == "highs":
        return pulp.HiGHS(mip=mip, msg=False, timeLimit=time_limit_s, gapRel=gap, threads=1)
    if name == "cbc":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(mip=mip, msg=False, gapRel=gap, threads=1,
                                     timeLimit=max(1, math.floor(time_limit_s)))
    raise ValueError(f"unknown solver {name!r}; valid solvers: cbc, highs")


@contextlib.contextmanager
def _quiet_stdout():
    """Silence fd 1 while solving: HiGHS prints its banner there even with msg=False."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _value(expr: Any) -> float:
    if isinstance(expr, (int, float)):
        return float(expr)
    value = pulp.value(expr)
    return 0.0 if value is None else float(value)


def solve_capacity(model: CapacityModel, *, solver: str = "highs", time_limit_s: float = 60,
                   gap: float = 0.0, festivals: Mapping[int, Sequence[str]] | None = None
                   ) -> CapacityResult:
    """Solve the MIP (after its LP relaxation, whose objective bounds the gap)."""
    prob = model.problem
    began = time.perf_counter()
    with _quiet_stdout():
        lp_status = prob.solve(_solver(solver, False, time_limit_s, gap))
        lp_bound = pulp.value(prob.objective) if lp_status == pulp.LpStatusOptimal else None
        left = max(1.0, time_limit_s - (time.perf_counter() - began))
        status_code = prob.solve(_solver(solver, True, left, gap))
    seconds = time.perf_counter() - began
    has_values = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if status_code == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif has_values:
        status = "feasible"
    elif status_code == pulp.LpStatusInfeasible:
        status = "infeasible"
    else:
        status = "not_solved"
    size = dict(n_variables=len(prob.variables()), n_constraints=prob.numConstraints())
    if status not in ("optimal", "feasible"):
        return CapacityResult(status, None, lp_bound, None, None, None, seconds, solver,
                              pd.DataFrame(columns=list(CAPACITY_COLUMNS)),
                              pd.DataFrame(columns=list(HIRING_COLUMNS)), **size)
    objective = float(pulp.value(prob.objective))
    weekly = _weekly_table(model, festivals or {})
    cost = float(weekly.loc[weekly["queue"] == TOTAL, "cost"].sum())
    short = float(weekly.loc[weekly["queue"] == TOTAL, "shortfall_hours"].sum())
    lp_gap = (None if lp_bound is None else
              max(0.0, (objective - lp_bound) / abs(objective)) if objective else 0.0)
    mip_gap = 0.0 if status == "optimal" else lp_gap
    return CapacityResult(status, objective, lp_bound, mip_gap, cost, short, seconds, solver,
                          weekly, _hiring_table(model), lp_gap=lp_gap,
                          overtime=_overtime_table(model), **size)


def _overtime_table(model: CapacityModel) -> pd.DataFrame:
    ot = model.cohorts.regular.overtime
    mult = {"work": ot.weekday_multiplier, "rest": ot.rest_day_multiplier,
            "holiday": ot.holiday_multiplier}
    rows = []
    for idx, var in sorted(model.overtime.items()):
        kind = model.demand.day_kinds[idx // 7][idx % 7]
        day = model.demand.weeks[idx // 7] + dt.timedelta(days=idx % 7)
        hours = _value(var)
        rows.append((pd.Timestamp(day), kind, hours if abs(hours) > 1e-7 else 0.0, mult[kind]))
    return pd.DataFrame(rows, columns=["date", "kind", "hours", "pay_multiplier"])


def _weekly_table(model: CapacityModel, festivals: Mapping[int, Sequence[str]]) -> pd.DataFrame:
    demand = model.demand
    rows = []
    for t, week in enumerate(demand.weeks):
        total_req = sum(float(demand.required[q][t]) for q in demand.queues)
        supply = {c: _value(model.supply[c][t]) for c in (*SUPPLY, "overtime")}
        used = 0.0
        for q in demand.queues:
            req = float(demand.required[q][t])
            row = {"week": week, "queue": q, "required_hours": req}
            for c in SUPPLY:
                row[f"productive_hours_{c}"] = (_value(model.cloud.get((q, t), 0)) if c == "cloud"
                                                else _value(model.alloc.get((c, q, t), 0)))
            row["overtime_hours"] = _value(model.alloc.get(("overtime", q, t), 0))
            row["shortfall_hours"] = _value(model.shortfall[q, t])
            row["cover"] = 1.0 - row["shortfall_hours"] / req if req > 0 else 1.0
            used += sum(row[f"productive_hours_{c}"] for c in SUPPLY) + row["overtime_hours"]
            rows.append(row)
        short = sum(_value(model.shortfall[q, t]) for q in demand.queues)
        total = {"week": week, "queue": TOTAL, "required_hours": total_req,
                 **{f"productive_hours_{c}": supply[c] for c in SUPPLY},
                 "hires_new_hire": _value(model.classes.get(t, 0)),
                 "hires_temp": _value(model.temp_start.get(t, 0)),
                 "overtime_hours": supply["overtime"], "shortfall_hours": short,
                 "cost": _value(model.cost[t]),
                 "cover": 1.0 - short / total_req if total_req > 0 else 1.0,
                 "headcount_regular": _value(model.regular_heads[t]),
                 "headcount_new_hire": _value(model.new_hire_heads[t]),
                 "temps_active": _value(model.temps_active[t]),
                 "blocks_outsourced": _value(model.blocks.get(t, 0)),
                 "idle_hours": max(0.0, sum(supply.values()) - used)}
        rows.append(total)
    # Hires, cost and headcounts are decided for the pool: blank on the queue rows.
    frame = pd.DataFrame(rows)
    frame["festivals"] = [";".join(festivals.get(demand.weeks.index(w), ()))
                          for w in frame["week"]]
    frame = frame.reindex(columns=list(CAPACITY_COLUMNS))
    frame["week"] = pd.to_datetime(frame["week"])
    # Solver noise (1e-9 hours) must not print as hours.
    numeric = frame.columns.difference(["week", "queue", "festivals"])
    values = frame[numeric].astype(float)
    frame[numeric] = values.mask(values.abs() < 1e-7, 0.0)
    return frame


def _hiring_table(model: CapacityModel) -> pd.DataFrame:
    weeks, cohorts = model.demand.weeks, model.cohorts
    rows = []

    def week(i: int) -> dt.date:
        return weeks[0] + dt.timedelta(weeks=i)

    nh = cohorts.new_hire
    for s, var in sorted(model.classes.items()):
        count = round(_value(var))
        if count > 0:
            rows.append(("new_hire", week(s - nh.lead_time_weeks), week(s),
                         week(s + nh.training_weeks), count, "people"))
    tmp = cohorts.temp
    for s, var in sorted(model.temp_start.items()):
        count = round(_value(var))
        if count > 0:
            rows.append(("temp", week(s - tmp.lead_time_weeks), week(s),
                         week(s + tmp.training_weeks), count, "people"))
    out = cohorts.outsourced
    for t, var in sorted(model.block_start.items()):
        count = round(_value(var))
        if count > 0:
            rows.append(("outsourced", week(t - out.lead_time_weeks), week(t), week(t),
                         count, f"blocks of {out.block_hours:g} h/week"))
    frame = pd.DataFrame(rows, columns=list(HIRING_COLUMNS))
    for col in ("recruit_by", "start_training", "productive_from"):
        frame[col] = pd.to_datetime(frame[col])
    frame["count"] = frame["count"].astype("int64")
    return frame


# ---------------------------------------------------------------------- from history

def weekly_attrition_with_points(weekly: float, points: float) -> float:
    """`weekly` attrition after adding `points` percentage points to its annual rate."""
    annual = 1 - (1 - weekly) ** 52 + points / 100
    if not 0 <= annual < 1:
        raise StaffcastError(f"attrition_points {points:+g} gives an annual attrition of "
                         f"{annual:.1%}, outside [0%, 100%)")
    return 1 - (1 - annual) ** (1 / 52)


def apply_scenario(config: CapacityConfig, scenario: CapacityScenario,
                   where: str) -> CapacityConfig:
    """The config with a what-if scenario's knobs applied (festival volume is applied to
    the forecast by `plan_capacity`)."""
    cohorts = config.cohorts
    try:
        if scenario.attrition_points:
            reg = cohorts.regular
            regular = dataclasses.replace(reg, weekly_attrition=weekly_attrition_with_points(
                reg.weekly_attrition, scenario.attrition_points))
            cohorts = dataclasses.replace(cohorts, regular=regular)
            nh = cohorts.new_hire
            if nh is not None and nh.weekly_attrition is not None:
                cohorts = dataclasses.replace(cohorts, new_hire=dataclasses.replace(
                    nh, weekly_attrition=weekly_attrition_with_points(
                        nh.weekly_attrition, scenario.attrition_points)))
        if scenario.lead_time_weeks:
            for name in ("new_hire", "temp"):
                cohort = getattr(cohorts, name)
                if cohort is not None:
                    cohorts = dataclasses.replace(cohorts, **{name: dataclasses.replace(
                        cohort, lead_time_weeks=cohort.lead_time_weeks
                        + scenario.lead_time_weeks)})
        queues = dict(config.queues)
        if scenario.bot_containment is not None or scenario.bot_containment_points:
            absolute = scenario.bot_containment
            if isinstance(absolute, Mapping):
                unknown = sorted(set(absolute) - set(queues))
                if unknown:
                    raise StaffcastError(f"bot_containment: unknown queue {unknown[0]!r}; "
                                     f"queues: {', '.join(sorted(queues))}")
            for name, qc in queues.items():
                st = qc.staffing
                if st is None:
                    continue
                value = st.bot_containment
                if isinstance(absolute, Mapping):
                    value = absolute.get(name, value)
                elif absolute is not None and st.bot_containment > 0:
                    value = absolute
                if st.bot_containment > 0 or isinstance(absolute, Mapping):
                    value = value + scenario.bot_containment_points / 100
                queues[name] = dataclasses.replace(qc, staffing=dataclasses.replace(
                    st, bot_containment=value))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return dataclasses.replace(config, cohorts=cohorts, queues=queues)


def festival_windows(calendar: Any, names: Sequence[str], source: str
                     ) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """name -> the (start, exclusive end) windows of each named calendar event, every year
    the calendar holds; an unknown name lists the calendar's promotions."""
    ev = calendar.events
    windows = {}
    for name in names:
        rows = ev[(ev["event"] == name).to_numpy(dtype=bool)]
        if rows.empty:
            known = sorted(set(ev.loc[(ev["kind"] == "promotion").to_numpy(dtype=bool),
                                      "event"].astype(str)))
            raise ConfigError(f"{source}: plan.festivals: {name!r} is not an event of the "
                              f"calendar; its promotions: {', '.join(known) or '(none)'}")
        windows[name] = [(pd.Timestamp(r.start), pd.Timestamp(r.end_excl))
                         for r in rows.itertuples(index=False)]
    return windows


def _festival_weeks(windows: Mapping[str, list[tuple[pd.Timestamp, pd.Timestamp]]],
                    weeks: Sequence[dt.date], source: str) -> dict[int, list[str]]:
    lo, hi = pd.Timestamp(weeks[0]), pd.Timestamp(weeks[-1]) + pd.Timedelta(days=7)
    out: dict[int, list[str]] = {}
    for name, spans in windows.items():
        inside = [(s, e) for s, e in spans if s < hi and e > lo]
        if not inside:
            shown = "; ".join(f"{s:%Y-%m-%d} to {(e - pd.Timedelta(minutes=1)):%Y-%m-%d}"
                              for s, e in spans)
            last = hi - pd.Timedelta(days=1)
            raise ConfigError(f"{source}: plan.festivals: {name!r} ({shown}) lies outside the "
                              f"plan's horizon {lo:%Y-%m-%d} to {last:%Y-%m-%d} "
                              f"({len(weeks)} weeks); move plan.start or drop it")
        for s, e in inside:
            for t, week in enumerate(weeks):
                w0 = pd.Timestamp(week)
                if s < w0 + pd.Timedelta(days=7) and e > w0 and name not in out.get(t, []):
                    out.setdefault(t, []).append(name)
    return out


def weekly_requirements(hourly: pd.DataFrame, config: CapacityConfig, *,
                        weeks: Sequence[dt.date]) -> pd.DataFrame:
    """Required productive hours per queue and week from hourly volume (``unique_id, ds,
    volume``, all contacts per hour): bot containment, Erlang staffing at each queue's
    targets and shrinkage per interval, summed over each week and divided by the schedule
    efficiency. Returns ``week, queue, volume, human_volume, required_hours``."""
    from staffcast.scheduler.requirements import compute_requirements

    names = sorted(hourly["unique_id"].astype(str).unique())
    settings, hours = {}, {}
    for name in names:
        qc = config.queue(name)
        if qc.staffing is None:
            raise ConfigError(f"{config.path or 'capacity config'}: queues.{qc.name}: no "
                              "staffing settings (aht_s and a target such as sl_target)")
        settings[name] = qc.staffing
        hours[name] = qc.opening_hours
    minutes = config.plan.interval_minutes
    req = compute_requirements(hourly, settings, interval_minutes=minutes, opening_hours=hours)
    req["week"] = req["ds"].dt.to_period("W-SUN").dt.start_time
    req["staff_hours"] = req["agents_required"] * minutes / 60
    grouped = req.groupby(["week", "unique_id"], observed=True).agg(
        human_volume=("volume", "sum"), staff_hours=("staff_hours", "sum")).reset_index()
    raw = hourly.assign(week=hourly["ds"].dt.to_period("W-SUN").dt.start_time).groupby(
        ["week", "unique_id"], observed=True)["volume"].sum().rename("volume").reset_index()
    out = grouped.merge(raw, on=["week", "unique_id"])
    out["required_hours"] = out["staff_hours"] / config.plan.schedule_efficiency
    out = out.rename(columns={"unique_id": "queue"})
    out["queue"] = out["queue"].astype(str)
    expected = pd.to_datetime(list(weeks))
    missing = sorted(set(expected) - set(out["week"]))
    if missing:
        raise StaffcastError(f"hourly volume does not cover the week of {missing[0]:%Y-%m-%d}")
    return out[["week", "queue", "volume", "human_volume", "required_hours"]].sort_values(
        ["week", "queue"]).reset_index(drop=True)


@dataclass(frozen=True)
class CapacityPlan:
    """One planned scenario: its forecast, weekly requirement, demand, model size and
    result, and the festivals by week index."""

    name: str
    start: dt.date
    forecast: Any
    requirement: pd.DataFrame
    demand: Demand
    result: CapacityResult
    festivals: dict[int, list[str]]
    config: CapacityConfig
    build_seconds: float
    forecast_seconds: float

    def summary(self) -> dict[str, Any]:
        """JSON-ready headline figures."""
        res = self.result
        weekly = res.weekly
        total = weekly[weekly["queue"] == TOTAL] if len(weekly) else weekly
        fest = []
        for t, names in sorted(self.festivals.items()):
            if len(total):
                row = total.iloc[t]
                fest.append({"week": f"{self.demand.weeks[t]:%Y-%m-%d}", "festivals": names,
                             "required_hours": round(float(row["required_hours"]), 1),
                             "shortfall_hours": round(float(row["shortfall_hours"]), 1),
                             "cover": round(float(row["cover"]), 4),
                             "cost": round(float(row["cost"]), 2)})
        hiring = res.hiring
        return {
            "scenario": self.name, "status": res.status, "solver": res.solver,
            "objective": None if res.objective is None else round(res.objective, 2),
            "lp_bound": None if res.lp_bound is None else round(res.lp_bound, 2),
            "mip_gap": None if res.mip_gap is None else round(res.mip_gap, 6),
            "lp_gap": None if res.lp_gap is None else round(res.lp_gap, 6),
            "cost": None if res.cost is None else round(res.cost, 2),
            "shortfall_hours": None if res.shortfall_hours is None
            else round(res.shortfall_hours, 2),
            "shortfall_penalty": self.config.plan.shortfall_penalty,
            "required_hours": round(float(self.requirement["required_hours"].sum()), 1),
            "start": f"{self.start:%Y-%m-%d}", "weeks": len(self.demand.weeks),
            "hires": {c: int(hiring.loc[hiring["cohort"] == c, "count"].sum()) if len(hiring)
                      else 0 for c in ("new_hire", "temp", "outsourced")},
            "festival_weeks": fest,
            "unseen_events": getattr(self.forecast, "unseen_events", {}),
            "forecast_seconds": round(self.forecast_seconds, 3),
            "build_seconds": round(self.build_seconds, 3),
            "solve_seconds": round(res.solve_seconds, 3),
            "variables": res.n_variables, "constraints": res.n_constraints,
        }


def plan_start(history: pd.DataFrame, configured: dt.date | None) -> dt.date:
    """The configured start, else the first Monday after the history's last day."""
    if configured is not None:
        return configured
    last = pd.Timestamp(history["ds"].max()).normalize()
    return (last + pd.Timedelta(days=7 - last.day_of_week)).date()


def demand_from_requirement(requirement: pd.DataFrame, weeks: Sequence[dt.date],
                            calendar: Any) -> Demand:
    """The MIP's `Demand` from `weekly_requirements` output and the calendar's day kinds."""
    from staffcast.forecasting.weekly import day_kinds

    days = pd.date_range(weeks[0], periods=7 * len(weeks), freq="D")
    kinds = day_kinds(calendar, days)["kind"].to_numpy()
    required = {str(q): g.sort_values("week")["required_hours"].to_numpy(dtype=float)
                for q, g in requirement.groupby("queue")}
    return Demand(weeks=tuple(weeks), required=required,
                  day_kinds=tuple(tuple(kinds[7 * t: 7 * t + 7]) for t in range(len(weeks))))


def _changes_demand(scenario: CapacityScenario | None) -> bool:
    return scenario is not None and (scenario.bot_containment is not None
                                     or scenario.bot_containment_points != 0
                                     or scenario.festival_volume != 1)


def with_handle_time(config: CapacityConfig,
                     profile: Mapping[str, Mapping[int, float]]) -> CapacityConfig:
    """The config with each profiled queue's `aht_s` set to its forecast by hour of day
    (`staffcast.forecasting.weekly.handle_time_profile`); other queues keep the configured value."""
    queues = dict(config.queues)
    for name, hours in profile.items():
        qc = config.queue(name)
        if qc.staffing is not None:
            queues[name] = dataclasses.replace(qc, name=name, staffing=dataclasses.replace(
                qc.staffing, aht_s={int(h): float(v) for h, v in hours.items()}))
    return dataclasses.replace(config, queues=queues)


def plan_capacity(config: CapacityConfig, history: pd.DataFrame, calendar: Any, *,
                  weeks: int | None = None, scenario: CapacityScenario | None = None,
                  name: str = "base", base: CapacityPlan | None = None) -> CapacityPlan:
    """Forecast, staff and solve one scenario. `history` is hourly ``unique_id, ds, y``
    (+ optional ``aht_s``: then each queue's handle time is forecast from it, see
    `staffcast.forecasting.weekly.handle_time_profile`); rows from the plan's start on are not used.
    `base`: the base plan, whose forecast a scenario reuses (and its weekly requirement
    too when the scenario leaves demand alone)."""
    from staffcast.forecasting.weekly import LongRangeModel

    source = str(config.path or "capacity config")
    n_weeks = weeks or config.plan.weeks
    start = plan_start(history, config.plan.start)
    week_list = [start + dt.timedelta(weeks=i) for i in range(n_weeks)]
    windows = festival_windows(calendar, config.plan.festivals, source)
    festivals = _festival_weeks(windows, week_list, source)
    if "aht_s" in history.columns:
        from staffcast.forecasting.weekly import handle_time_profile

        config = with_handle_time(config, handle_time_profile(history, pd.Timestamp(start)))
    if scenario is not None:
        config = apply_scenario(config, scenario, f"{source}: scenarios.{name}")
    began = time.perf_counter()
    forecast = None if base is None else base.forecast
    if forecast is None:
        past = history[history["ds"] < pd.Timestamp(start)]
        if past.empty:
            raise StaffcastError(f"{source}: plan.start {start:%Y-%m-%d} is before the history "
                             f"begins ({history['ds'].min():%Y-%m-%d})")
        forecast = LongRangeModel(calendar).fit(past).predict(pd.Timestamp(start), n_weeks)
    column = {"mean": "yhat", "80": "yhat_hi_80", "95": "yhat_hi_95"}[config.plan.volume_quantile]
    hourly = forecast.hourly[["unique_id", "ds", column]].rename(columns={column: "volume"})
    if scenario is not None and scenario.festival_volume != 1:
        boost = np.zeros(len(hourly), dtype=bool)
        for spans in windows.values():
            for s, e in spans:
                boost |= ((hourly["ds"] >= s) & (hourly["ds"] < e)).to_numpy()
        hourly = hourly.assign(volume=np.where(boost, hourly["volume"] * scenario.festival_volume,
                                               hourly["volume"]))
    forecast_seconds = time.perf_counter() - began
    if base is not None and not _changes_demand(scenario):
        requirement = base.requirement
    else:
        requirement = weekly_requirements(hourly, config, weeks=week_list)
    demand = demand_from_requirement(requirement, week_list, calendar)
    began = time.perf_counter()
    model = build_capacity_model(demand, config.cohorts,
                                 shortfall_penalty=config.plan.shortfall_penalty)
    build_seconds = time.perf_counter() - began
    result = solve_capacity(model, solver=config.plan.solver,
                            time_limit_s=config.plan.time_limit_s, gap=config.plan.gap,
                            festivals=festivals)
    return CapacityPlan(name=name, start=start, forecast=forecast, requirement=requirement,
                        demand=demand, result=result, festivals=festivals, config=config,
                        build_seconds=build_seconds, forecast_seconds=forecast_seconds)


def comparison(plans: Sequence[CapacityPlan]) -> pd.DataFrame:
    """Scenarios side by side: one row per scenario with objective (cost + shortfall
    penalty), cost, shortfall, festival cover and hires."""
    rows = []
    for plan in plans:
        s = plan.summary()
        fest = s["festival_weeks"]
        req = sum(f["required_hours"] for f in fest)
        short = sum(f["shortfall_hours"] for f in fest)
        rows.append({
            "scenario": plan.name, "status": s["status"], "objective": s["objective"],
            "cost": s["cost"],
            "required_hours": s["required_hours"], "shortfall_hours": s["shortfall_hours"],
            "festival_cover": (1 - short / req) if req else None,
            "min_festival_week_cover": min((f["cover"] for f in fest), default=None),
            **{f"hires_{c}": s["hires"].get(c, 0) for c in ("new_hire", "temp", "outsourced")},
            "cloud_hours": float(plan.result.weekly.loc[plan.result.weekly["queue"] == TOTAL,
                                                        "productive_hours_cloud"].sum())
            if plan.result.has_plan else None,
            "overtime_hours": float(plan.result.weekly.loc[
                plan.result.weekly["queue"] == TOTAL, "overtime_hours"].sum())
            if plan.result.has_plan else None,
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- files

def store_rows(plans: Sequence[CapacityPlan]) -> pd.DataFrame:
    """Every plan's weekly rows for the run store: ``scenario, week, queue,
    required_hours, supply_hours, overtime_hours, shortfall_hours, cost, cover``."""
    parts = []
    for plan in plans:
        weekly = plan.result.weekly
        if not len(weekly):
            continue
        supply = weekly[[f"productive_hours_{c}" for c in SUPPLY]].sum(axis=1) \
            + weekly["overtime_hours"]
        parts.append(pd.DataFrame({
            "scenario": plan.name, "week": weekly["week"], "queue": weekly["queue"],
            "required_hours": weekly["required_hours"], "supply_hours": supply,
            "overtime_hours": weekly["overtime_hours"],
            "shortfall_hours": weekly["shortfall_hours"], "cost": weekly["cost"],
            "cover": weekly["cover"]}))
    if not parts:
        return pd.DataFrame(columns=["scenario", "week", "queue", "required_hours",
                                     "supply_hours", "overtime_hours", "shortfall_hours",
                                     "cost", "cover"])
    return pd.concat(parts, ignore_index=True)


def _csv(frame: pd.DataFrame) -> str:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(4)
    return out.to_csv(index=False)


def plan_texts(plan: CapacityPlan) -> dict[str, str]:
    """One plan's files: capacity.csv, hiring_plan.csv, summary.json, weekly_forecast.csv,
    requirement_weekly.csv, overtime_daily.csv."""
    import json

    texts = {"capacity.csv": _csv(plan.result.weekly),
             "hiring_plan.csv": _csv(plan.result.hiring),
             "summary.json": json.dumps(plan.summary(), indent=2, allow_nan=False,
                                        default=str) + "\n",
             "requirement_weekly.csv": _csv(plan.requirement),
             "overtime_daily.csv": _csv(plan.result.overtime)}
    weekly = getattr(plan.forecast, "weekly", None)
    if weekly is not None:
        texts["weekly_forecast.csv"] = _csv(weekly)
    return texts


def write_files(out_dir: str | Path, texts: Mapping[str, str]) -> dict[str, Path]:
    """Write `texts` (relative path -> text) as one generation of `out_dir`
    (staffcast.outputs.Generation): the whole folder is staged and swapped in, so a failed
    run leaves the old folder whole and no stale file survives."""
    from staffcast.outputs import Generation, atomic_write_text

    with Generation(out_dir, command="capacity") as generation:
        for name, text in texts.items():
            atomic_write_text(generation.path / name, text)
    return {name: Path(out_dir) / name for name in texts}


def format_comparison(table: pd.DataFrame) -> str:
    """The scenario comparison as aligned text for the terminal."""
    shown = table.copy()
    for col in ("objective", "cost", "required_hours", "shortfall_hours", "cloud_hours",
                "overtime_hours"):
        shown[col] = shown[col].map(lambda v: "-" if v is None or pd.isna(v) else f"{v:,.0f}")
    for col in ("festival_cover", "min_festival_week_cover"):
        shown[col] = shown[col].map(lambda v: "-" if v is None or pd.isna(v) else f"{v:.1%}")
    return shown.to_string(index=False)

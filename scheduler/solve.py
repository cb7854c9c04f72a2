"""Solve a built `ShiftModel` and read the plan back as a typed `ScheduleResult`.

The LP relaxation of the full model is solved first: its optimum is the honest lower bound
reported as `lp_bound`, and `mip_gap` is measured against it (a solver's own tree bound can
only be tighter). Then the integer program runs with the remaining time; a time-out with a
plan is status "feasible", with no plan "error"; an infeasible model names the rule groups
that make it so.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pulp

from scheduler.breaks import stagger_breaks
from scheduler.erlang import service_level
from scheduler.model import ShiftModel, sl_seconds_of, slots_per_agent
from scheduler.shifts import start_bands

STATUSES = ("optimal", "feasible", "infeasible", "error")
TOUR_COLUMNS = ["tour_id", "family", "contract", "queue", "date", "shift_start", "shift_end",
                "break_start", "break_end", "lunch_start", "lunch_end", "paid_hours", "cost"]
COVERAGE_COLUMNS = ["unique_id", "ds", "required", "scheduled", "shortfall", "service_level"]


def _cbc(mip: bool, time_limit_s: float, gap: float) -> pulp.LpSolver:
    # warmStart hands CBC the rounded LP plan (see _round_lp) as a MIP start; without it CBC
    # found no plan at all in 60 s on the benchmark week.
    with warnings.catch_warnings():
        # PuLP 3.3 warns that the bundled CBC goes away in PuLP 4; it is what 3.3 ships.
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(mip=mip, msg=False, gapRel=gap, threads=1, warmStart=mip,
                                 timeLimit=max(1, math.floor(time_limit_s)))


def _highs(mip: bool, time_limit_s: float, gap: float) -> pulp.LpSolver:
    return pulp.HiGHS(mip=mip, msg=False, timeLimit=max(0.1, time_limit_s), gapRel=gap,
                      threads=1)


SOLVERS: dict[str, Callable[[bool, float, float], pulp.LpSolver]] = {"cbc": _cbc,
                                                                      "highs": _highs}
# Measured on benchmarks/schedule_speed.py (peak 300, 2,723 variables): HiGHS reached
# 0.20% of the LP bound in 24 s, CBC 0.57% in 60 s. See docs/scheduling.md.
DEFAULT_SOLVER = "highs"


@dataclass(frozen=True)
class ScheduleResult:
    """A solved (or failed) schedule. `status` is one of STATUSES; tables are empty and
    numbers None unless status is "optimal" or "feasible". Money in the families'
    currency, hours are paid hours, `shortfall_agent_hours` = agents short x hours."""

    status: str
    objective: float | None
    lp_bound: float | None
    mip_gap: float | None
    solve_seconds: float
    solver: str
    message: str
    tours: pd.DataFrame
    coverage: pd.DataFrame
    paid_hours: float
    labour_cost: float
    shortfall_agent_hours: float
    service_level_by_day: dict[str, float] = field(default_factory=dict)
    n_variables: int = 0
    n_constraints: int = 0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    def summary(self) -> dict[str, Any]:
        """JSON-ready headline figures."""
        return {
            "status": self.status, "objective": self.objective, "lp_bound": self.lp_bound,
            "mip_gap": self.mip_gap, "solve_seconds": round(self.solve_seconds, 3),
            "solver": self.solver, "message": self.message, "paid_hours": self.paid_hours,
            "labour_cost": round(self.labour_cost, 4),
            "shortfall_agent_hours": round(self.shortfall_agent_hours, 4),
            "service_level_by_day": self.service_level_by_day,
            "tours": int(self.tours["tour_id"].nunique()) if len(self.tours) else 0,
            "variables": self.n_variables, "constraints": self.n_constraints,
        }


@contextlib.contextmanager
def _quiet_stdout():
    """Silence fd 1 (HiGHS prints a banner even with msg=False) so stdout stays clean for
    CSV/JSON output."""
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


def _run(model: ShiftModel, solver: pulp.LpSolver) -> tuple[int, int]:
    with _quiet_stdout():
        status = model.problem.solve(solver)
    return status, model.problem.sol_status


def _empty_result(model: ShiftModel, status: str, message: str, solver: str, seconds: float,
                  lp_bound: float | None = None) -> ScheduleResult:
    return ScheduleResult(status=status, objective=None, lp_bound=lp_bound, mip_gap=None,
                          solve_seconds=seconds, solver=solver, message=message,
                          tours=pd.DataFrame(columns=TOUR_COLUMNS),
                          coverage=pd.DataFrame(columns=COVERAGE_COLUMNS), paid_hours=0.0,
                          labour_cost=0.0, shortfall_agent_hours=0.0,
                          n_variables=model.n_variables, n_constraints=model.n_constraints)


_DIAGNOSED = ("headcount", "family shares", "tours and days off", "service-level minimum agents")


def _diagnose(model: ShiftModel, make: Callable[[bool, float, float], pulp.LpSolver]) -> str:
    """Name the rule groups whose removal makes the LP relaxation feasible."""
    culprits = []
    with warnings.catch_warnings():
        # PuLP 3.3 flags the dict view as deprecated; it is the only way to drop a group.
        warnings.simplefilter("ignore", DeprecationWarning)
        constraints = model.problem.constraints
    for group in _DIAGNOSED:
        names = model.groups.get(group, [])
        if not names:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            saved = {n: constraints.pop(n) for n in names}
        try:
            status, _ = _run(model, make(False, 30, 0.0))
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                constraints.update(saved)
        if status == pulp.LpStatusOptimal:
            culprits.append(group)
    if culprits:
        return ("no plan satisfies the rules; dropping any of these makes it feasible: "
                + ", ".join(culprits) + _rule_detail(model, culprits))
    return "no plan satisfies the rules together (no single rule group is to blame)"


def _rule_detail(model: ShiftModel, culprits: list[str]) -> str:
    rules = model.rules
    parts = []
    if "headcount" in culprits:
        parts.append(f"headcount {dict(rules.headcount)}")
    if "family shares" in culprits:
        parts.append("min_share " + ", ".join(f"{f.name}={f.min_share}" for f in rules.families
                                              if f.min_share > 0))
    return f" ({'; '.join(parts)})" if parts else ""


def _snapshot(model: ShiftModel) -> dict[str, float | None]:
    return {v.name: v.varValue for v in model.problem.variables()}


def _restore(model: ShiftModel, values: dict[str, float | None]) -> None:
    for var in model.problem.variables():
        var.varValue = values.get(var.name)


def _has_plan(model: ShiftModel, sol_status: int) -> bool:
    return (sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
            and all(v.varValue is not None for v in model.shifts.values()))


def solve(model: ShiftModel, *, solver: str = DEFAULT_SOLVER, time_limit_s: float = 60,
          gap: float = 0.005) -> ScheduleResult:
    """Solve `model` within `time_limit_s` seconds to relative gap `gap` with `solver`
    ("cbc" or "highs"); stdout stays clean.

    Steps: (1) the LP relaxation gives `lp_bound`; (2) when the model has tours, their
    counts are rounded up from the LP and fixed, and the shifts and breaks are solved (a
    small MIP, at most half the remaining time); (3) if that plan is not within `gap` of
    the bound, the full MIP runs for the remaining time (CBC starts from the best plan) and
    the better plan is kept. "optimal" means within `gap` of the LP bound or proven by the
    solver; "feasible" is a plan with a larger gap.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be within [0, 1), got {gap}")
    make = SOLVERS[solver]
    started = time.perf_counter()
    deadline = started + time_limit_s

    def elapsed() -> float:
        return time.perf_counter() - started

    try:
        status, _ = _run(model, make(False, time_limit_s, gap))
    except pulp.PulpSolverError as exc:
        return _empty_result(model, "error", f"{solver} failed on the LP relaxation: {exc}",
                             solver, elapsed())
    if status == pulp.LpStatusInfeasible:
        return _empty_result(model, "infeasible", _diagnose(model, make), solver, elapsed())
    if status != pulp.LpStatusOptimal:
        return _empty_result(model, "error", f"{solver}: LP relaxation ended "
                                             f"{pulp.LpStatus[status]}", solver, elapsed())
    lp_bound = float(pulp.value(model.problem.objective) or 0.0)

    def gap_of(objective: float) -> float:
        return max(0.0, (objective - lp_bound) / max(abs(objective), 1e-9))

    best: tuple[float, dict, bool, str] | None = None
    _round_lp(model)
    last_status = status
    try:
        if model.tours:
            for var in model.tours.values():
                var.lowBound = var.upBound = var.varValue
            try:
                budget = max((deadline - time.perf_counter()) / 2, 1.0)
                last_status, sol_status = _run(model, make(True, budget, gap))
            finally:
                for var in model.tours.values():
                    var.lowBound, var.upBound = 0, None
            if _has_plan(model, sol_status):
                best = (float(pulp.value(model.problem.objective)), _snapshot(model), False,
                        "tour counts rounded up from the LP and fixed, then shifts and "
                        "breaks solved")
        # Leave a second for writing the model and reading the solution back.
        remaining = deadline - time.perf_counter() - 1.0
        if (best is None or gap_of(best[0]) > gap) and remaining > 0.5:
            if best is not None:
                _restore(model, best[1])
            last_status, sol_status = _run(model, make(True, remaining, gap))
            if _has_plan(model, sol_status):
                objective = float(pulp.value(model.problem.objective))
                proven = sol_status == pulp.LpSolutionOptimal
                if best is None or objective < best[0] - 1e-9:
                    best = (objective, _snapshot(model), proven, "full model solved")
                elif proven:
                    # The full model's own bound shows the fixed-tour plan is within gap even
                    # though the LP relaxation's bound is looser.
                    best = (best[0], best[1], True, f"{best[3]}; the full model proved no plan "
                                                    f"is better by more than gap {gap:g}")
    except pulp.PulpSolverError as exc:
        if best is None:
            return _empty_result(model, "error", f"{solver} failed: {exc}", solver, elapsed(),
                                 lp_bound)
    if best is None:
        if last_status == pulp.LpStatusInfeasible:
            return _empty_result(model, "infeasible", _diagnose(model, make), solver,
                                 elapsed(), lp_bound)
        return _empty_result(model, "error", f"{solver} found no integer plan within "
                                             f"{time_limit_s:g} s (status "
                                             f"{pulp.LpStatus[last_status]}); raise "
                                             "time_limit_s", solver, elapsed(), lp_bound)
    objective, values, proven, how = best
    _restore(model, values)
    mip_gap = gap_of(objective)
    if mip_gap <= gap + 1e-12:
        outcome, message = "optimal", f"within gap {gap:g} of the LP bound; {how}"
    elif proven:
        outcome, message = "optimal", (f"proven within gap {gap:g} by the solver's own bound "
                                       f"({mip_gap:.4f} above the looser LP bound); {how}")
    else:
        outcome, message = "feasible", (f"stopped after {elapsed():.1f} s of the "
                                        f"{time_limit_s:g} s limit with gap {mip_gap:.4f} "
                                        f"to the LP bound; {how}")
    return _read_plan(model, outcome, objective, lp_bound, mip_gap, elapsed(), solver, message)


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split integer `total` in proportion to `weights` (evenly if they are all zero)."""
    w = np.maximum(np.asarray(weights, dtype=float), 0.0)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    out = np.floor(exact + 1e-9).astype(int)
    for i in np.argsort(-(exact - out), kind="stable")[: total - out.sum()]:
        out[i] += 1
    return out.tolist()


def _round_lp(model: ShiftModel) -> None:
    """Turn the LP relaxation's values into an integer plan, left in the variables as the
    MIP start: tours rounded up per start band, each day's shifts of a band dealt to starts
    and each shift's breaks to offsets by largest remainder, so every linking equality holds.
    Continuous variables are left to the solver (CBC re-solves them for a MIP start)."""
    lp = lambda v: max(v.varValue or 0.0, 0.0)  # noqa: E731
    day_totals: dict[tuple[str, str, int, int], int] = defaultdict(int)
    by_band: dict[tuple[str, str, int], list] = defaultdict(list)
    for key, var in model.tours.items():
        by_band[key[:3]].append((key[3], var))
    for (queue, family, band), items in by_band.items():
        total = math.ceil(sum(lp(v) for _, v in items) - 1e-6)
        for (pattern, var), n in zip(items, _largest_remainder(total, [lp(v) for _, v in items])):
            var.varValue = n
            for day in pattern:
                day_totals[queue, family, band, day] += n
    groups: dict[tuple[str, str, int, int], list] = defaultdict(list)
    for key, var in model.shifts.items():
        queue, family, day, start = key
        fam = model.families[family]
        if fam.days_per_week is None:
            var.varValue = math.ceil(lp(var) - 1e-6)
            continue
        band = next(i for i, b in enumerate(start_bands(fam, model.rules.min_rest_hours))
                    if start in b)
        groups[queue, family, band, day].append(var)
    for key, vars_ in groups.items():
        for var, n in zip(vars_, _largest_remainder(day_totals.get(key, 0),
                                                   [lp(v) for v in vars_])):
            var.varValue = n
    for key, per_break in model.breaks.items():
        n = int(model.shifts[key].varValue)
        for offsets in per_break.values():
            bvars = list(offsets.values())
            for bvar, m in zip(bvars, _largest_remainder(n, [lp(v) for v in bvars])):
                bvar.varValue = m


def _count(var: pulp.LpVariable) -> int:
    return int(round(var.varValue or 0.0))


def _shift_instances(model: ShiftModel) -> dict[tuple, list[dict[str, int]]]:
    """Per shift key, one dict of break offsets (by break name) per agent on that shift."""
    out = {}
    for key, var in model.shifts.items():
        n = _count(var)
        if n == 0:
            continue
        per_break = {}
        for name, offsets in model.breaks[key].items():
            chosen = [o for o, bvar in sorted(offsets.items()) for _ in range(_count(bvar))]
            per_break[name] = chosen
        out[key] = [{name: chosen[i] for name, chosen in per_break.items()} for i in range(n)]
    return out


def _read_plan(model: ShiftModel, status: str, objective: float, lp_bound: float,
               mip_gap: float, seconds: float, solver: str, message: str) -> ScheduleResult:
    instances = _shift_instances(model)
    tours = stagger_breaks(_tours_frame(model, instances), model.families,
                           model.rules.interval_minutes)
    coverage = _coverage_frame(model)
    width_h = model.rules.interval_minutes / 60
    sl_by_day = {}
    known = coverage.dropna(subset=["service_level"])
    if len(known):
        volume = model.requirement.set_index(["unique_id", "ds"])["volume"]
        weights = volume.reindex(pd.MultiIndex.from_frame(known[["unique_id", "ds"]])).to_numpy()
        frame = known.assign(w=weights, day=known["ds"].dt.strftime("%Y-%m-%d"))
        frame = frame[frame["w"] > 0]
        for day, rows in frame.groupby("day"):
            sl_by_day[str(day)] = float(np.average(rows["service_level"], weights=rows["w"]))
    shortfall_hours = float(coverage["shortfall"].sum() * width_h)
    if shortfall_hours > 1e-9:
        message += f"; {shortfall_hours:g} agent-hours short" + _shortfall_causes(model, tours)
    return ScheduleResult(
        status=status, objective=objective, lp_bound=lp_bound, mip_gap=mip_gap,
        solve_seconds=seconds, solver=solver, message=message, tours=tours, coverage=coverage,
        paid_hours=float(tours["paid_hours"].sum()), labour_cost=float(tours["cost"].sum()),
        shortfall_agent_hours=shortfall_hours,
        service_level_by_day=sl_by_day, n_variables=model.n_variables,
        n_constraints=model.n_constraints)


def _headcount_used(model: ShiftModel, tours: pd.DataFrame) -> dict[str, int]:
    """Agents per contract as the headcount constraint counts them: every weekly tour, plus
    the daily shifts (families without tours) of the busiest day."""
    if not len(tours):
        return {}
    daily = tours["family"].map(lambda f: model.families[f].days_per_week is None)
    weekly = tours[~daily].groupby("contract")["tour_id"].nunique()
    per_day = tours[daily].groupby(["contract", "date"]).size()
    busiest = per_day.groupby(level="contract").max() if len(per_day) else per_day
    return {c: int(weekly.get(c, 0)) + int(busiest.get(c, 0))
            for c in set(weekly.index) | set(busiest.index)}


def _shortfall_causes(model: ShiftModel, tours: pd.DataFrame) -> str:
    """Name the rules that leave a plan short: headcount caps in full use, and requirement
    intervals no shift of any family reaches."""
    causes = []
    used = _headcount_used(model, tours)
    full = [f"{c} {used.get(c, 0)}/{cap}" for c, cap in model.rules.headcount.items()
            if used.get(c, 0) >= cap]
    if full:
        causes.append("headcount cap reached: " + ", ".join(full))
    unreachable = sum(1 for q in model.queues for i in np.flatnonzero(model.required[q] > 0)
                      if (q, int(i)) not in model.coverage)
    if unreachable:
        causes.append(f"{unreachable} required intervals no shift family can cover (start "
                      "windows, weekdays, or before the plan's first shift can start)")
    return f" ({'; '.join(causes)})" if causes else ""


def _tours_frame(model: ShiftModel, instances: dict[tuple, list[dict[str, int]]]) -> pd.DataFrame:
    """Deal shift instances to tours: a tour of pattern p takes, on each day of p, one shift
    of its start band. Counts match by the linking constraints, so every shift is dealt."""
    rows = []
    tour_no = 0

    def emit(tour: int, key: tuple, breaks: dict[str, int]) -> None:
        queue, family, day, start = key
        fam = model.families[family]
        date = model.origin + pd.Timedelta(days=day)
        begin = date + pd.Timedelta(minutes=start)
        row = {"tour_id": f"T{tour:04d}", "family": family, "contract": fam.contract,
               "queue": queue, "date": date, "shift_start": begin,
               "shift_end": begin + pd.Timedelta(minutes=fam.length_minutes),
               "break_start": pd.NaT, "break_end": pd.NaT, "lunch_start": pd.NaT,
               "lunch_end": pd.NaT, "paid_hours": float(fam.paid_hours),
               "cost": model.shift_cost[key]}
        for brk in fam.breaks:
            at = begin + pd.Timedelta(minutes=breaks[brk.name])
            row[f"{brk.kind}_start"] = at
            row[f"{brk.kind}_end"] = at + pd.Timedelta(minutes=brk.length_minutes)
        rows.append(row)

    pools: dict[tuple[str, str, int], list[tuple[tuple, dict[str, int]]]] = defaultdict(list)
    for key in sorted(instances):
        for breaks in instances[key]:
            pools[key[0], key[1], key[2]].append((key, breaks))
    for (queue, family, band, pattern), var in sorted(model.tours.items(), key=lambda kv: kv[0]):
        count = _count(var)
        if count == 0:
            continue
        band_starts = set(_band_starts(model, family, band))
        for _ in range(count):
            tour_no += 1
            for day in pattern:
                pool = pools[queue, family, day]
                pick = next(i for i, (key, _) in enumerate(pool) if key[3] in band_starts)
                key, breaks = pool.pop(pick)
                emit(tour_no, key, breaks)
    for (queue, family, day), pool in sorted(pools.items()):
        if model.families[family].days_per_week is not None:
            continue
        for key, breaks in pool:
            tour_no += 1
            emit(tour_no, key, breaks)
    frame = pd.DataFrame(rows, columns=TOUR_COLUMNS)
    for col in ("date", "shift_start", "shift_end", "break_start", "break_end", "lunch_start",
                "lunch_end"):
        frame[col] = pd.to_datetime(frame[col])
    frame["paid_hours"] = frame["paid_hours"].astype(float)
    frame["cost"] = frame["cost"].astype(float)
    return frame.sort_values(["tour_id", "shift_start"], kind="stable").reset_index(drop=True)


def _band_starts(model: ShiftModel, family: str, band: int) -> tuple[int, ...]:
    return start_bands(model.families[family], model.rules.min_rest_hours)[band]


def _coverage_frame(model: ShiftModel) -> pd.DataFrame:
    """Agents at work (on shift, not on break) per requirement row, from the solved model."""
    req = model.requirement
    width = pd.Timedelta(minutes=model.rules.interval_minutes)
    idx = ((req["ds"] - model.origin) / width).round().astype(int).to_numpy()
    scheduled = np.array([
        float(pulp.value(model.coverage[(q, i)]) or 0.0) if (q, i) in model.coverage else 0.0
        for q, i in zip(req["unique_id"].astype(str), idx)])
    scheduled = np.round(scheduled, 9)
    required = req["agents_required"].to_numpy(dtype=float)
    frame = pd.DataFrame({
        "unique_id": req["unique_id"].astype("string"), "ds": req["ds"], "required": required,
        "scheduled": scheduled, "shortfall": np.maximum(required - scheduled, 0.0),
        "service_level": _service_levels(model, scheduled)})
    return frame


def _service_levels(model: ShiftModel, scheduled: np.ndarray) -> np.ndarray:
    """Erlang C service level of the scheduled agents, each working `concurrency` chat
    slots (1.0 at zero volume), NaN where volume, aht_s or erlangs is unknown."""
    req = model.requirement
    if not {"volume", "aht_s", "erlangs"} <= set(req.columns):
        return np.full(len(req), np.nan)
    volume = req["volume"].to_numpy(dtype=float)
    aht = req["aht_s"].to_numpy(dtype=float)
    traffic = req["erlangs"].to_numpy(dtype=float)
    out = np.full(len(req), np.nan)
    known = (volume > 0) & np.isfinite(aht) & (aht > 0) & np.isfinite(traffic)
    # A fractional count (a break filling part of an interval) is a time mix of the two
    # whole counts around it, so its SL interpolates linearly between them.
    low = np.floor(scheduled[known] + 1e-9)
    frac = np.clip(scheduled[known] - low, 0.0, 1.0)
    seconds = sl_seconds_of(req, model.rules)[known]
    slots = slots_per_agent(req)[known]
    at_low = service_level((low * slots).astype(int), traffic[known], aht[known], seconds)
    at_high = service_level(((low + 1) * slots).astype(int), traffic[known], aht[known],
                            seconds)
    out[known] = at_low + frac * (at_high - at_low)
    out[volume == 0] = 1.0
    return out

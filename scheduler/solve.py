"""Solve a built `ShiftModel` and read the plan back as a typed `ScheduleResult`.

The LP relaxation of the full model is solved first: its optimum is the honest lower bound
reported as `lp_bound`, and `mip_gap` is measured against it (a solver's own tree bound can
only be tighter). A plan is then built by rounding that keeps every cap, improved by a MIP
restricted to the LP's neighbourhood and, when still short of the gap, by the full MIP;
each MIP step is bounded by branch-and-bound nodes and by a watchdog on the wall clock
(see `solve`). A plan more than 5% from the bound is written with `quality` "poor". Shortfall
is always allowed, so only hard rules that conflict make a model "infeasible", and then the
rule groups to blame are named.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pulp

from .bounds import tour_total_bound
from .breaks import stagger_breaks
from .implicit import BreakTwin, break_twin, explicit_plan, twin_plan
from .mip import Columns, LpOutcome, MipOutcome, quiet_stdout, run_mip, solve_lp
from .model import ShiftModel, build_model, gc_paused
from .plan import (COVERAGE_COLUMNS, COVERAGE_EXTRA, TOUR_COLUMNS, gap_to_bound,
                            tours_frame, written_plan)
from .shifts import start_bands

STATUSES = ("optimal", "feasible", "infeasible", "error")


def _cbc(mip: bool, time_limit_s: float, gap: float) -> pulp.LpSolver:
    # warmStart hands CBC the best plan so far (see _round_within_caps) as a MIP start; without it CBC
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
    currency, hours are paid hours, `shortfall_agent_hours` = agents short x hours.

    Every figure describes the plan as written (`tours`, after breaks are staggered):
    `objective` is recomputed from it (see `staffcast.scheduler.plan.written_plan` for the formula),
    `mip_gap` is that objective's gap to `bound`, and `coverage` counts agents at the
    resolution of the activities. `solver_objective` is the solver's own value for the
    same plan, kept for comparison. `lp_bound` is the LP relaxation's optimum; `bound` the
    best proven lower bound on any plan (the LP bound, raised by the solver's branch and
    bound when it proved more), so `mip_gap` is an upper bound on how far the plan is from
    the best possible one."""

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
    quality: str = "good"
    proven: bool = False
    solver_objective: float | None = None
    bound: float | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def best_bound(self) -> float | None:
        """The best proven lower bound: `bound`, or `lp_bound` when nothing proved more."""
        known = [b for b in (self.lp_bound, self.bound) if b is not None]
        return max(known) if known else None

    def summary(self) -> dict[str, Any]:
        """JSON-ready headline figures."""
        return {
            "status": self.status, "objective": self.objective, "lp_bound": self.lp_bound,
            "bound": self.best_bound, "mip_gap": self.mip_gap, "solver_objective": self.solver_objective,
            "solve_seconds": round(self.solve_seconds, 3),
            "solver": self.solver, "message": self.message, "paid_hours": self.paid_hours,
            "labour_cost": round(self.labour_cost, 4),
            "shortfall_agent_hours": round(self.shortfall_agent_hours, 4),
            "service_level_by_day": self.service_level_by_day,
            "tours": int(self.tours["tour_id"].nunique()) if len(self.tours) else 0,
            "variables": self.n_variables, "constraints": self.n_constraints,
            "quality": self.quality,
        }


def _run(model: ShiftModel, solver: pulp.LpSolver) -> tuple[int, int]:
    with quiet_stdout():
        status = model.problem.solve(solver)
    return status, model.problem.sol_status


def _empty_result(model: ShiftModel, status: str, message: str, solver: str, seconds: float,
                  lp_bound: float | None = None) -> ScheduleResult:
    return ScheduleResult(status=status, objective=None, lp_bound=lp_bound, mip_gap=None,
                          solve_seconds=seconds, solver=solver, message=message,
                          tours=pd.DataFrame(columns=TOUR_COLUMNS),
                          coverage=pd.DataFrame(columns=COVERAGE_COLUMNS + COVERAGE_EXTRA),
                          paid_hours=0.0,
                          labour_cost=0.0, shortfall_agent_hours=0.0,
                          n_variables=model.n_variables, n_constraints=model.n_constraints)


_DIAGNOSED = ("headcount", "agents", "family shares", "tours and days off",
              "service-level minimum agents")


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


POOR_GAP = 0.05
"""A plan further than this from the LP bound is written with `quality: poor` and a warning."""

# Branch-and-bound nodes per step. Work limits, not seconds, end each step, so the same
# inputs give the same plan however loaded the machine is; the wall clock only backstops.
RENS_NODES = 200
TWIN_NODES = 5000
"""The LP's neighbourhood on the break twin: on small 24x7 queues 200 nodes end it early
(one queue: 8.17% from the bound at 200 nodes, 6.07% at 5000, in the same 26 s)."""
POLISH_NODES = 1000
AFTER_TWIN_S = 2.0
"""Seconds of a queue's full MIP after the twin's neighbourhood when queues are solved one
by one: enough to prove small models, while on the queues that need the twin it has not
once improved a plan (three 20-queue runs) and took up to 13 s that later queues need."""
DAY_PLAN_SHARE = 0.65
"""Queue by queue, the share of its time a queue closed part of the day gives the twin's
neighbourhood; the rest goes to the bound (`scheduler.bounds`). Those queues found their
last better plan 2-9 s into 10-14 s, while the bound of branching on tours per family
keeps rising (a queue open 09-21: 1.6% above the LP in 10 s, 2.9% in 40 s, against its
plan 3.0% above); queues open around the clock give it 95% (their plans still improve,
their bound hardly moves: 0.0-0.5% in 15 s)."""
BOUND_MIN_S = 2.0
"""Seconds the tour-total bound may take even after a plan found faster than that."""
DECOMPOSE_ABOVE = 20_000
"""Models of several queues with more variables than this are solved queue by queue."""
SOLVE_WORKERS = 2
"""Queues solved at once when decomposed (each MIP step is its own process)."""


def _apply(model: ShiftModel, plan: dict[str, float]) -> None:
    """Leave `plan` (values by variable name) in the PuLP variables: the plan reader reads
    them."""
    for var in model.problem.variables():
        var.varValue = plan.get(var.name, 0.0)


def _complete(cols: Columns, x_int: np.ndarray, seconds: float) -> np.ndarray | None:
    """Plan `x_int` (integer columns set) with its continuous columns (shortfall, service
    level pieces) at their best values; None when no completion satisfies the rows."""
    lower, upper = cols.lower.copy(), cols.upper.copy()
    lower[cols.integer] = upper[cols.integer] = np.round(x_int[cols.integer])
    out = solve_lp(cols, seconds, lower, upper)
    if out.status != "optimal":
        return None
    x = out.x.copy()
    x[cols.integer] = np.round(x[cols.integer])
    return x


def solve(model: ShiftModel, *, solver: str = DEFAULT_SOLVER, time_limit_s: float = 60,
          gap: float = 0.005) -> ScheduleResult:
    """Solve `model` within `time_limit_s` seconds of wall clock to relative gap `gap` with
    `solver` ("cbc" or "highs"); stdout stays clean.

    Steps, each ending on work limits (the wall clock only backstops them):
    1. the LP relaxation: its optimum is `lp_bound`; if it is infeasible the hard rules
       conflict and the groups to blame are named (shortfall is allowed, so cover alone
       never makes a plan infeasible);
    2. rounding that respects every cap: tours rounded up from the LP, then taken back
       where a headcount or share cap would break (shortfall absorbs the rest), shifts and
       breaks dealt to match; its continuous part solved exactly;
    3. the MIP restricted to the LP's neighbourhood (every integer column between the
       floor and the ceiling of its LP value), started from that plan;
    4. if still more than `gap` from the bound, the full MIP started from the best plan;
    5. if still more than `gap` from the bound, a bound from each family's tour total made
       whole (`scheduler.bounds`), for at most as long as the plan took.
    A model of several queues above `DECOMPOSE_ABOVE` variables is solved queue by queue
    (see `_solve_by_queue`): queues share only headcount, which is priced and split. A
    pooled (multi-skill) model, or one capped by named agents, couples its queues through
    the skill sets and the agents, so it is always solved whole.
    The MIP steps run in a child process that a watchdog kills at the deadline; the best
    plan found so far is kept. "optimal" means within `gap` of the LP bound (or proven by
    the solver); "feasible" a plan with a larger gap; a plan more than 5% from the bound has
    `quality` "poor" and says so in its message.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s}")
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be within [0, 1), got {gap}")
    started = time.perf_counter()
    # The solver steps stop a little early: completing the plan and reading it back (breaks
    # staggered, coverage measured) must fit inside the limit too.
    clock = _Clock(started, started + max(time_limit_s - min(0.05 * time_limit_s + 0.5, 3.0),
                                          0.5))
    if len(model.queues) > 1 and model.n_variables > DECOMPOSE_ABOVE and not model.coupled:
        outcome = _solve_by_queue(model, solver, clock, gap)
    else:
        outcome = _solve_whole(model, solver, clock, gap)
    if outcome.plan is None:
        if outcome.status == "infeasible":
            return _empty_result(model, "infeasible", _diagnose(model, SOLVERS[solver]),
                                 solver, clock.elapsed(), outcome.lp_bound)
        return _empty_result(model, "error", outcome.message or
                             f"{solver} found no integer plan within {time_limit_s:g} s; "
                             "raise time_limit_s", solver, clock.elapsed(), outcome.lp_bound)
    _apply(model, outcome.plan)
    lp_bound = outcome.lp_bound
    bound = max(lp_bound, outcome.bound) if outcome.bound is not None else lp_bound
    objective = float(pulp.value(model.problem.objective))
    mip_gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
    which = "LP bound" if bound <= lp_bound else "best bound"
    how = "steps: " + "; ".join(outcome.steps)
    if outcome.watchdog:
        how += "; the solver overran the time limit and was stopped by the watchdog"
    if mip_gap <= gap + 1e-12:
        status, message = "optimal", f"within gap {gap:g} of the {which}; {how}"
    elif outcome.proven:
        status, message = "optimal", (f"proven within gap {gap:g} by the solver's own bound "
                                      f"({mip_gap:.4f} above the {which}); {how}")
    else:
        status, message = "feasible", (f"stopped after {clock.elapsed():.1f} s of the "
                                       f"{time_limit_s:g} s limit with gap {mip_gap:.4f} "
                                       f"to the {which}; {how}")
    if bound > lp_bound:
        message += (f"; lower bound {bound:.6g} proven by branch and bound (LP relaxation "
                    f"{lp_bound:.6g})")
    result = _read_plan(model, status, objective, lp_bound, bound, mip_gap, clock.elapsed(),
                        solver, message)
    # Judged on the written plan (breaks staggered, shortfall measured on the tours).
    written_gap = result.mip_gap if result.mip_gap is not None else mip_gap
    status, quality, message = judge_written(result.status, result.message, written_gap, gap,
                                             outcome.proven)
    return dataclasses.replace(result, status=status, quality=quality, message=message,
                               proven=outcome.proven)


def judge_written(status: str, message: str, written_gap: float | None, gap: float,
                  proven: bool) -> tuple[str, str, str]:
    """(status, quality, message) of a plan as written, `written_gap` its gap to the best
    proven bound: "optimal" only within `gap` (or `proven` by the solver), quality "poor" past
    `POOR_GAP` unless proven; the message says why (once: the shift plan and then its
    named roster are both judged by it)."""
    if written_gap is None or status not in ("optimal", "feasible"):
        return status, "good", message
    if status == "optimal" and not proven and written_gap > gap + 1e-12:
        status, message = "feasible", (f"the written plan is {written_gap:.4f} from the "
                                       f"bound, more than gap {gap:g}; {message}")
    if written_gap <= POOR_GAP or proven:
        return status, "good", message
    if message.startswith("POOR PLAN:"):  # judged poor already (the plan, then its roster)
        return status, "poor", message
    return status, "poor", (f"POOR PLAN: {written_gap:.1%} above the bound (more than "
                            f"{POOR_GAP:.0%}); raise time_limit_s or simplify the rules; "
                            f"{message}")


@dataclass
class _Clock:
    started: float
    deadline: float

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self, share: float = 1.0) -> float:
        return max((self.deadline - time.perf_counter()) * share, 0.5)


@dataclass
class _Outcome:
    """A solve path's result: `plan` maps variable names to values (None without a plan);
    `bound` a proven lower bound better than `lp_bound` when branch and bound found one."""

    plan: dict[str, float] | None
    lp_bound: float | None
    steps: list[str]
    proven: bool = False
    watchdog: bool = False
    status: str = ""
    message: str = ""
    bound: float | None = None
    objective: float | None = None
    """The plan's cost as the solver's columns value it (before breaks are staggered)."""


def _solve_whole(model: ShiftModel, solver: str, clock: _Clock, gap: float,
                 relaxed: LpOutcome | None = None, cols: Columns | None = None,
                 after_twin_s: float | None = None, plan_share: float = 0.95) -> _Outcome:
    """Steps 1-5 of `solve` on one model (`relaxed`: its LP relaxation, when known;
    `after_twin_s`: seconds at most for step 4 after the twin's neighbourhood;
    `plan_share`: of the time left, the share the twin's neighbourhood may take)."""
    cols = cols or Columns.of(model.problem)
    relaxed = relaxed or solve_lp(cols, clock.left())
    if relaxed.status != "optimal":
        return _Outcome(None, None, [], status=relaxed.status,
                        message=f"{solver}: LP relaxation ended {relaxed.message}")
    lp_bound = float(relaxed.objective)

    def gap_of(x: np.ndarray) -> float:
        objective = cols.objective(x)
        return max(0.0, (objective - lp_bound) / max(abs(objective), 1e-9))

    steps: list[str] = []
    proven = watchdog = False
    bound = None
    run = _run_highs if solver == "highs" else _run_cbc
    status = ""
    best = _complete(cols, _round_within_caps(model, cols, relaxed.x), clock.left())
    if best is not None:
        steps.append(f"rounded LP {gap_of(best):.2%} ({clock.elapsed():.1f} s)")
    twin = (break_twin(model) if solver == "highs" and best is not None and gap_of(best) > gap
            and clock.left() > 1.0 else None)
    if twin is not None:
        began = time.perf_counter()
        found, out = _twin_neighbourhood(twin, model, cols, best, clock, gap, plan_share)
        watchdog |= out is not None and out.status == "killed"
        if found is not None and cols.objective(found) < cols.objective(best) - 1e-9:
            best = found
        steps.append(f"LP neighbourhood, breaks by start time {gap_of(best):.2%} "
                     f"({time.perf_counter() - began:.1f} s, "
                     f"{'no plan' if out is None else out.status})")
    elif best is None or gap_of(best) > gap:
        lower, upper = _neighbourhood(cols, relaxed.x, best)
        out = run(model, cols, lower=lower, upper=upper, start=best,
                  time_limit_s=clock.left(0.5), gap=gap, max_nodes=RENS_NODES)
        watchdog |= out.status == "killed"
        if out.x is not None and (best is None or out.objective < cols.objective(best) - 1e-9):
            best = out.x
        if best is not None:
            steps.append(f"LP neighbourhood {gap_of(best):.2%} ({out.seconds:.1f} s, "
                         f"{out.status})")
    if (best is None or gap_of(best) > gap) and clock.left() > 1.0:
        limit = clock.left()
        if twin is not None and after_twin_s is not None:
            limit = min(limit, after_twin_s)
        out = run(model, cols, lower=cols.lower, upper=cols.upper, start=best,
                  time_limit_s=limit, gap=gap, max_nodes=POLISH_NODES)
        watchdog |= out.status == "killed"
        status = out.status
        if out.x is not None and (best is None or out.objective < cols.objective(best) - 1e-9):
            best = out.x
        if out.bound is not None and out.bound > lp_bound:
            bound = out.bound  # the full model's dual bound holds for every plan
        if best is not None:
            objective = cols.objective(best)
            proven = (out.status == "optimal" and out.bound is not None
                      and objective - out.bound <= gap * max(abs(objective), 1e-9))
            steps.append(f"full model {gap_of(best):.2%} ({out.seconds:.1f} s, {out.status})")
    if best is None:
        return _Outcome(None, lp_bound, steps, status=status, bound=bound)
    exact = _complete(cols, best, clock.left()) if clock.left() > 0.5 else None
    best = exact if exact is not None else best
    objective = cols.objective(best)
    known = max(lp_bound, bound if bound is not None else -math.inf)
    # At most as long as the plan took (and BOUND_MIN_S): a plan found in seconds is not
    # held back for the rest of a long limit to be proven.
    seconds = min(clock.deadline - time.perf_counter(), max(BOUND_MIN_S, clock.elapsed()))
    if not proven and model.tours and gap_to_bound(objective, known) > gap and seconds > 0.5:
        began = time.perf_counter()
        proof = tour_total_bound(cols, _tour_groups(model, cols), seconds,
                                 target=objective * (1 - gap))
        if proof is not None and proof > known + 1e-9:
            bound = proof
            steps.append(f"tours per family whole: bound {gap_to_bound(objective, proof):.2%} "
                         f"below the plan ({time.perf_counter() - began:.1f} s)")
    return _Outcome(dict(zip(cols.names, best)), lp_bound, steps, proven, watchdog,
                    bound=bound, objective=objective)


def _tour_groups(model: ShiftModel, cols: Columns) -> list[np.ndarray]:
    """Column indices of each pool's tours of each family (`scheduler.bounds`)."""
    position = {n: i for i, n in enumerate(cols.names)}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (pool, family, _, _), var in model.tours.items():
        groups[pool, family].append(position[var.name])
    return [np.array(g) for g in groups.values()]


def _twin_neighbourhood(twin: BreakTwin, model: ShiftModel, cols: Columns, best: np.ndarray,
                        clock: _Clock, gap: float, share: float = 0.95
                        ) -> tuple[np.ndarray | None, MipOutcome | None]:
    """Step 3 on the model's twin with breaks counted per start time
    (`scheduler.implicit`): the same plans, far fewer integer columns, and HiGHS gets past
    the root of 24x7 queues with quarter-hour breaks (one such queue: 7.75% -> 2.67% from
    the bound in 8 s, where the model itself stays at 7.75% for minutes). Returns the best
    plan as the model's (breaks dealt earliest deadline first), or None, and the step's
    outcome."""
    # Centred in the LP's optimal face, not at a vertex: the neighbourhood frees more
    # columns (q09 1,286 against 873) and holds better plans (q00 5.29% -> 4.51%, q09
    # 2.67% -> 2.54% in 14 s; 20 queues 2.16% -> 2.01-2.09%).
    relaxed = solve_lp(twin.cols, clock.left(), interior=True)
    start = _complete(twin.cols, twin_plan(twin, model, cols, best), clock.left())
    if relaxed.status != "optimal" or start is None:
        return None, None
    lower, upper = _neighbourhood(twin.cols, relaxed.x, start)
    # Nearly all the time: on the hardest queues the model's own full MIP after it rarely
    # gets past its root.
    out = run_mip(twin.cols, lower=lower, upper=upper, start=start,
                  time_limit_s=clock.left(share), gap=gap, max_nodes=TWIN_NODES)
    if out.x is None:
        return None, out
    return _complete(cols, explicit_plan(twin, model, cols, out.x), clock.left()), out


def _headcount_use(model: ShiftModel, values: Callable[[pulp.LpVariable], float]
                   ) -> dict[str, float]:
    """Agents per contract as the headcount rule counts them: tours plus the daily shifts
    of the busiest day."""
    out: dict[str, float] = defaultdict(float)
    for (q, f, b, p), var in model.tours.items():
        out[model.families[f].contract] += values(var)
    per_day: dict[tuple[str, int], float] = defaultdict(float)
    for (q, f, d, s), var in model.shifts.items():
        if model.families[f].days_per_week is None:
            per_day[model.families[f].contract, d] += values(var)
    for contract in {c for c, _ in per_day}:
        out[contract] += max(v for (c, _), v in per_day.items() if c == contract)
    return dict(out)


def fair_share(left: float, waiting: int, running: list[float], workers: int) -> float:
    """Seconds for the queue starting now: the largest equal time that lets the `waiting`
    queues (this one first, on its own worker, free now) each start on the worker free
    first (the others still held by `running` queues for those seconds) and all end within
    `left` seconds; a queue that no later one will follow on its worker takes all of
    `left`, so no worker idles while a queue could use it.

    Worker-seconds split equally regardless of workers starve the last queue: of three
    queues on two free workers each would get two thirds of the time left, and the third
    could only start when one of the others ended (the last of 20 queues had 8.6 s while
    the one beside it had 16.4 s and its worker then stood idle)."""
    lanes = [0.0] + sorted(max(r, 0.0) for r in running)[:workers - 1]
    lanes += [0.0] * (workers - len(lanes))

    def deal(seconds: float) -> tuple[bool, bool]:
        """(all end in time, this queue's worker takes a later one) for equal times."""
        ends, followed, last = list(lanes), False, 0.0
        for j in range(max(waiting, 1)):
            i = 0 if j == 0 else int(np.argmin(ends))
            followed |= j > 0 and i == 0
            ends[i] += seconds
            last = max(last, ends[i])
        return last <= left + 1e-9, followed

    lo, hi = 0.0, left
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if deal(mid)[0] else (lo, mid)
    return lo if deal(lo)[1] else left


def _solve_by_queue(model: ShiftModel, solver: str, clock: _Clock, gap: float) -> _Outcome:
    """Queues share only headcount, so each queue is its own model. The LP bound is the
    Lagrangian bound: each queue's LP with every agent of a capped contract priced at
    lambda, minus lambda x cap, which is a lower bound for any lambda >= 0 and the exact LP
    optimum when no cap binds (lambda = 0). Lambda follows a projected subgradient. Then
    each contract's cap is split among the queues by their LP use (largest remainder), and
    each queue is solved with its share as its own cap."""
    rules = model.rules
    free = dataclasses.replace(rules, headcount={})
    with gc_paused():
        subs = {q: build_model(model.requirement[model.requirement["unique_id"] == q], free)
                for q in model.queues}
        cols = {q: Columns.of(m.problem) for q, m in subs.items()}
    capped = {c: cap for c, cap in rules.headcount.items()}
    n_days = model.grid.n_days

    def priced(q: str, lam: dict[str, float]) -> np.ndarray:
        """Column costs of queue q with lambda per agent of each capped contract (a daily
        shift counts against each day's cap, so it carries lambda / days)."""
        m, c = subs[q], cols[q]
        cost = c.cost.copy()
        if not any(lam.values()):
            return cost
        position = {n: i for i, n in enumerate(c.names)}
        for (qq, f, b, p), var in m.tours.items():
            cost[position[var.name]] += lam.get(m.families[f].contract, 0.0)
        for (qq, f, d, s), var in m.shifts.items():
            if m.families[f].days_per_week is None:
                cost[position[var.name]] += lam.get(m.families[f].contract, 0.0) / n_days
        return cost

    lam = {c: 0.0 for c in capped}
    best_bound, relaxed, use = -math.inf, {}, {}
    step0 = max((f.cost_per_hour * f.paid_hours * (f.days_per_week or 1)
                 for f in rules.families), default=1.0)
    for iteration in range(12):
        total, use = 0.0, {}
        # HiGHS releases the GIL, so the queues' LPs run side by side.
        with ThreadPoolExecutor(max_workers=SOLVE_WORKERS) as pool:
            outs = list(pool.map(lambda q: solve_lp(dataclasses.replace(
                cols[q], cost=priced(q, lam)), clock.left(0.2)), model.queues))
        for q, out in zip(model.queues, outs):
            if out.status != "optimal":
                return _Outcome(None, None, [], status=out.status,
                                message=f"{solver}: LP relaxation of queue {q!r} ended "
                                        f"{out.message}")
            relaxed[q] = LpOutcome("optimal", out.x, cols[q].objective(out.x))
            total += out.objective
            position = {n: i for i, n in enumerate(cols[q].names)}
            use[q] = _headcount_use(subs[q], lambda v: float(out.x[position[v.name]]))
        bound = total - sum(lam[c] * cap for c, cap in capped.items())
        best_bound = max(best_bound, bound)
        excess = {c: sum(u.get(c, 0.0) for u in use.values()) - cap for c, cap in capped.items()}
        slack_ok = all(e <= 1e-6 and lam[c] * -e <= 1e-6 * max(abs(bound), 1) for c, e in
                       excess.items())
        if slack_ok or clock.left() < 0.75 * (clock.deadline - clock.started):
            break
        lam = {c: max(0.0, lam[c] + step0 / (iteration + 1) * e / max(capped[c], 1))
               for c, e in excess.items()}
    steps = [f"{len(subs)} queues solved one by one (headcount shared by price; Lagrangian "
             f"bound after {iteration + 1} round(s))"]
    shares = {q: {} for q in subs}
    for contract, cap in capped.items():
        wanted = [use[q].get(contract, 0.0) for q in model.queues]
        if sum(wanted) <= cap:
            # Room to spare: each queue may use its LP need rounded up, within the cap.
            split = [math.ceil(w - 1e-6) for w in wanted]
            while sum(split) > cap:
                split[int(np.argmax(np.array(split) - np.array(wanted)))] -= 1
        else:
            split = _largest_remainder(int(cap), wanted)
        for q, n in zip(model.queues, split):
            shares[q][contract] = n
    workers = max(1, min(SOLVE_WORKERS, len(model.queues)))
    # Each queue takes an equal share of the time left when it starts (`fair_share`), so
    # time a queue did not need goes to those after it. Not a share by cost: the large queues are
    # close to their bound within seconds, while the small 24x7 ones gain with every second
    # (q15 8.3% at 17 s, 6.1% at 26 s); over 20 queues cost-weighted shares gave 2.21-2.25%,
    # equal ones 2.16%.
    waiting = {"count": len(model.queues)}
    promised: dict[str, float] = {}

    def around_the_clock(q: str) -> bool:
        return bool(np.all(np.nan_to_num(model.required[q]) > 0))

    lock = threading.Lock()

    def one(q: str) -> _Outcome:
        sub, relax = subs[q], relaxed[q]
        if shares[q]:
            sub = build_model(sub.requirement, dataclasses.replace(rules, headcount=shares[q]))
            if any(lam.values()) or any(use[q].get(c, 0.0) > n + 1e-6
                                        for c, n in shares[q].items()):
                relax = None  # priced, or cut by its share: not this model's LP optimum
        with lock:
            now = time.perf_counter()
            seconds = fair_share(clock.left(), waiting["count"],
                                 [d - now for d in promised.values()], workers)
            waiting["count"] -= 1
            promised[q] = now + seconds
        try:
            budget = _Clock(now, min(now + seconds, clock.deadline))
            return _solve_whole(sub, solver, budget, gap, relaxed=relax,
                                after_twin_s=AFTER_TWIN_S,
                                plan_share=0.95 if around_the_clock(q) else DAY_PLAN_SHARE)
        finally:
            with lock:
                del promised[q]

    plan: dict[str, float] = {}
    watchdog = False
    # Queues that need agents at every hour go last, where each takes a share of all the
    # time the others left: their night tours and all-day quarter-hour breaks keep paying
    # for more time (over 20 queues the other queues were as good at 12 s as at 40 s).
    # Within each group the largest go first. 20 queues: 2.01-2.09% -> 1.98-2.02%.
    order = sorted(model.queues, key=lambda q: (around_the_clock(q), -relaxed[q].objective))
    proven_sum = 0.0
    far: list[tuple[float, str]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for q, outcome in zip(order, pool.map(one, order)):
            if outcome.plan is None:
                return _Outcome(None, best_bound, steps, status=outcome.status,
                                message=f"queue {q!r}: {outcome.message or 'no integer plan'}")
            plan.update(outcome.plan)
            watchdog |= outcome.watchdog
            own = max(outcome.lp_bound, outcome.bound or -math.inf)
            proven_sum += own
            queue_gap = gap_to_bound(outcome.objective, own)
            if queue_gap > POOR_GAP:
                far.append((queue_gap, q))
    if far:
        # A whole plan close to its bound can hide a small queue far from its own.
        steps.append(f"queues more than {POOR_GAP:.0%} from their own bound: " + ", ".join(
            f"{q} {g:.2%}" for g, q in sorted(far, key=lambda item: (-item[0], item[1]))))
    # Without a headcount cap the queues are independent models, so the sum of their own
    # proven bounds is a bound on the whole; with one, only the Lagrangian bound holds.
    bound = proven_sum if not capped and proven_sum > best_bound else None
    return _Outcome(plan, best_bound, steps, False, watchdog, bound=bound)


def _run_highs(model: ShiftModel, cols: Columns, **kwargs) -> MipOutcome:
    return run_mip(cols, **kwargs)


def _run_cbc(model: ShiftModel, cols: Columns, *, lower: np.ndarray, upper: np.ndarray,
             start: np.ndarray | None, time_limit_s: float, gap: float,
             max_nodes: int | None) -> MipOutcome:
    """The same step with CBC through PuLP (CBC is a child process that keeps its limit;
    it has no node limit here, so its result can depend on load)."""
    variables = model.problem.variables()
    by_name = {v.name: v for v in variables}
    saved = {v.name: (v.lowBound, v.upBound) for v in variables}
    began = time.perf_counter()
    try:
        for name, lo, hi, value in zip(cols.names, lower, upper,
                                       start if start is not None else [None] * cols.n_cols):
            var = by_name[name]
            var.lowBound = None if lo == -math.inf else float(lo)
            var.upBound = None if hi == math.inf else float(hi)
            var.varValue = value
        status, sol_status = _run(model, _cbc(True, time_limit_s, gap))
    except pulp.PulpSolverError as exc:
        return MipOutcome("error", None, None, None, time.perf_counter() - began, str(exc))
    finally:
        for name, (lo, hi) in saved.items():
            by_name[name].lowBound, by_name[name].upBound = lo, hi
    seconds = time.perf_counter() - began
    if status == pulp.LpStatusInfeasible:
        return MipOutcome("infeasible", None, None, None, seconds)
    if not _has_plan(model, sol_status):
        return MipOutcome("noplan", None, None, None, seconds)
    x = np.array([by_name[n].varValue or 0.0 for n in cols.names], dtype=float)
    if cols.violation(x) > 1e-6:
        return MipOutcome("noplan", None, None, None, seconds)
    proven = sol_status == pulp.LpSolutionOptimal
    return MipOutcome("optimal" if proven else "stopped", x, cols.objective(x),
                      cols.objective(x) if proven else None, seconds)


def _has_plan(model: ShiftModel, sol_status: int) -> bool:
    return (sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
            and all(v.varValue is not None for v in model.shifts.values()))


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


def _neighbourhood(cols: Columns, lp_x: np.ndarray,
                   start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of the LP's neighbourhood: every integer column between the floor and
    the ceiling of its LP value, widened to hold the start plan."""
    lower, upper = cols.lower.copy(), cols.upper.copy()
    ints = cols.integer
    value = np.maximum(lp_x[ints], 0.0)
    lo, hi = np.floor(value + 1e-6), np.ceil(value - 1e-6)
    if start is not None:
        lo, hi = np.minimum(lo, start[ints]), np.maximum(hi, start[ints])
    lower[ints], upper[ints] = lo, hi
    return lower, upper


def _round_within_caps(model: ShiftModel, cols: Columns, lp_x: np.ndarray) -> np.ndarray:
    """An integer plan near the LP optimum that keeps every cap: tours and daily shifts
    rounded up, then units taken back (the most rounded-up first) wherever a headcount or a
    share cap would break; each day's shifts of a band dealt to its starts and each shift's
    breaks to their offsets by largest remainder, so every linking equality holds.
    Continuous columns are left at 0 (see `_complete`)."""
    position = {name: i for i, name in enumerate(cols.names)}
    lp = lambda var: max(float(lp_x[position[var.name]]), 0.0)  # noqa: E731
    rules, families = model.rules, model.families
    count: dict[str, int] = {}
    # Units: (variable, LP value). Rounded up per start band, so a band keeps its LP total.
    by_band: dict[tuple[str, str, int], list] = defaultdict(list)
    for key, var in model.tours.items():
        by_band[key[:3]].append(var)
    for members in by_band.values():
        total = math.ceil(sum(lp(v) for v in members) - 1e-6)
        for var, n in zip(members, _largest_remainder(total, [lp(v) for v in members])):
            count[var.name] = n
    daily = {key: var for key, var in model.shifts.items()
             if families[key[1]].days_per_week is None}
    for var in daily.values():
        count[var.name] = math.ceil(lp(var) - 1e-6)

    def take_back(candidates: list, units: int) -> None:
        # Most rounded-up first: the unit the LP wanted least.
        for _ in range(units):
            live = [v for v in candidates if count[v.name] > 0]
            if not live:
                return
            var = max(live, key=lambda v: (count[v.name] - lp(v), v.name))
            count[var.name] -= 1

    for contract, cap in rules.headcount.items():
        tour_vars = [v for (q, f, b, p), v in model.tours.items()
                     if families[f].contract == contract]
        day_vars: dict[int, list] = defaultdict(list)
        for (q, f, d, s), v in daily.items():
            if families[f].contract == contract:
                day_vars[d].append(v)
        excess = sum(count[v.name] for v in tour_vars) - cap
        if excess > 0:
            take_back(tour_vars, excess)
        for day, members in day_vars.items():
            excess = sum(count[v.name] for v in tour_vars) + sum(count[v.name]
                                                                  for v in members) - cap
            if excess > 0:
                take_back(members, excess)

    # The agents' caps (tours per skill set, contract, week and day: see model.caps).
    for members, cap in model.caps:
        excess = sum(count[v.name] for v in members) - cap
        if excess > 0:
            take_back(members, excess)

    def paid(queue: str) -> dict[str, float]:
        hours: dict[str, float] = defaultdict(float)
        for (q, f, b, p), v in model.tours.items():
            if q == queue:
                hours[f] += count[v.name] * len(p) * families[f].paid_hours
        for (q, f, d, s), v in daily.items():
            if q == queue:
                hours[f] += count[v.name] * families[f].paid_hours
        return hours

    caps = [((name,), fam.max_share) for name, fam in families.items() if fam.max_share < 1]
    caps += [(tuple(limit.families), limit.max_share) for limit in rules.share_limits
             if limit.max_share < 1]
    for queue in model.pools or model.queues:
        members = {names: [v for (q, f, b, p), v in model.tours.items()
                           if q == queue and f in names]
                   + [v for (q, f, d, s), v in daily.items() if q == queue and f in names]
                   for names, _ in caps}
        # Taking a unit back shrinks the queue's total, which can break another cap: repeat
        # until none is broken (each round removes a unit, so it ends).
        while True:
            hours = paid(queue)
            broken = [names for names, share in caps
                      if sum(hours[n] for n in names) > share * sum(hours.values()) + 1e-9
                      and any(count[v.name] > 0 for v in members[names])]
            if not broken:
                break
            take_back(members[broken[0]], 1)

    x = np.zeros(cols.n_cols)
    for name, n in count.items():
        x[position[name]] = n
    day_totals: dict[tuple[str, str, int, int], int] = defaultdict(int)
    for (queue, family, band, pattern), var in model.tours.items():
        for day in pattern:
            day_totals[queue, family, band, day] += count[var.name]
    groups: dict[tuple[str, str, int, int], list] = defaultdict(list)
    bands = {name: start_bands(fam, rules.min_rest_hours) for name, fam in families.items()}
    for key, var in model.shifts.items():
        queue, family, day, start = key
        if families[family].days_per_week is None:
            continue
        band = next(i for i, b in enumerate(bands[family]) if start in b)
        groups[queue, family, band, day].append(var)
    for key, members in groups.items():
        for var, n in zip(members, _largest_remainder(day_totals.get(key, 0),
                                                      [lp(v) for v in members])):
            x[position[var.name]] = n
    for key, per_break in model.breaks.items():
        n = int(x[position[model.shifts[key].name]])
        for offsets in per_break.values():
            members = list(offsets.values())
            for var, m in zip(members, _largest_remainder(n, [lp(v) for v in members])):
                x[position[var.name]] = m
    return x


def _read_plan(model: ShiftModel, status: str, objective: float, lp_bound: float,
               bound: float, mip_gap: float, seconds: float, solver: str,
               message: str) -> ScheduleResult:
    """The solved model as the plan that is written: tours with breaks staggered against
    the requirement, and every figure (objective, gap, coverage, shortfall, service level)
    measured on those tours. `objective` and `mip_gap` are the solver's; they are replaced
    by the written plan's (the solver's objective stays as `solver_objective`)."""
    rules = model.rules
    need = _pool_requirement(model) if model.allocation else model.requirement
    tours = stagger_breaks(tours_frame(model), model.families, rules.interval_minutes,
                           requirement=need, origin=model.origin,
                           horizon_minutes=model.grid.horizon_minutes, cyclic=model.grid.cyclic)
    written = written_plan(model, tours)
    if abs(written.objective - objective) > 1e-6 * max(1.0, abs(objective)):
        message += (f"; objective {written.objective:.6g} measured on the written plan "
                    f"(solver's {objective:.6g}, gap {mip_gap:.4f})")
    if written.shortfall_agent_hours > 1e-9:
        message += (f"; {written.shortfall_agent_hours:g} agent-hours short"
                    + _shortfall_causes(model, tours))
    return ScheduleResult(
        status=status, objective=written.objective, lp_bound=lp_bound,
        bound=bound if bound > lp_bound else None,
        mip_gap=gap_to_bound(written.objective, bound), solve_seconds=seconds,
        solver=solver, message=message, tours=tours, coverage=written.coverage,
        paid_hours=written.paid_hours, labour_cost=written.labour_cost,
        shortfall_agent_hours=written.shortfall_agent_hours,
        service_level_by_day=written.service_level_by_day, n_variables=model.n_variables,
        n_constraints=model.n_constraints, solver_objective=objective)


def _pool_requirement(model: ShiftModel) -> pd.DataFrame:
    """What each skill set of a solved pooled model must keep at work per interval, as a
    requirement frame keyed by the pool labels (agents): a multi-queue set the sum of its
    allocations, a one-queue set its queue's requirement less what the other sets give the
    queue (at most its agents at work). Breaks are staggered against this, so moving them
    never takes away agents the plan allocated."""
    given: dict[tuple[str, int], float] = defaultdict(float)
    need: dict[tuple[str, int], float] = defaultdict(float)
    for (label, queue, idx), var in model.allocation.items():
        value = max(var.varValue or 0.0, 0.0)
        need[label, idx] += value
        given[queue, idx] += value
    singles = {label for label in model.pools if ";" not in label}
    for (label, idx), expr in model.pool_cover.items():
        if label in singles:
            required = model.required[label][idx]
            if required > 0:
                need[label, idx] = min(max(required - given[label, idx], 0.0),
                                       max(float(pulp.value(expr) or 0.0), 0.0))
    width = pd.Timedelta(minutes=model.rules.interval_minutes)
    keys = sorted(need)
    return pd.DataFrame({"unique_id": pd.array([k[0] for k in keys], dtype="string"),
                         "ds": [model.origin + k[1] * width for k in keys],
                         "agents_required": [need[k] for k in keys]})


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


def _count(var: pulp.LpVariable) -> int:
    return int(round(var.varValue or 0.0))


def _shortfall_causes(model: ShiftModel, tours: pd.DataFrame) -> str:
    """Name the rules that leave a plan short: headcount caps in full use, and requirement
    intervals no shift of any family reaches."""
    causes = []
    used = _headcount_used(model, tours)
    full = [f"{c} {used.get(c, 0)}/{cap}" for c, cap in model.rules.headcount.items()
            if used.get(c, 0) >= cap]
    if full:
        causes.append("headcount cap reached: " + ", ".join(full))
    # The named agents' caps (skills, contracts, dates, weekly hours) in full use.
    binding = [cap for members, cap in model.caps
               if sum(_count(v) for v in members) >= cap]
    if binding:
        causes.append(f"the named agents cap the plan: {len(binding)} agent cap(s) in full use "
                      f"(skills, contract, unavailable dates or weekly hours), "
                      f"{sum(1 for c in binding if c == 0)} of them with no agent at all")
    unreachable = sum(1 for q in model.queues for i in np.flatnonzero(model.required[q] > 0)
                      if (q, int(i)) not in model.coverage)
    if unreachable:
        causes.append(f"{unreachable} required intervals no shift family can cover (start "
                      "windows, weekdays, or before the plan's first shift can start)")
    return f" ({'; '.join(causes)})" if causes else ""

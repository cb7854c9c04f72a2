"""Build the shift-scheduling integer program (PuLP) from a requirement frame and rules.

One model holds every queue, with per-queue variables: queues share only the headcount of
each contract type. Variables (all names deterministic, dates as MMDD, times as HHMM):

- `x_{queue}_{family}_{MMDD}_{HHMM}` integer: shifts of a family starting at that time;
- `b_{queue}_{family}_{MMDD}_{HHMM}_{break}_{offset}` integer: how many of those shifts take
  the break at that offset (minutes) from their start -- explicit break placement;
- `w_{queue}_{family}_b{band}_{days}` integer: weekly tours working those days with starts
  inside start band `band` (families with `days_per_week`);
- `short_{queue}_{MMDDHHMM}` continuous: agents short of requirement in an interval;
- service-level objective only: `z_{queue}_{MMDDHHMM}_{segment}` continuous pieces of the
  concave answered-within-T curve and `slmiss_{queue}_{period}` calls short of the target.

See docs/scheduling.md for the constraints.
"""

from __future__ import annotations

import gc
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from .errors import SchedulerError
from .erlang import service_level
from .pooling import agent_skill_set, skill_label, skill_sets
from .rules import BreakRule, ScheduleRules, ShiftFamily
from .shifts import DAY_MINUTES, Grid, shift_cost, span_weights, start_bands, tour_patterns

ShiftKey = tuple[str, str, int, int]  # queue, family, day index, start minute of day


@dataclass
class ShiftModel:
    """A built, unsolved model plus the index maps needed to read a solution back.

    `requirement` is the caller's frame copied and sorted; `required` holds per queue the
    per-interval requirement on the grid (NaN where the frame has no row).
    """

    problem: pulp.LpProblem
    rules: ScheduleRules
    requirement: pd.DataFrame
    origin: pd.Timestamp
    grid: Grid
    queues: list[str]
    families: dict[str, ShiftFamily]
    required: dict[str, np.ndarray]
    shifts: dict[ShiftKey, pulp.LpVariable]
    shift_cost: dict[ShiftKey, float]
    breaks: dict[ShiftKey, dict[str, dict[int, pulp.LpVariable]]]
    tours: dict[tuple[str, str, int, tuple[int, ...]], pulp.LpVariable]
    shortfall: dict[tuple[str, int], pulp.LpVariable]
    coverage: dict[tuple[str, int], pulp.LpAffineExpression]
    groups: dict[str, list[str]] = field(default_factory=dict)
    pools: list[str] = field(default_factory=list)
    """Labels in the queue slot of the shift and tour keys: the queues themselves, or with
    `multi_skill` the skill-set labels ("aftersales;presales")."""
    pool_cover: dict[tuple[str, int], pulp.LpAffineExpression] = field(default_factory=dict)
    """Agents at work of each pool label per interval (multi-skill: before allocation)."""
    allocation: dict[tuple[str, str, int], pulp.LpVariable] = field(default_factory=dict)
    """`a_{set}_{queue}_{MMDDHHMM}`: agents of a multi-queue skill set serving a queue."""
    caps: list[tuple[list[pulp.LpVariable], int]] = field(default_factory=list)
    """The agents' caps (see `_add_agent_caps`): sum of the tour and daily-shift variables
    <= the count, kept by the solver's rounding too."""

    @property
    def coupled(self) -> bool:
        """Queues share more than headcount (pooled skill sets or the agents' caps), so the
        model cannot be solved queue by queue."""
        return bool(self.caps) or any(p not in self.queues for p in self.pools)

    @property
    def n_variables(self) -> int:
        return len(self.problem.variables())

    @property
    def n_constraints(self) -> int:
        return self.problem.numConstraints()


_SAFE = re.compile(r"[^A-Za-z0-9]+")
_GC_LOCK = threading.Lock()
_gc_depth = [0, False]  # builds under way, whether the collector was on before the first


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a model is built (threads may nest).

    A build makes hundreds of thousands of objects that all stay alive, and each full
    collection walks every object alive, the other queues' models included: building 20
    queues' models after the whole one took 11.2 s with the collector on, 6.6 s off."""
    with _GC_LOCK:
        if _gc_depth[0] == 0:
            _gc_depth[1] = gc.isenabled()
            gc.disable()
        _gc_depth[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_depth[0] -= 1
            if _gc_depth[0] == 0 and _gc_depth[1]:
                gc.enable()


def _safe(text: str) -> str:
    return _SAFE.sub("_", str(text))


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}{minute_of_day % 60:02d}"


def _check_requirement(requirement: pd.DataFrame, rules: ScheduleRules) -> pd.DataFrame:
    needed = {"unique_id", "ds", "agents_required"}
    if rules.objective == "service_level":
        needed |= {"volume", "aht_s", "erlangs"}
    missing = sorted(needed - set(requirement.columns))
    if missing:
        raise ValueError(f"requirement: missing column(s) {missing} (objective "
                         f"{rules.objective!r}); has {list(requirement.columns)}")
    if requirement.empty:
        raise ValueError("requirement: the frame has no rows")
    frame = requirement.copy()
    frame["unique_id"] = frame["unique_id"].astype("string")
    frame["ds"] = pd.to_datetime(frame["ds"])
    if frame["ds"].dt.tz is not None:
        raise ValueError("requirement: ds must be naive local time, got tz-aware values")
    bad = frame["agents_required"].isna() | (frame["agents_required"] < 0)
    if bad.any():
        rows = frame.index[bad].tolist()
        raise ValueError(f"requirement: agents_required must be >= 0 and not missing, "
                         f"rows {rows[:5]}{'...' if len(rows) > 5 else ''}")
    dupes = frame.duplicated(["unique_id", "ds"])
    if dupes.any():
        raise ValueError(f"requirement: (unique_id, ds) must be unique, repeated at rows "
                         f"{frame.index[dupes].tolist()[:5]}")
    step = pd.Timedelta(minutes=rules.interval_minutes)
    origin = frame["ds"].min().normalize()
    offsets = (frame["ds"] - origin) / step
    if not np.allclose(offsets, np.round(offsets)):
        raise ValueError(f"requirement: ds must lie on a {rules.interval_minutes}-minute grid "
                         f"(interval_minutes), e.g. {frame['ds'][~np.isclose(offsets, np.round(offsets))].iloc[0]}")
    return frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def sl_seconds_of(frame: pd.DataFrame, rules: ScheduleRules) -> np.ndarray:
    """Answer-time threshold per row in seconds: the requirement's echoed `sl_seconds` where
    given, else the rules' `service_level_seconds`."""
    out = np.full(len(frame), float(rules.service_level_seconds))
    if "sl_seconds" in frame.columns:
        given = pd.to_numeric(frame["sl_seconds"], errors="coerce").to_numpy(dtype=float)
        out = np.where(np.isfinite(given), given, out)
    return out


def cover_step(rules: ScheduleRules) -> int:
    """Minutes of one cover slot: the largest number dividing the interval and every shift
    start, shift length, break length and earliest break offset, so who is at work is
    constant inside a slot (15 for quarter-hour breaks on a 30-minute grid)."""
    step = rules.interval_minutes
    for fam in rules.families:
        step = math.gcd(step, fam.start_minutes()[0], fam.start_step_minutes,
                        fam.length_minutes)
        for brk in fam.breaks:
            step = math.gcd(step, brk.length_minutes, brk.earliest_offset_minutes)
    return step


def _break_offsets(rule: BreakRule, interval_minutes: int) -> list[int]:
    return list(range(rule.earliest_offset_minutes, rule.latest_offset_minutes + 1,
                      interval_minutes))


def build_model(requirement: pd.DataFrame, rules: ScheduleRules,
                agents: Sequence | None = None) -> ShiftModel:
    """Build (never solve) the integer program covering `requirement` under `rules`.

    `requirement` needs `unique_id, ds, agents_required` (agents at work per interval, may
    be fractional), plus `volume, aht_s, erlangs` for the service-level objective. `ds` is
    the interval start on the `interval_minutes` grid. The frame is not modified.

    `agents` (`staffcast.scheduler.agents.Agent`s), when given, cap the plan: tours per skill set and
    contract at most the agents who could work them, per week and per day (see
    `_add_agent_caps`). With `rules.multi_skill` (which needs `agents`) tours belong to the
    agents' skill sets and allocation variables split each set's agents among its queues.
    """
    with gc_paused():
        return _build(requirement, rules, agents)


def _build(requirement: pd.DataFrame, rules: ScheduleRules,
           agents: Sequence | None) -> ShiftModel:
    if not rules.families:
        raise ValueError("schedule: families must list at least one shift family")
    if rules.multi_skill and not agents:
        raise SchedulerError("schedule.multi_skill needs the agents file (--agents, or "
                             "`agents:` in the config): the skill sets come from its "
                             "`queues` column")
    frame = _check_requirement(requirement, rules)
    interval = rules.interval_minutes
    # Cover is counted per slot of the activities' resolution (a 15-minute break on a
    # 30-minute grid makes quarter-hours), as the written plan is measured; each slot needs
    # its interval's agents and a slot short costs its share of an interval's penalty.
    width = cover_step(rules) if rules.objective == "cover" else interval
    per = interval // width
    origin = frame["ds"].min().normalize()
    end = frame["ds"].max() + pd.Timedelta(minutes=interval)
    n_intervals = int((end - origin) / pd.Timedelta(minutes=width))
    if rules.cyclic:
        n_intervals = math.ceil(n_intervals * width / DAY_MINUTES) * DAY_MINUTES // width
    grid = Grid(width, n_intervals, int(origin.weekday()), rules.cyclic)
    queues = list(dict.fromkeys(frame["unique_id"].tolist()))
    families = {f.name: f for f in rules.families}

    required: dict[str, np.ndarray] = {}
    for queue, rows in frame.groupby("unique_id", sort=False):
        arr = np.full(n_intervals, np.nan)
        first = ((rows["ds"] - origin) / pd.Timedelta(minutes=width)).round().astype(int)
        idx = (first.to_numpy()[:, None] + np.arange(per)[None, :]).ravel()
        arr[idx] = np.repeat(rows["agents_required"].to_numpy(dtype=float), per)
        required[str(queue)] = arr

    prob = pulp.LpProblem("staffcast_schedule", pulp.LpMinimize)
    groups: dict[str, list[str]] = defaultdict(list)

    def add(constraint: pulp.LpConstraint, name: str, group: str) -> None:
        prob.addConstraint(constraint, name)
        groups[group].append(name)

    dates = [origin + pd.Timedelta(days=d) for d in range(grid.n_days)]
    shifts: dict[ShiftKey, pulp.LpVariable] = {}
    costs: dict[ShiftKey, float] = {}
    breaks: dict[ShiftKey, dict[str, dict[int, pulp.LpVariable]]] = {}
    tours: dict[tuple[str, str, int, tuple[int, ...]], pulp.LpVariable] = {}
    terms: dict[tuple[str, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    objective: list[tuple[pulp.LpVariable, float]] = []

    if rules.multi_skill:
        pool_sets = {skill_label(S): S for S in skill_sets(agents, queues)}
    else:
        pool_sets = {q: (q,) for q in queues}
    for queue, serves in pool_sets.items():
        for fam in rules.families:
            # A pooled tour needs a family allowed on every queue of its skill set.
            if fam.queues is not None and not set(serves) <= set(fam.queues):
                continue
            q, f = _safe(queue), _safe(fam.name)
            allowed = fam.weekday_numbers()
            for day, date in enumerate(dates):
                if date.weekday() not in allowed:
                    continue
                for start in fam.start_minutes():
                    abs_start = day * DAY_MINUTES + start
                    if abs_start >= grid.horizon_minutes:
                        continue
                    key = (queue, fam.name, day, start)
                    var = prob.add_variable(f"x_{q}_{f}_{date:%m%d}_{_hhmm(start)}", lowBound=0,
                                          cat=pulp.LpInteger)
                    shifts[key] = var
                    costs[key] = shift_cost(fam, abs_start, grid.first_weekday)
                    objective.append((var, costs[key]))
                    for idx, share in span_weights(grid, abs_start, fam.length_minutes).items():
                        terms[queue, idx].append((var, share))
                    breaks[key] = {}
                    for brk in fam.breaks:
                        per_offset = {}
                        for offset in _break_offsets(brk, width):
                            bvar = prob.add_variable(
                                f"b_{q}_{f}_{date:%m%d}_{_hhmm(start)}_{_safe(brk.name)}_{offset}",
                                lowBound=0, cat=pulp.LpInteger)
                            per_offset[offset] = bvar
                            for idx, share in span_weights(grid, abs_start + offset,
                                                           brk.length_minutes).items():
                                terms[queue, idx].append((bvar, -share))
                        breaks[key][brk.name] = per_offset
                        add(pulp.lpSum(per_offset.values()) == var,
                            f"brk_{q}_{f}_{date:%m%d}_{_hhmm(start)}_{_safe(brk.name)}", "breaks")
            if fam.days_per_week is None:
                continue
            patterns = tour_patterns(fam, grid, rules.max_consecutive_days)
            for band_no, band in enumerate(start_bands(fam, rules.min_rest_hours)):
                band_tours = {}
                for pattern in patterns:
                    days = "".join("1" if d in pattern else "0" for d in range(grid.n_days))
                    var = prob.add_variable(f"w_{q}_{f}_b{band_no}_{days}", lowBound=0,
                                          cat=pulp.LpInteger)
                    tours[queue, fam.name, band_no, pattern] = var
                    band_tours[pattern] = var
                for day, date in enumerate(dates):
                    worked = [v for p, v in band_tours.items() if day in p]
                    starting = [shifts[k] for s in band
                                if (k := (queue, fam.name, day, s)) in shifts]
                    add(pulp.lpSum(starting) == pulp.lpSum(worked),
                        f"tour_{q}_{f}_b{band_no}_{date:%m%d}", "tours and days off")

    pool_cover = {key: pulp.LpAffineExpression(vals) for key, vals in terms.items()}
    shortfall: dict[tuple[str, int], pulp.LpVariable] = {}

    def stamp(idx: int) -> str:
        return f"{origin + pd.Timedelta(minutes=idx * width):%m%d%H%M}"

    allocation: dict[tuple[str, str, int], pulp.LpVariable] = {}
    if rules.multi_skill:
        coverage = _allocate(prob, pool_sets, pool_cover, required, allocation, add, stamp)
    else:
        coverage = pool_cover

    if rules.objective == "cover":
        for queue in queues:
            for idx in np.flatnonzero(required[queue] > 0):
                idx = int(idx)
                short = prob.add_variable(f"short_{_safe(queue)}_{stamp(idx)}", lowBound=0)
                shortfall[queue, idx] = short
                objective.append((short, rules.shortfall_penalty / per))
                add(coverage.get((queue, idx), pulp.LpAffineExpression()) + short
                    >= float(required[queue][idx]),
                    f"cover_{_safe(queue)}_{stamp(idx)}", "requirement cover")
    else:
        objective.extend(_add_service_level(prob, frame, rules, origin, coverage, shortfall,
                                            add, stamp))

    _add_headcount(rules, shifts, tours, families, grid, dates, add)
    _add_shares(rules, list(pool_sets), shifts, families, add)
    caps = (_add_agent_caps(agents, pool_sets, queues, shifts, tours, families, dates, add)
            if agents is not None else [])

    prob.setObjective(pulp.LpAffineExpression(objective))
    return ShiftModel(problem=prob, rules=rules, requirement=frame, origin=origin, grid=grid,
                      queues=queues, families=families, required=required, shifts=shifts,
                      shift_cost=costs, breaks=breaks, tours=tours, shortfall=shortfall,
                      coverage=coverage, groups=dict(groups), pools=list(pool_sets),
                      pool_cover=pool_cover, allocation=allocation, caps=caps)


def _allocate(prob, pool_sets, pool_cover, required, allocation, add, stamp):
    """Per interval, split the working agents of each multi-queue skill set among the queues
    it serves (`a_{set}_{queue}_{t}` >= 0, `alloc_{set}_{t}`: their sum <= the set's agents
    at work); a queue's cover is the sum of what the sets serving it give it. Returns the
    per-queue cover expressions keyed (queue, interval). Allocations exist only where the
    queue requires agents: elsewhere they would cover nothing."""
    cover: dict[tuple[str, int], list] = defaultdict(list)
    for (label, idx), expr in pool_cover.items():
        serves = pool_sets[label]
        if len(serves) == 1:
            cover[serves[0], idx].append(expr)
            continue
        shares = []
        for queue in serves:
            need = required[queue][idx]
            if not need > 0:
                continue
            var = prob.add_variable(f"a_{_safe(label)}_{_safe(queue)}_{stamp(idx)}", lowBound=0)
            allocation[label, queue, idx] = var
            shares.append(var)
            cover[queue, idx].append(pulp.LpAffineExpression([(var, 1.0)]))
        if shares:
            add(pulp.lpSum(shares) - expr <= 0, f"alloc_{_safe(label)}_{stamp(idx)}",
                "skill allocation")
    return {key: pulp.lpSum(parts) for key, parts in cover.items()}


HALL_MAX_SETS = 6
"""Up to this many pool labels, the agents' caps hold for every collection of labels
(Hall's condition, exact for the skills alone); above it, for each label alone and for all
together."""


def _add_agent_caps(agents, pool_sets, queues, shifts, tours, families, dates, add):
    """Tours the agents cannot work are not planned. For each contract and each collection
    T of pool labels (every collection up to `HALL_MAX_SETS` labels), with N(...) the agents
    of the contract able to work some label of T (skills containing its queues):

    - `agents_{c}_{T}`: weekly tours of T <= N(weekly hours fit one of the contract's tour
      families' weekly paid hours);
    - `agents_{c}_{f}_{T}`: tours of family f in T <= N(hours fit f), when smaller;
    - `agents_{c}_{T}_{MMDD}`: tours of T working that day + daily shifts of T that day <=
      N(available that day), when someone is away or the contract has daily shifts.

    Each is a necessary condition for giving every planned tour an agent (Hall's condition
    on the tours x agents graph for those rules), so the plan never holds more tours than
    the agents could take; rest and consecutive days against the previous week stay the
    assignment's. Returns the caps as (variables, count) for the solver's rounding."""
    labels = list(pool_sets)
    able = np.array([[set(pool_sets[lb]) <= set(agent_skill_set(a.queues, queues))
                      for lb in labels] for a in agents],
                    dtype=bool).reshape(len(agents), len(labels))
    if len(labels) <= HALL_MAX_SETS:
        collections = [tuple(i for i in range(len(labels)) if mask >> i & 1)
                       for mask in range(1, 2 ** len(labels))]
    else:
        collections = [(i,) for i in range(len(labels))] + [tuple(range(len(labels)))]
    contract = np.array([a.contract for a in agents], dtype=object)
    lo = np.array([a.min_weekly_hours for a in agents], dtype=float)
    hi = np.array([a.max_weekly_hours for a in agents], dtype=float)
    away = np.array([[d.date() in a.unavailable_dates for d in dates] for a in agents],
                    dtype=bool).reshape(len(agents), len(dates))
    caps: list[tuple[list[pulp.LpVariable], int]] = []
    label_no = {lb: i for i, lb in enumerate(labels)}
    eps = 1e-6
    for c in sorted({f.contract for f in families.values()}):
        weekly_fams = [f for f in families.values()
                       if f.contract == c and f.days_per_week is not None]
        daily_fams = {f.name for f in families.values()
                      if f.contract == c and f.days_per_week is None}
        fit = {f.name: (lo <= f.paid_hours * f.days_per_week + eps)
               & (f.paid_hours * f.days_per_week <= hi + eps) for f in weekly_fams}
        fits_any = (np.logical_or.reduce(list(fit.values())) if fit
                    else np.zeros(len(agents), bool))
        mine = contract == c
        c_tours = [(key, v) for key, v in tours.items() if families[key[1]].contract == c]
        c_daily = [(key, v) for key, v in shifts.items() if key[1] in daily_fams]
        for T in collections:
            in_t = [(key, v) for key, v in c_tours if label_no[key[0]] in T]
            daily = [(key, v) for key, v in c_daily if label_no[key[0]] in T]
            if not in_t and not daily:
                continue
            who = mine & able[:, list(T)].any(axis=1)
            tag = f"set{sum(1 << i for i in T)}"  # bit i: pool label i of ShiftModel.pools
            n_week = int((who & fits_any).sum())
            if in_t:
                members = [v for _, v in in_t]
                add(pulp.lpSum(members) <= n_week, f"agents_{_safe(c)}_{tag}", "agents")
                caps.append((members, n_week))
                for f in weekly_fams:
                    n_fam = int((who & fit[f.name]).sum())
                    fam_members = [v for key, v in in_t if key[1] == f.name]
                    if fam_members and n_fam < n_week:
                        add(pulp.lpSum(fam_members) <= n_fam,
                            f"agents_{_safe(c)}_{_safe(f.name)}_{tag}", "agents")
                        caps.append((fam_members, n_fam))
            for day, date in enumerate(dates):
                n_day = int((who & ~away[:, day]).sum())
                todays = [v for key, v in daily if key[2] == day]
                if not todays and n_day >= n_week:
                    continue  # the weekly cap already bounds the tours working this day
                members = [v for key, v in in_t if day in key[3]] + todays
                if members:
                    add(pulp.lpSum(members) <= n_day, f"agents_{_safe(c)}_{tag}_{date:%m%d}",
                        "agents")
                    caps.append((members, n_day))
    return caps


def _add_headcount(rules, shifts, tours, families, grid, dates, add) -> None:
    """Agents of a contract at most its headcount: every tour is one agent for the whole
    plan; independent daily shifts count per day on top of the tours."""
    for contract, cap in rules.headcount.items():
        tour_vars = [v for (q, f, b, p), v in tours.items() if families[f].contract == contract]
        daily = defaultdict(list)
        for (q, f, d, s), v in shifts.items():
            fam = families[f]
            if fam.contract == contract and fam.days_per_week is None:
                daily[d].append(v)
        if not daily:
            add(pulp.lpSum(tour_vars) <= cap, f"headcount_{_safe(contract)}", "headcount")
            continue
        for day, date in enumerate(dates):
            add(pulp.lpSum(tour_vars) + pulp.lpSum(daily.get(day, [])) <= cap,
                f"headcount_{_safe(contract)}_{date:%m%d}", "headcount")


def _add_shares(rules, queues, shifts, families, add) -> None:
    """Each family's paid hours within [min_share, max_share] of its queue's paid hours, and
    each `share_limits` group's paid hours within its bounds."""
    for queue in queues:
        hours = defaultdict(list)
        for (q, f, d, s), v in shifts.items():
            if q == queue:
                hours[f].append((v, families[f].paid_hours))
        total = pulp.LpAffineExpression([t for ts in hours.values() for t in ts])
        for name, items in hours.items():
            fam = families[name]
            mine = pulp.LpAffineExpression(items)
            if fam.min_share > 0:
                add(mine - fam.min_share * total >= 0,
                    f"share_min_{_safe(queue)}_{_safe(name)}", "family shares")
            if fam.max_share < 1:
                add(mine - fam.max_share * total <= 0,
                    f"share_max_{_safe(queue)}_{_safe(name)}", "family shares")
        for limit in rules.share_limits:
            group = pulp.LpAffineExpression([t for name in limit.families
                                             for t in hours.get(name, [])])
            label = "_".join(_safe(n) for n in limit.families)
            if limit.min_share > 0:
                add(group - limit.min_share * total >= 0,
                    f"sharegroup_min_{_safe(queue)}_{label}", "family shares")
            if limit.max_share < 1 and len(group):
                add(group - limit.max_share * total <= 0,
                    f"sharegroup_max_{_safe(queue)}_{label}", "family shares")


def _concave_pieces(points: np.ndarray) -> list[tuple[float, float]]:
    """Upper concave hull of y over x = 0, 1, 2, ... as (length, slope) pieces, slopes
    decreasing, so an LP fills them in order."""
    hull = [0]
    for k in range(1, len(points)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (points[b] - points[a]) * (k - a) <= (points[k] - points[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(k)
    return [(float(b - a), float((points[b] - points[a]) / (b - a)))
            for a, b in zip(hull, hull[1:])]


def slots_per_agent(frame: pd.DataFrame) -> np.ndarray:
    """Contacts each agent works at once per row: the requirement's `concurrency` (1 when
    absent). Its `erlangs` and `aht_s` are per chat slot, so Erlang measures of n agents are
    those of n x concurrency slots."""
    if "concurrency" not in frame.columns:
        return np.ones(len(frame))
    slots = pd.to_numeric(frame["concurrency"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(slots) & (slots >= 1), np.floor(slots), 1.0)


def shrinkage_of(frame: pd.DataFrame) -> np.ndarray:
    """Share of a scheduled agent's time not spent on contacts per row: the requirement's
    echoed `shrinkage` (0 when absent)."""
    if "shrinkage" not in frame.columns:
        return np.zeros(len(frame))
    share = pd.to_numeric(frame["shrinkage"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(share) & (share >= 0) & (share < 1), share, 0.0)


def productive_service_level(scheduled: np.ndarray, traffic: np.ndarray, aht_s: np.ndarray,
                             sl_seconds: np.ndarray, slots: np.ndarray,
                             shrinkage: np.ndarray) -> np.ndarray:
    """Erlang C service level of `scheduled` agents (may be fractional) of whom the share
    `1 - shrinkage` is on contacts, each working `slots` chats at once. A fractional number
    of servers is a time mix of the two whole numbers around it, so the level interpolates
    linearly between them."""
    servers = np.asarray(scheduled, dtype=float) * slots * (1.0 - shrinkage)
    low = np.floor(servers + 1e-9)
    frac = np.clip(servers - low, 0.0, 1.0)
    at_low = np.asarray(service_level(low.astype(int), traffic, aht_s, sl_seconds), dtype=float)
    at_high = np.asarray(service_level((low + 1).astype(int), traffic, aht_s, sl_seconds),
                         dtype=float)
    return at_low + frac * (at_high - at_low)


def _add_service_level(prob, frame, rules, origin, coverage, shortfall, add, stamp):
    """Daily (or weekly) answered-within-T target instead of interval cover.

    Per interval with traffic A erlangs (per chat slot; c slots per agent, a share s of
    each scheduled agent's time lost to shrinkage), agents are first held at the stable
    minimum floor(A / (c (1 - s))) + 1 (soft, through `short_*`). Above it, calls answered within T =
    volume * SL(n) is concave in n: its upper hull is split into pieces `z` whose sum is at
    most the agents scheduled above the floor. Per period, answered calls plus `slmiss` must
    reach target * volume. Returns objective terms.
    """
    width = rules.interval_minutes
    objective = []
    per_period: dict[tuple[str, str], list] = defaultdict(list)
    volume_by_period: dict[tuple[str, str], float] = defaultdict(float)
    thresholds = sl_seconds_of(frame, rules)
    for row, sl_seconds, slots, shrink in zip(frame.itertuples(index=False), thresholds,
                                              slots_per_agent(frame), shrinkage_of(frame)):
        volume = float(row.volume)
        if not volume > 0:
            continue
        queue, q = str(row.unique_id), _safe(row.unique_id)
        idx = int(round((row.ds - origin) / pd.Timedelta(minutes=width)))
        period = (f"{row.ds:%Y%m%d}" if rules.service_level_period == "day"
                  else f"{row.ds - pd.Timedelta(days=row.ds.weekday()):%Y%m%d}")
        traffic = float(row.erlangs)
        # Scheduled agents, of whom the share 1 - shrink is on contacts: stable above floor.
        per_agent = slots * (1.0 - shrink)
        floor = math.floor(traffic / per_agent) + 1
        # Staff up to where SL reaches 0.999; beyond it the curve is flat for the model.
        counts = np.arange(floor, floor + int(4 * math.sqrt(traffic) / per_agent) + 12)
        n = len(counts)
        levels = productive_service_level(counts, np.full(n, traffic),
                                          np.full(n, float(row.aht_s)),
                                          np.full(n, sl_seconds), np.full(n, slots),
                                          np.full(n, shrink))
        reach = np.flatnonzero(levels >= 0.999)
        levels = levels[: reach[0] + 1] if len(reach) else levels
        short = prob.add_variable(f"short_{q}_{stamp(idx)}", lowBound=0)
        shortfall[queue, idx] = short
        objective.append((short, rules.shortfall_penalty))
        cover = coverage.get((queue, idx), pulp.LpAffineExpression())
        add(cover + short >= floor, f"stable_{q}_{stamp(idx)}", "service-level minimum agents")
        pieces = []
        for seg, (length, slope) in enumerate(_concave_pieces(levels)):
            z = prob.add_variable(f"z_{q}_{stamp(idx)}_{seg}", lowBound=0, upBound=length)
            pieces.append(z)
            per_period[queue, period].append((z, volume * slope))
        per_period[queue, period].append((None, volume * float(levels[0])))
        volume_by_period[queue, period] += volume
        add(pulp.lpSum(pieces) - cover - short <= -floor, f"slcurve_{q}_{stamp(idx)}",
            "service-level curve")
    for (queue, period), items in per_period.items():
        miss = prob.add_variable(f"slmiss_{_safe(queue)}_{period}", lowBound=0)
        objective.append((miss, rules.service_level_penalty))
        constant = sum(c for v, c in items if v is None)
        answered = pulp.LpAffineExpression([(v, c) for v, c in items if v is not None])
        add(answered + miss >= rules.service_level_target * volume_by_period[queue, period]
            - constant, f"sltarget_{_safe(queue)}_{period}", "service-level target")
    return objective

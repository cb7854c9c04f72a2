"""Implicit break placement: the same shift model with break counts per start time instead
of one variable per shift and offset, used by the solver as an easier twin of the model.

The shift model (`scheduler.model`) places breaks explicitly: `b_{shift}_{break}_{offset}`
for every shift start and every allowed offset. On a quarter-hour grid that is most of the
model's integer columns, and HiGHS stalls at the root of such models on 24x7 queues. The
twin keeps every other column and row, and per (pool, family, break rule) has

- `B_{pool}_{family}_{break}_{minute}` integer: breaks starting at that minute of the plan;
- `y_{pool}_{family}_{break}_{minute}` integer (cyclic plans): of the shifts starting at that
  minute whose break window crosses the end of the plan, how many take the break after it;
- `P_{pool}_{family}_{break}_{minute}` >= 0: breaks owed by shifts whose window has opened.

A family's break windows open and close in the order of the shifts' starts, so breaks can
be given to shifts (earliest deadline first) exactly when, at every minute t, the breaks
started by t are no more than the shifts whose window has opened and no fewer than those
whose window has closed: `P_t = P_{t-1} + opened(t) - B_t` and `P_t <= open(t)` (shifts
whose window is open and not closing at t). A window crossing the end of a cyclic plan is
split in two at the end, its shifts shared between the parts by `y`. The twin's LP optimum
equals the model's, and `explicit_plan` turns a twin plan back into the model's variables
by dealing each minute's breaks to the waiting shift with the earliest deadline.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pulp

from .mip import Columns
from .model import ShiftModel, _safe
from .shifts import span_weights

ShiftKey = tuple[str, str, int, int]


@dataclass(frozen=True)
class _Window:
    """Shifts `key`, starting at minute `start` of the plan (or the part `part` of them:
    "whole", "tail" before a cyclic plan's end, "head" after it), may start their break
    from minute `opens` to minute `closes`; a break at minute t is at offset
    t + `wrap` - `start` of the shift."""

    key: ShiftKey
    start: int
    opens: int
    closes: int
    part: str
    wrap: int


@dataclass
class BreakTwin:
    """The twin problem (`cols`) and what maps its plans to the model's and back."""

    cols: Columns
    windows: dict[tuple[str, str, str], list[_Window]]
    """Per (pool, family, break rule name): the windows, in the model's shift order."""
    horizon: int
    """Minutes of the twin's break timeline (the plan's, or further when a window of a
    plan that does not wrap ends after it)."""
    step: int


def break_twin(model: ShiftModel) -> BreakTwin | None:
    """The twin of `model`, or None when it has no break columns or places breaks through
    rows the twin does not rebuild (service-level objective, multi-skill allocation)."""
    if model.rules.objective != "cover" or model.allocation or not any(
            per for per in model.breaks.values()):
        return None
    grid, step = model.grid, model.grid.interval_minutes
    horizon = grid.horizon_minutes
    twin = pulp.LpProblem("staffcast_schedule_twin", pulp.LpMinimize)
    rebuilt = set(model.groups.get("breaks", ())) | set(model.groups.get("requirement cover", ()))
    for row in model.problem.constraints():
        if row.name in rebuilt:
            continue
        if any(v.name.startswith("b_") for v in row):
            return None  # a rule of its own on break columns: keep the explicit model
        twin.addConstraint(row.copy(), row.name)
    twin.setObjective(pulp.LpAffineExpression(
        {v: c for v, c in model.problem.objective.items() if not v.name.startswith("b_")}))
    off_cover: dict[tuple[str, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    windows: dict[tuple[str, str, str], list[_Window]] = {}
    timeline = horizon
    for fam in model.families.values():
        for rule in fam.breaks:
            offsets_by_pool: dict[str, list[tuple[ShiftKey, int, int]]] = defaultdict(list)
            for key, per_rule in model.breaks.items():
                if key[1] == fam.name and rule.name in per_rule:
                    offsets = sorted(per_rule[rule.name])
                    offsets_by_pool[key[0]].append((key, offsets[0], offsets[-1]))
            for pool, shifts in offsets_by_pool.items():
                label = f"{_safe(pool)}_{_safe(fam.name)}_{_safe(rule.name)}"
                found, counts = [], []
                for key, first, last in shifts:
                    start = key[2] * 24 * 60 + key[3]
                    x = model.shifts[key]
                    lo, hi = start + first, start + last
                    if not grid.cyclic or hi < horizon:
                        parts = [(lo, hi, "whole", x, 0)]
                    elif lo >= horizon:
                        parts = [(lo - horizon, hi - horizon, "whole", x, horizon)]
                    else:
                        y = twin.add_variable(f"y_{label}_{start}", lowBound=0,
                                              cat=pulp.LpInteger)
                        twin.addConstraint(y - x <= 0, f"ysplit_{label}_{start}")
                        parts = [(lo, horizon - step, "tail", x - y, 0),
                                 (0, hi - horizon, "head", y, horizon)]
                    for opens, closes, part, count, wrap in parts:
                        found.append(_Window(key, start, opens, closes, part, wrap))
                        counts.append(count)
                windows[pool, fam.name, rule.name] = found
                # Per minute, in one pass over each window's own minutes: the shifts whose
                # window opens then, and those waiting (window open, not closing then).
                arriving, waiting, open_at = defaultdict(list), defaultdict(list), set()
                for window, count in zip(found, counts):
                    arriving[window.opens].append(count)
                    for minute in range(window.opens, window.closes + step, step):
                        open_at.add(minute)
                        if minute < window.closes:
                            waiting[minute].append(count)
                end = max([horizon] + [w.closes + step for w in found])
                timeline = max(timeline, end)
                owed = None
                for minute in range(0, end, step):
                    taken = 0
                    if minute in open_at:
                        taken = twin.add_variable(f"B_{label}_{minute}", lowBound=0,
                                                  cat=pulp.LpInteger)
                        for idx, share in span_weights(grid, minute,
                                                       rule.length_minutes).items():
                            off_cover[pool, idx].append((taken, -share))
                    now = twin.add_variable(f"P_{label}_{minute}", lowBound=0)
                    twin.addConstraint(now - (owed if owed is not None else 0)
                                       - pulp.lpSum(arriving.get(minute, ())) + taken == 0,
                                       f"owed_{label}_{minute}")
                    twin.addConstraint(now - pulp.lpSum(waiting.get(minute, ())) <= 0,
                                       f"due_{label}_{minute}")
                    owed = now
    for (queue, idx), short in model.shortfall.items():
        kept = {v: c for v, c in model.coverage[queue, idx].items()
                if not v.name.startswith("b_")}
        cover = pulp.LpAffineExpression(kept) + pulp.lpSum(
            v * c for v, c in off_cover.get((queue, idx), ())) + short
        twin.addConstraint(cover >= float(model.required[queue][idx]),
                           f"cover_{_safe(queue)}_{idx}")
    return BreakTwin(Columns.of(twin), windows, timeline, step)


def twin_plan(twin: BreakTwin, model: ShiftModel, cols: Columns, x: np.ndarray) -> np.ndarray:
    """A plan of the model (`x` over `cols`) as a plan of the twin: the same shifts and
    tours, break counts per start minute, the split of windows crossing the plan's end; the
    continuous columns are left at 0 for the caller to complete."""
    value = dict(zip(cols.names, x))
    out = dict.fromkeys(twin.cols.names, 0.0)
    for name in out:
        if name in value and not name.startswith(("B_", "y_", "P_")):
            out[name] = value[name]
    for (pool, family, rule), found in twin.windows.items():
        label = f"{_safe(pool)}_{_safe(family)}_{_safe(rule)}"
        for window in found:
            if window.part == "head":
                continue
            for offset, var in model.breaks[window.key][rule].items():
                n = value[var.name]
                if n <= 0:
                    continue
                minute = window.start + offset - window.wrap
                if window.part == "tail" and minute >= twin.horizon:
                    minute -= twin.horizon
                    out[f"y_{label}_{window.start}"] += n
                out[f"B_{label}_{minute}"] += n
    return np.array([out[name] for name in twin.cols.names])


def explicit_plan(twin: BreakTwin, model: ShiftModel, cols: Columns,
                  z: np.ndarray) -> np.ndarray:
    """The twin's plan `z` as a plan of the model: shifts and tours as they are, each
    minute's breaks dealt to the waiting shifts with the earliest deadline (always possible
    for a plan that keeps the twin's rows); the continuous columns are left at 0 for the
    caller to complete."""
    value = dict(zip(twin.cols.names, np.round(z)))
    position = {name: i for i, name in enumerate(cols.names)}
    x = np.zeros(cols.n_cols)
    for name, i in position.items():
        if name in value:
            x[i] = value[name]
    for (pool, family, rule), found in twin.windows.items():
        label = f"{_safe(pool)}_{_safe(family)}_{_safe(rule)}"
        arrivals: dict[int, list[tuple[int, int, _Window, float]]] = defaultdict(list)
        for order, window in enumerate(found):
            shifts = value[model.shifts[window.key].name]
            split = value.get(f"y_{label}_{window.start}", 0.0)
            count = {"whole": shifts, "tail": shifts - split, "head": split}[window.part]
            if count > 0:
                arrivals[window.opens].append((window.closes, order, window, count))
        waiting: list[tuple[int, int, _Window, float]] = []
        for minute in range(0, twin.horizon, twin.step):
            for item in arrivals.get(minute, ()):
                heapq.heappush(waiting, (item[0], item[1], item[2], item[3]))
            breaks = value.get(f"B_{label}_{minute}", 0.0)
            while breaks > 0:
                if not waiting:
                    raise ValueError(f"{label}: {breaks:g} break(s) at minute {minute} with no "
                                     "shift waiting: the plan breaks the twin's rows")
                closes, order, window, count = heapq.heappop(waiting)
                if closes < minute:
                    raise ValueError(f"{label}: a shift's break window closed at minute "
                                     f"{closes} before its break: the plan breaks the rows")
                given = min(count, breaks)
                offset = minute + window.wrap - window.start
                x[position[model.breaks[window.key][rule][offset].name]] += given
                breaks -= given
                if count > given:
                    heapq.heappush(waiting, (closes, order, window, count - given))
        if waiting:
            raise ValueError(f"{label}: {sum(w[3] for w in waiting):g} shift(s) left without "
                             "a break: the plan breaks the twin's rows")
    return x

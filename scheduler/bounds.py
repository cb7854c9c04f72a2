"""A lower bound above the LP's: branch and bound on each shift family's number of tours.

Every plan has a whole number of weekly tours of each family, so the LP relaxation with
each family's tour total required whole is a relaxation of the model, and branching on
those totals (at most / at least) bounds every plan. HiGHS branches on single tour
columns, one per start band and days-off pattern: hundreds of near-equivalent columns
that take the fraction over from one another, so its bound hardly moves (a queue open
09-21: 0.00-0.02% above the LP after 120 s). A family's total has no such twin: on that
queue the totals alone lift the bound 2.91% above the LP in 40 s, within 0.15% of the
best plan.
"""

from __future__ import annotations

import heapq
import math
import time

import numpy as np

from .mip import Columns, _highs_lp, quiet_stdout


def tour_total_bound(cols: Columns, groups: list[np.ndarray], time_limit_s: float,
                     target: float = math.inf, max_nodes: int = 2000) -> float | None:
    """A lower bound on every plan of `cols` (whole numbers where `cols.integer`), proven
    by best-first branch and bound on the sums `x[g].sum()` of each index array in
    `groups` (each a family's tour columns), within `time_limit_s` seconds and `max_nodes`
    LPs. Stops once the bound reaches `target` (e.g. what proves the best plan within its
    gap). None when the LP does not solve in time."""
    import highspy

    began = time.perf_counter()
    with quiet_stdout():
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        # HiGHS counts this limit over all of the instance's runs, not per run.
        highs.setOptionValue("time_limit", float(max(time_limit_s, 0.05)))
        highs.passModel(_highs_lp(cols, cols.lower, cols.upper))
        first = highs.getNumRow()
        for g in groups:
            highs.addRow(0.0, highspy.kHighsInf, len(g), np.asarray(g, dtype=np.int32),
                         np.ones(len(g)))

        def relax(lo: list[float], hi: list[float]) -> tuple[float, np.ndarray | None]:
            """The LP's value and group totals within these bounds on the totals."""
            for j in range(len(groups)):
                highs.changeRowBounds(first + j, lo[j], hi[j])
            highs.run()
            status = highs.getModelStatus()
            if status == highspy.HighsModelStatus.kInfeasible:
                return math.inf, None
            if status != highspy.HighsModelStatus.kOptimal:
                return -math.inf, None  # out of time: this part of the tree is not bounded
            x = np.asarray(highs.getSolution().col_value, dtype=float)
            return (float(cols.cost @ x + cols.offset),
                    np.array([x[g].sum() for g in groups]))

        free = ([0.0] * len(groups), [highspy.kHighsInf] * len(groups))
        root, _ = relax(*free)
        if not math.isfinite(root):
            return None
        # Open nodes carry their parent's value, a bound on everything below them.
        heap: list[tuple[float, int, list[float], list[float]]] = [(root, 0, *free)]
        whole, count, nodes = math.inf, 1, 0
        while heap and nodes < max_nodes and min(heap[0][0], whole) < target:
            if time.perf_counter() - began >= time_limit_s:
                break
            parent, _, lo, hi = heapq.heappop(heap)
            if parent >= whole:
                heap.clear()
                break
            value, totals = relax(lo, hi)
            nodes += 1
            if value == -math.inf:
                heapq.heappush(heap, (parent, count, lo, hi))
                break
            if totals is None or value >= whole:
                continue
            fraction = np.abs(totals - np.round(totals))
            j = int(np.argmax(fraction))
            if fraction[j] < 1e-6:
                whole = value  # every total whole: the best of this relaxation so far
                continue
            below, above = (list(lo), list(hi)), (list(lo), list(hi))
            below[1][j] = math.floor(totals[j])
            above[0][j] = math.ceil(totals[j])
            for side in (below, above):
                heapq.heappush(heap, (value, count, *side))
                count += 1
    return max(root, min([whole] + [node[0] for node in heap]))

"""Workload staffing for deferred contacts (email, tickets): a backlog with a response-time
target, staffed by work content rather than by a queueing formula.

Model. Work arriving in interval i (``volume x aht_s`` agent-seconds) is spread evenly over
the first ``window`` OPEN intervals starting at i, where ``window = response time /
interval length``. If each interval is staffed with the spread load, a first-come
first-served backlog finishes all work that arrived by time t before the end of its
window: the capacity supplied over any stretch of windows is at least the work that arrived
for them (the moving-average argument in docs/staffing.md). The response clock therefore
runs in open time only ("answer within 8 business hours"); near the end of the horizon the
window is cut to the open intervals left, which staffs the tail conservatively.
"""

from __future__ import annotations

import numpy as np

from .errors import SchedulerError

__all__ = ["spread_workload"]


def spread_workload(workload_erl: np.ndarray, is_open: np.ndarray, window: int) -> np.ndarray:
    """Agents busy per interval when each interval's workload is worked off evenly over
    the next `window` open intervals (including its own if open).

    `workload_erl`: agent-intervals of work arriving per interval (volume x aht_s /
    interval seconds), >= 0; `is_open`: bool per interval; `window`: whole intervals >= 1.
    Returns the load in agents (Erlangs) per interval: 0 where closed. Work arriving after
    the last open interval is due in the next horizon's first open hours and is left out,
    just as the backlog carried in from before the first interval is.
    """
    work = np.asarray(workload_erl, dtype=float)
    is_open = np.asarray(is_open, dtype=bool)
    if work.shape != is_open.shape or work.ndim != 1:
        raise SchedulerError(f"workload_erl and is_open must be 1-d of equal length, got "
                             f"{work.shape} and {is_open.shape}")
    if window < 1:
        raise SchedulerError(f"window must be >= 1 interval, got {window}")
    if (~np.isfinite(work)).any() or (work < 0).any():
        bad = work[~(np.isfinite(work) & (work >= 0))][0]
        raise SchedulerError(f"workload_erl must be finite and >= 0, got {bad}")
    open_pos = np.flatnonzero(is_open)
    load = np.zeros(work.size)
    # First open position at or after each interval, then the window over open positions.
    first = np.searchsorted(open_pos, np.arange(work.size))
    has = (work > 0) & (first < open_pos.size)
    last = np.minimum(first + window, open_pos.size)
    share = np.where(has, work / np.maximum(last - first, 1), 0.0)
    diff = np.zeros(open_pos.size + 1)
    np.add.at(diff, first[has], share[has])
    np.add.at(diff, last[has], -share[has])
    load[open_pos] = np.cumsum(diff)[:-1]
    return np.maximum(load, 0.0)

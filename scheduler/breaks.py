"""Stagger breaks and lunches inside their windows after the solve, against the requirement.

The integer program counts cover as the average over each interval and places every break
on the interval grid, so left alone 84 quarter-hour breaks can land in one quarter-hour
(the interval average still looks fine) and lunches bunch at the peak. `stagger_breaks`
re-places every break and lunch of the plan at the activity resolution (the sub-slot: 15
minutes for quarter-hour breaks on a 30-minute grid):

1. Count, per queue and sub-slot, the agents on shift with no break taken.
2. Deal the breaks out greedily, longest first (lunches), most constrained window first:
   each goes to the offset inside its own window where taking one more agent off the
   queue adds the least shortfall against the requirement, ties to the offset whose
   busiest sub-slot keeps the most agents to spare (so breaks spread over the window and
   away from the peak). Shifts of one queue, family, start and break are interchangeable,
   so they are dealt as one group; while the best offset stays ahead of the others by
   whole agents, several are dealt to it at once.
3. Per queue keep the dealt plan only if its sub-slot shortfall is no larger than that of
   the solver's placement: staggering never makes a plan worse.

A break only ever moves inside its own window (earliest..latest offset from its shift's
start); a family's windows never overlap (rules.py), so it cannot meet another break of the
shift. Lengths never change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .plan import pause_columns
from .roster import pause_names
from .rules import ShiftFamily

_NS_PER_MIN = 60 * 10**9


def _minutes(values, origin_ns: int) -> np.ndarray:
    ns = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[ns]").view("int64")
    return (ns - origin_ns) // _NS_PER_MIN


def stagger_breaks(tours: pd.DataFrame, families: Mapping[str, ShiftFamily],
                   interval_minutes: int, requirement: pd.DataFrame | None = None, *,
                   origin: pd.Timestamp | None = None, horizon_minutes: int | None = None,
                   cyclic: bool = False, passes: int = 2) -> pd.DataFrame:
    """A copy of `tours` (tour-day rows with `tour_id, family, queue, shift_start,
    shift_end` and pause columns) with every break and lunch re-placed inside its family's window (see the
    module docstring).

    requirement: `unique_id, ds, agents_required` on the `interval_minutes` grid (none:
    breaks are only spread evenly). origin / horizon_minutes: the plan's first midnight and
    length in minutes (default: from the requirement, or the tours); `cyclic` wraps shift
    parts past the horizon onto its start, as the model counts them. passes: rounds of
    re-dealing every group.
    """
    out = tours.copy()
    columns = [c for c in pause_names(out.columns)
               if f"{c}_start" in out.columns and f"{c}_end" in out.columns]
    if not len(out) or not columns:
        return out
    if origin is None:
        first = (pd.to_datetime(requirement["ds"]).min() if requirement is not None
                 and len(requirement) else out["shift_start"].min())
        origin = pd.Timestamp(first).normalize()
    origin_ns = pd.Timestamp(origin).value
    shift_lo = _minutes(out["shift_start"], origin_ns)
    shift_hi = _minutes(out["shift_end"], origin_ns)
    if horizon_minutes is None:
        if requirement is not None and len(requirement):
            horizon_minutes = int(_minutes(requirement["ds"], origin_ns).max()) + interval_minutes
        else:
            horizon_minutes = int(shift_hi.max())
        if cyclic:
            horizon_minutes = math.ceil(horizon_minutes / 1440) * 1440

    # Per row and pause column: the rule's window (earliest, latest offset) and length.
    rules = {f: {pause_columns(fam)[b.name]: b for b in fam.breaks}
             for f, fam in families.items()}
    family = out["family"].astype(str)
    numbers = [interval_minutes, horizon_minutes, *np.unique(shift_lo % 1440),
               *np.unique(shift_hi - shift_lo)]
    spec = {}
    for column in columns:
        start = _minutes(out[f"{column}_start"], origin_ns)
        set_ = out[f"{column}_start"].notna().to_numpy()

        def per_row(attr: str, missing: int, column=column) -> np.ndarray:
            values = {f: getattr(r[column], attr) for f, r in rules.items() if column in r}
            return family.map(values).fillna(missing).to_numpy(np.int64)

        earliest = per_row("earliest_offset_minutes", -1)
        latest = per_row("latest_offset_minutes", -1)
        length = per_row("length_minutes", 0)
        movable = set_ & (earliest >= 0)
        if not movable.any():
            continue
        spec[column] = (start, movable, earliest, latest, length)
        numbers += [*np.unique(earliest[movable]), *np.unique(length[movable])]
    if not spec:
        return out
    step = int(np.gcd.reduce(np.asarray(numbers, dtype=np.int64)))
    step = max(step, 1)

    queues = pd.Index(pd.unique(out["queue"].astype(str)))
    q_of = queues.get_indexer(out["queue"].astype(str))
    n_slots = horizon_minutes // step
    top = max(n_slots, int(-(-shift_hi.max() // step))) + 1
    length_t = n_slots if cyclic else top

    def wrap(slot: np.ndarray) -> np.ndarray:
        return slot % n_slots if cyclic else slot

    def at_work(q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Spans [lo, hi) of sub-slots counted per queue and sub-slot (wrapped if cyclic)."""
        d = np.zeros((len(queues), top + n_slots + 1), np.int64)
        if cyclic:
            lo, hi = lo % n_slots, lo % n_slots + (hi - lo)
        np.add.at(d, (q, lo), 1)
        np.add.at(d, (q, hi), -1)
        c = np.cumsum(d, axis=1)
        if not cyclic:
            return c[:, :length_t]
        folded = c[:, :n_slots].copy()
        for begin in range(n_slots, c.shape[1], n_slots):
            part = c[:, begin:begin + n_slots]
            folded[:, :part.shape[1]] += part
        return folded

    on_shift = at_work(q_of, shift_lo // step, -(-shift_hi // step))
    need = np.zeros((len(queues), length_t))
    if requirement is not None and len(requirement):
        k = interval_minutes // step
        r_q = queues.get_indexer(requirement["unique_id"].astype(str))
        r_lo = _minutes(requirement["ds"], origin_ns) // step
        ok = (r_q >= 0) & (r_lo >= 0) & (r_lo + k <= length_t)
        cols = r_lo[ok][:, None] + np.arange(k)[None, :]
        need[np.repeat(r_q[ok], k), cols.ravel()] = np.repeat(
            requirement["agents_required"].to_numpy(float)[ok], k)

    def taken(placed: dict[str, np.ndarray]) -> np.ndarray:
        """Agents on a break per queue and sub-slot, pauses starting at `placed` minutes."""
        total = np.zeros_like(on_shift)
        for column, (_, movable, _, _, length) in spec.items():
            p_lo = placed[column][movable] // step
            total += at_work(q_of[movable], p_lo, p_lo + length[movable] // step)
        return total

    def shortfall(cover: np.ndarray) -> np.ndarray:
        return np.maximum(need - cover, 0.0).sum(axis=1)

    before = {c: s[0].copy() for c, s in spec.items()}
    short_before = shortfall(on_shift - taken(before))

    # Re-deal group by group, starting from the solver's placement evened out inside each
    # interval: a group's breaks are lifted off the queue and dealt again given every other
    # break, and the new deal is kept only if no worse on the sub-slots it touches.
    tour_ids = out["tour_id"].astype(str).to_numpy()
    current = {c: _within_intervals(s[0], s[1], shift_lo, s[2], s[3], s[4], q_of,
                                    interval_minutes, tour_ids)
               for c, s in spec.items()}
    cover = (on_shift - taken(current)).astype(float)
    groups = []
    for column, (_, movable, earliest, latest, length) in spec.items():
        rows = np.flatnonzero(movable)
        keys = np.column_stack([q_of[rows], shift_lo[rows], earliest[rows], latest[rows],
                                length[rows]])
        order = np.lexsort((tour_ids[rows], *keys.T[::-1]))
        rows, keys = rows[order], keys[order]
        cut = np.flatnonzero((np.diff(keys, axis=0) != 0).any(axis=1)) + 1
        for part, key in zip(np.split(rows, cut), keys[np.r_[0, cut]]):
            q, s, e, l, n = (int(v) for v in key)
            groups.append((-n, l - e, q, s, column, e, l, part))
    groups.sort(key=lambda g: g[:5])
    for _ in range(passes):
        changed = False
        for neg_len, _, q, s, column, e, l, rows in groups:
            span = -neg_len // step
            offsets = np.arange(e, l + 1, step)
            at = np.searchsorted(offsets, current[column][rows] - s)
            if (at >= len(offsets)).any() or (offsets[np.minimum(at, len(offsets) - 1)]
                                              != current[column][rows] - s).any():
                continue  # off the sub-slot grid: leave the solver's placement
            # The group's candidate sub-slots form one window; offset i takes i..i+span-1.
            window = wrap((s + e) // step + np.arange(len(offsets) + span - 1))
            old = np.bincount(at, minlength=len(offsets))
            ones = np.ones(span)
            free = cover[q, window] + np.convolve(old, ones)
            need_w = need[q, window]
            new = _deal(free - need_w, span, len(rows))

            def score(counts: np.ndarray) -> tuple[float, float]:
                gap = need_w - free + np.convolve(counts, ones)
                return float(np.maximum(gap, 0.0).sum()), float(gap.max())

            keep = new if score(new) <= score(old) else old
            changed |= bool((keep != old).any())
            cover[q, window] = free - np.convolve(keep, ones)
            current[column][rows] = s + np.repeat(offsets, keep)
        if not changed:
            break
    dealt = current

    short_after = shortfall(on_shift - taken(dealt))
    keep_dealt = short_after <= short_before + 1e-9
    chosen = {c: np.where(keep_dealt[q_of], dealt[c], before[c]) for c in spec}
    for column, (_, movable, _, _, length) in spec.items():
        start = pd.Timestamp(origin) + pd.to_timedelta(chosen[column], unit="m")
        begin = np.where(movable, np.asarray(start, dtype="datetime64[ns]"),
                         out[f"{column}_start"].to_numpy(dtype="datetime64[ns]"))
        end = np.where(movable, begin + (length * 60).astype("timedelta64[s]"),
                       out[f"{column}_end"].to_numpy(dtype="datetime64[ns]"))
        out[f"{column}_start"] = begin
        out[f"{column}_end"] = end
    return out


def _deal(surplus: np.ndarray, span: int, n: int) -> np.ndarray:
    """How many of `n` interchangeable breaks of `span` sub-slots to start at each offset
    of a window, greedily; offset i takes sub-slots i..i+span-1 of `surplus` (agents at
    work minus required per sub-slot, without these breaks; not modified).

    Each break goes where it adds the least shortfall, ties to the offset whose busiest
    sub-slot keeps the most agents to spare, then the most spare agents overall, then the
    earliest. Several go at once while the chosen offset provably stays the choice (its
    added shortfall unchanged and still the least, or still ahead on agents to spare), so
    the result is the one-at-a-time greedy's without its per-break loop.
    """
    n_offsets = len(surplus) - span + 1
    pos = np.arange(n_offsets)[:, None] + np.arange(span)[None, :]
    counts = np.zeros(n_offsets, np.int64)
    local = surplus.astype(float).copy()
    order_key = np.arange(n_offsets)
    left = n
    while left:
        room = local[pos]
        cost = np.clip(1.0 - room, 0.0, 1.0).sum(axis=1)
        least = room.min(axis=1)
        best = int(np.lexsort((order_key, -room.sum(axis=1), -least, cost))[0])
        mine = room[best]
        # Units before the chosen offset's added shortfall changes.
        if ((mine > 0) & (mine < 1)).any():
            same_cost = 1.0
        else:
            spare = mine[mine >= 1]
            same_cost = math.floor(spare.min()) if len(spare) else math.inf
        others = np.flatnonzero(order_key != best)
        tied = others[cost[others] <= cost[best] + 1e-12]
        ahead = math.inf
        if len(tied):
            lead = least[best] - least[tied].max()
            ahead = max(1, math.ceil(lead)) if lead > 0 else 1
        chunk = max(1, int(min(left, same_cost, ahead)))
        counts[best] += chunk
        local[best:best + span] -= chunk
        left -= chunk
    return counts


def _fill(levels: np.ndarray, n: int) -> np.ndarray:
    """Water-filling: how many of `n` units to add to each of `levels` so the lowest rise
    together (ties to the first)."""
    level = levels.astype(float)
    add = np.zeros(len(level), np.int64)
    while n > 0:
        low = level.min()
        at = np.flatnonzero(level == low)
        higher = level[level > low]
        room = (higher.min() - low) * len(at) if len(higher) else np.inf
        if room >= n:
            add[at] += n // len(at)
            add[at[: n % len(at)]] += 1
            return add
        step = int(higher.min() - low)
        add[at] += step
        level[at] += step
        n -= step * len(at)
    return add


def _within_intervals(start: np.ndarray, movable: np.ndarray, shift_lo: np.ndarray,
                      earliest: np.ndarray, latest: np.ndarray, length: np.ndarray,
                      queue: np.ndarray, interval_minutes: int, tour_id: np.ndarray
                      ) -> np.ndarray:
    """Breaks shorter than an interval dealt evenly over the sub-slots of the interval the
    solver put them in (inside their windows): the model counts interval averages, so this
    keeps every interval's average and makes each quarter-hour's cover equal it (to within
    one agent). Breaks of one queue, interval and set of allowed sub-slots are dealt
    together, the most constrained sets first. Minutes from the origin in and out."""
    out = start.copy()
    short = movable & (length < interval_minutes) & (length > 0)
    short &= (interval_minutes % np.maximum(length, 1) == 0)
    rows = np.flatnonzero(short)
    if not len(rows):
        return out
    first = start[rows] // interval_minutes * interval_minutes
    on_grid = (start[rows] - first) % length[rows] == 0
    rows, first = rows[on_grid], first[on_grid]
    n_pos = interval_minutes // length[rows]
    width = int(n_pos.max())
    pos = first[:, None] + np.arange(width)[None, :] * length[rows][:, None]
    offset = pos - shift_lo[rows][:, None]
    ok = ((np.arange(width)[None, :] < n_pos[:, None]) & (offset >= earliest[rows][:, None])
          & (offset <= latest[rows][:, None]))
    mask = (ok * (1 << np.arange(width))[None, :]).sum(axis=1)
    bits = ok.sum(axis=1)
    keys = np.column_stack([queue[rows], first, length[rows]])
    order = np.lexsort((tour_id[rows], mask, bits, *keys.T[::-1]))
    rows, keys, mask = rows[order], keys[order], mask[order]
    block_cut = np.flatnonzero((np.diff(keys, axis=0) != 0).any(axis=1)) + 1
    starts = np.r_[0, block_cut]
    ends = np.r_[block_cut, len(rows)]
    for lo, hi in zip(starts, ends):
        slot, brk = int(keys[lo, 1]), int(keys[lo, 2])
        taken = np.zeros(width, np.int64)
        m = mask[lo:hi]
        type_cut = np.r_[0, np.flatnonzero(np.diff(m) != 0) + 1, hi - lo]
        for t_lo, t_hi in zip(type_cut[:-1], type_cut[1:]):
            allowed = np.flatnonzero((int(m[t_lo]) >> np.arange(width)) & 1)
            add = _fill(taken[allowed], int(t_hi - t_lo))
            taken[allowed] += add
            out[rows[lo + t_lo:lo + t_hi]] = slot + np.repeat(allowed, add) * brk
    return out

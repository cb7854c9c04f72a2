"""Enumerating what a shift family allows: shift starts, start bands, weekly tour patterns,
and the coverage and cost of one shift on absolute time.

Times are minutes from the plan's origin (midnight of its first date) unless named
`*_of_day`. A shift covers absolute time, so one that starts at 22:00 covers the next
morning; the part past the plan's end is dropped (or wrapped onto the start when the plan is
cyclic).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .errors import SchedulerError
from .rules import ShiftFamily

DAY_MINUTES = 24 * 60
_MAX_PATTERNS = 20_000
FREE_COMBINATIONS = 400
"""Above this many combinations of weekly patterns, multi-week tours keep stable days off."""


@dataclass(frozen=True)
class Grid:
    """The plan's time grid: `n_intervals` intervals of `interval_minutes` from the origin,
    `first_weekday` the weekday of the origin (0 = Monday)."""

    interval_minutes: int
    n_intervals: int
    first_weekday: int
    cyclic: bool = False

    @property
    def n_days(self) -> int:
        return math.ceil(self.n_intervals * self.interval_minutes / DAY_MINUTES)

    @property
    def horizon_minutes(self) -> int:
        return self.n_intervals * self.interval_minutes


def span_weights(grid: Grid, start: int, length: int) -> dict[int, float]:
    """Share of each interval covered by the span [start, start + length) minutes.

    Parts outside [0, horizon) are dropped, or wrapped when the grid is cyclic.
    """
    width = grid.interval_minutes
    out: dict[int, float] = {}
    pieces = [(start, start + length)]
    if grid.cyclic:
        horizon = grid.horizon_minutes
        pieces = []
        lo = start
        while lo < start + length:
            hi = min(start + length, (lo // horizon + 1) * horizon)
            pieces.append((lo % horizon, lo % horizon + (hi - lo)))
            lo = hi
    for lo, hi in pieces:
        lo, hi = max(lo, 0), min(hi, grid.horizon_minutes)
        for idx in range(lo // width, -(-hi // width)):
            overlap = min(hi, (idx + 1) * width) - max(lo, idx * width)
            if overlap > 0:
                out[idx] = out.get(idx, 0.0) + overlap / width
    return out


def shift_cost(family: ShiftFamily, start: int, first_weekday: int) -> float:
    """Cost of one shift starting `start` minutes after the origin.

    Paid hours times `cost_per_hour`, raised by each premium in proportion to the share of
    the shift's span inside the night window or on a Saturday/Sunday.
    """
    minutes = np.arange(start, start + family.length_minutes)
    of_day = minutes % DAY_MINUTES
    night_lo, night_hi = family.night_minutes()
    if night_lo <= night_hi:
        night = (of_day >= night_lo) & (of_day < night_hi)
    else:
        night = (of_day >= night_lo) | (of_day < night_hi)
    weekday = (first_weekday + minutes // DAY_MINUTES) % 7
    weekend = weekday >= 5
    factor = 1.0 + family.night_premium * night.mean() + family.weekend_premium * weekend.mean()
    return float(family.cost_per_hour * family.paid_hours * factor)


def start_bands(family: ShiftFamily, min_rest_hours: float) -> list[tuple[int, ...]]:
    """Partition the family's start times (minutes of day) into bands a tour keeps to.

    A tour starts every worked day inside one band, so its start varies at most the band's
    width; the width is also kept small enough that a shift started at the band's end still
    leaves `min_rest_hours` before the next day's earliest start in the band.
    """
    starts = family.start_minutes()
    if family.days_per_week is None:
        return [tuple(starts)]
    width = math.inf
    if family.max_start_variation_hours is not None:
        width = family.max_start_variation_hours * 60
    if family.days_per_week > 1:
        width = min(width, DAY_MINUTES - family.length_minutes - min_rest_hours * 60)
    bands: list[list[int]] = []
    for start in starts:
        if bands and start - bands[-1][0] <= width:
            bands[-1].append(start)
        else:
            bands.append([start])
    return [tuple(b) for b in bands]


def _week_patterns(family: ShiftFamily, first_weekday: int) -> list[tuple[bool, ...]]:
    """Worked-day masks of one 7-day week starting on `first_weekday`."""
    allowed = family.weekday_numbers()
    days = family.days_per_week
    out = []
    for worked in itertools.combinations(range(7), days):
        if any((first_weekday + d) % 7 not in allowed for d in worked):
            continue
        mask = tuple(d in worked for d in range(7))
        if family.consecutive_days_off and days < 7:
            # Off days form one block on the weekly cycle: exactly one worked->off change.
            changes = sum(mask[d] and not mask[(d + 1) % 7] for d in range(7))
            if changes != 1:
                continue
        out.append(mask)
    return out


def _week_sequences(weekly: list[tuple[bool, ...]], n_weeks: int,
                    stable: bool) -> list[tuple[tuple[bool, ...], ...]]:
    """Sequences of one weekly mask per plan week: every combination, or with `stable`
    only those whose days off move by at most one day (a rotation by -1, 0 or +1) from one
    week to the next."""
    if not stable:
        return list(itertools.product(weekly, repeat=n_weeks))
    allowed = set(weekly)
    sequences = [(w,) for w in weekly]
    for _ in range(n_weeks - 1):
        grown = []
        for seq in sequences:
            last = seq[-1]
            moves = dict.fromkeys(last[-k:] + last[:-k] for k in (0, 1, -1))
            grown.extend(seq + (m,) for m in moves if m in allowed)
        sequences = grown
    return sequences


def tour_patterns(family: ShiftFamily, grid: Grid, max_consecutive_days: int) -> list[tuple[int, ...]]:
    """Tours of a family as tuples of worked day indexes (0 = the plan's first date).

    Each plan week (7 days from the first date) takes one weekly pattern; across week
    boundaries no tour works more than `max_consecutive_days` in a row. A trailing partial
    week keeps the visible part of each pattern. Duplicates and empty tours are dropped.
    When every combination of weekly patterns would exceed `FREE_COMBINATIONS` (5/2 tours
    over 4 weeks: 7^4 = 2,401), a tour's days off move by at most one day from one week to
    the next instead (stable days off, as rosters are usually kept: 189 for those 4 weeks).
    """
    n_days = grid.n_days
    n_weeks = math.ceil(n_days / 7)
    weekly = _week_patterns(family, grid.first_weekday)
    if not weekly:
        raise SchedulerError(f"family {family.name!r}: no weekly pattern of {family.days_per_week} "
                         f"days fits weekdays {list(family.weekdays)} "
                         f"{'with consecutive days off' if family.consecutive_days_off else ''}")
    stable = len(weekly) ** n_weeks > FREE_COMBINATIONS
    if stable and len(weekly) * 3 ** (n_weeks - 1) > _MAX_PATTERNS:
        raise SchedulerError(f"family {family.name!r}: {len(weekly)} x 3^{n_weeks - 1} multi-week "
                         f"tours exceed {_MAX_PATTERNS}; plan fewer weeks at a time")
    seen: set[tuple[int, ...]] = set()
    out = []
    for combo in _week_sequences(weekly, n_weeks, stable):
        mask = [m for week in combo for m in week][:n_days]
        run = longest = 0
        for worked in mask:
            run = run + 1 if worked else 0
            longest = max(longest, run)
        if longest > max_consecutive_days:
            continue
        worked_days = tuple(d for d, w in enumerate(mask) if w)
        if worked_days and worked_days not in seen:
            seen.add(worked_days)
            out.append(worked_days)
    if not out:
        raise SchedulerError(f"family {family.name!r}: no tour satisfies max_consecutive_days "
                             f"{max_consecutive_days} with {family.days_per_week} days per week")
    return out

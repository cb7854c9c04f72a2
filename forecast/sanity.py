"""Sanity limits on history: absurd values and day-first dates are refused, not guessed.

- A value `OUTLIER_FACTOR` (1000) times the queue's 99th percentile is almost surely a
  typo or a unit error (a 1e12 row turned into five million agents); it is refused with
  the queue, the hour and the value unless the caller allows outliers.
- Dates written day-first ('13/11/2026 08:00') would be read month-first by the parser
  wherever the day is 12 or less, scrambling the order; they are reported as day-first,
  naming the row, instead of surfacing later as "rows not sorted".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from forecast.errors import InputError

OUTLIER_FACTOR = 1000.0
OUTLIER_QUANTILE = 0.99
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})\b")
_SLASHED_ANY = re.compile(r"^\s*\d{1,2}[/.]\d{1,2}[/.](?:\d{2}|\d{4})\b")


def check_outliers(history: pd.DataFrame, source: str, *, factor: float = OUTLIER_FACTOR,
                   quantile: float = OUTLIER_QUANTILE) -> None:
    """InputError naming the first value of `history` (`unique_id, ds, y`) above `factor`
    times its queue's `quantile` of y (at least `factor` x 1 contact, so a queue of
    zeros is not flagged for one contact)."""
    for queue, rows in history.groupby("unique_id", sort=True, observed=True):
        y = rows["y"].to_numpy(dtype=float)
        if not len(y):
            continue
        reference = max(float(np.quantile(y, quantile)), 1.0)
        above = y > factor * reference
        if above.any():
            i = int(np.flatnonzero(above)[0])
            raise InputError(
                f"{source}: queue {str(queue)!r}, ds {rows['ds'].iloc[i]:%Y-%m-%d %H:%M}: y = "
                f"{y[i]:g} is more than {factor:g}x the queue's {quantile:.0%} percentile "
                f"({reference:g}); {int(above.sum())} value(s) so far out look like a typo "
                "or a unit error: fix the row, or pass --allow-outliers to keep them")


def check_day_first(text: pd.Series, source: str, column: str, row_label: str = "line",
                    first_number: int = 2) -> None:
    """InputError when the timestamps in `text` are written day-first (a first field above
    12 in 'dd/mm/yyyy') or ambiguously (every first and second field 12 or less, so day
    and month cannot be told apart). Month-first text with a day above 12 somewhere is
    unambiguous and passes. `first_number` is the label of text's first row (2 = the
    first data line of a CSV with a header)."""
    # A file keeps one date style: when its first rows have no slashed date, skip the
    # regex over millions of rows.
    if not text.iloc[:1000].astype("string").str.contains(_SLASHED_ANY, na=False).any():
        return
    parts = text.astype("string").str.extract(_SLASHED)
    slashed = parts[0].notna().to_numpy(dtype=bool)
    if not slashed.any():
        return
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    second = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
    day_first = slashed & (first > 12)
    month_first = slashed & (second > 12)
    if day_first.any():
        i = int(np.flatnonzero(day_first)[0])
        raise InputError(
            f"{source}: column {column!r} holds day-first dates: {row_label} "
            f"{i + first_number} has {text.iloc[i]!r} (day {int(first[i])}); the parser "
            "would read the rest month-first and scramble the order; write dates as "
            "YYYY-MM-DD HH:MM")
    if not month_first.any():
        i = int(np.flatnonzero(slashed)[0])
        raise InputError(
            f"{source}: column {column!r} holds dates such as {text.iloc[i]!r} "
            f"({row_label} {i + first_number}) that read as day-first or month-first alike; "
            "write dates as YYYY-MM-DD HH:MM")

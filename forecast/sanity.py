"""Sanity limits on history: absurd values and day-first dates are refused, not guessed.

- A value `OUTLIER_FACTOR` (1000) times the queue's 99th percentile is almost surely a
  typo or a unit error (a 1e12 row turned into five million agents); it is refused with
  the queue, the hour and the value unless the caller allows outliers.
- Dates written day-first ('13/11/2026 08:00') would be read month-first by the parser
  wherever the day is 12 or less, scrambling the order; they are reported as day-first,
  naming the row, instead of surfacing later as "rows not sorted".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError
from ..tableio.reader import check_day_first as _check_day_first

OUTLIER_FACTOR = 1000.0
OUTLIER_QUANTILE = 0.99


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
    """InputError when the timestamps in `text` are written day-first or ambiguously
    (`staffcast.tableio.reader.check_day_first`)."""
    _check_day_first(text, source, column, row_label, first_number, InputError)

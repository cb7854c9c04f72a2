"""Seasonal baselines on day types: `snaive`, `histavg` and `trimavg`.

All forecast an hour by the same hour of recent days *of the same day type* (the weekday
the date behaves like, see `staffcast.forecasting.features`): `histavg` averages the last `k` such days,
`snaive` copies the last one, `trimavg` averages the last 6 after dropping the highest and
the lowest value of each hour (a trimmed mean: one unusual day, a storm or an outage,
moves it far less than the plain mean, and it still follows a level shift within days). So a first-ever holiday copies the last rest day, and a
working Saturday copies a weekday. Only complete days that were open at least one hour
serve as references; closure days are skipped, so the week after a closure does not copy
a zero day. A day type never seen in history falls back to the last `k` reference days of
any type.

Intervals: the same rule is replayed over the history (each reference day forecast from
the `k` days of its type before it, a lead time of up to one week, like the forecast),
and the empirical quantiles of the errors on the log1p scale of open hours give the bands.
"""

from __future__ import annotations

import numpy as np

from ..features import DAYS_PER_WEEK, Features
from .base import Model, Prediction, apply_log_ratio, log_ratio_quantiles


def _day_matrix(y: np.ndarray, X: Features) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days, steps per day) matrix of `y` (NaN outside the span), day type per day,
    reference flag."""
    first = X.day[0]
    n_days = int(X.day[-1] - first) + 1
    matrix = np.full((n_days, X.steps_per_day), np.nan)
    rows = X.day - first
    matrix[rows, X.slot] = y
    types = np.zeros(n_days, dtype=np.int64)
    types[rows] = X.day_type
    any_open = np.zeros(n_days, dtype=bool)
    np.logical_or.at(any_open, rows, X.open)
    reference = any_open & ~np.isnan(matrix).any(axis=1)
    return matrix, types, reference


def _trimmed_mean(rows: np.ndarray, trim: int) -> np.ndarray:
    """Mean over axis 0 after dropping the `trim` highest and lowest values of each column
    (no trimming when that would leave fewer than one value)."""
    if trim and len(rows) > 2 * trim:
        rows = np.sort(rows, axis=0)[trim:len(rows) - trim]
    return rows.mean(axis=0)


def _replay(days: np.ndarray, k: int, trim: int) -> np.ndarray:
    """For every day of `days` (days x steps) after the first, the trimmed mean of the up
    to `k` days before it (as `_trimmed_mean`), all full windows in one sort."""
    out = np.empty((len(days) - 1, days.shape[1]))
    head = min(k, len(days)) - 1  # days 1..k-1 see fewer than k days before them
    for i in range(1, head + 1):
        out[i - 1] = _trimmed_mean(days[:i], trim)
    if len(days) > k:
        windows = np.lib.stride_tricks.sliding_window_view(days[:-1], k, axis=0)
        if trim and k > 2 * trim:
            windows = np.sort(windows, axis=2)[:, :, trim:k - trim]
        out[head:] = windows.mean(axis=2)
    return out


class SameDayTypeMean(Model):
    """Mean of the same hour over the last `k` reference days of the same day type, after
    dropping the `trim` highest and lowest of them hour by hour."""

    name = "histavg"

    def __init__(self, k: int = 4, trim: int = 0):
        if k < 1 or trim < 0:
            raise ValueError(f"k must be >= 1 and trim >= 0, got {k}, {trim}")
        self.k = k
        self.trim = trim

    def _fit(self, y: np.ndarray, X: Features) -> None:
        matrix, types, reference = _day_matrix(y, X)
        ref_rows = np.flatnonzero(reference)
        if len(ref_rows) == 0:
            raise ValueError(f"{self.name}: history has no complete open day to learn from")
        # In-sample replay for the interval: each reference day against the k before it.
        errors_y, errors_fit = [], []
        open_matrix = np.zeros_like(reference, shape=matrix.shape)
        open_matrix[X.day - X.day[0], X.slot] = X.open
        for t in range(DAYS_PER_WEEK):
            rows = ref_rows[types[ref_rows] == t]
            if len(rows) < 2:
                continue
            fitted = _replay(matrix[rows], self.k, self.trim)
            mask = open_matrix[rows[1:]]
            errors_y.append(matrix[rows[1:]][mask])
            errors_fit.append(fitted[mask])
        if not errors_y:
            raise ValueError(f"{self.name}: needs at least two days of the same type in "
                             "history to estimate its intervals")
        self.quantiles_ = log_ratio_quantiles(np.concatenate(errors_y),
                                              np.concatenate(errors_fit))
        self.profile_ = {}
        for t in range(DAYS_PER_WEEK):
            rows = ref_rows[types[ref_rows] == t]
            if len(rows):
                self.profile_[t] = _trimmed_mean(matrix[rows[-self.k:]], self.trim)
        self.fallback_ = _trimmed_mean(matrix[ref_rows[-self.k:]], self.trim)

    def _predict(self, X_future: Features) -> Prediction:
        table = np.stack([self.profile_.get(t, self.fallback_) for t in range(DAYS_PER_WEEK)])
        mean = table[X_future.day_type, X_future.slot]
        return apply_log_ratio(mean, self.quantiles_)


class TrimmedDayTypeMean(SameDayTypeMean):
    """Trimmed mean of the same hour over the last 6 days of the same day type (the
    highest and lowest dropped)."""

    name = "trimavg"

    def __init__(self, k: int = 6, trim: int = 1):
        super().__init__(k=k, trim=trim)


class SeasonalNaive(SameDayTypeMean):
    """Weekly seasonal naive on day types: the last reference day of the same day type."""

    name = "snaive"

    def __init__(self):
        super().__init__(k=1)

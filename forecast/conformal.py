"""Conformal prediction bands from rolling-origin backtest residuals.

A model's own in-sample errors (or its parametric variance) say little about how far a
week-ahead forecast will miss: level shifts, parameter uncertainty and lead time are all
missing. Split conformal prediction measures the misses directly. The model is refitted at
`windows` weekly origins before the end of history, forecasts one week from each, and the
residuals of those forecasts on open steps, scored on a variance-stabilising scale, give
the bands:

    score = g(y) - g(yhat),   band = g^-1(g(yhat) + q_lo), g^-1(g(yhat) + q_hi)

with `g` the square root (Box-Cox lambda 1/2, the variance-stabilising transform of counts,
so a band scales with the level: a quiet hour gets a band of a few contacts, a busy one a
proportionally wider band) and `q_lo`, `q_hi` the (1 - level)/2 and (1 + level)/2 empirical
quantiles of the scores, with the finite-sample correction of split conformal (the
ceil((n + 1) p)-th order statistic), so coverage on exchangeable data is at least nominal.
Equal tails, so `yhat_hi_80` stays the 90% quantile a risk-aware plan staffs for.

Scores are kept apart by horizon band (lead time in days from the origin, `BAND_DAYS`),
since errors grow with lead time for models with short memory; a band with fewer than
`MIN_SCORES` open-step scores is merged into its neighbour. Leads beyond the calibrated week
use the last band. All lengths come from the data spacing (steps per day), not hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import DAYS_PER_WEEK, Features
from .models.base import LEVELS, Model, Prediction

BAND_DAYS = (1, 3)  # horizon bands: lead < 1 day, 1-3 days, 3 days and more
MIN_SCORES = 60  # fewer open-step scores than this in a band: merge it with its neighbour
TRANSFORMS = ("sqrt", "log1p")


def steps_per_day(X: Features) -> int:
    """Steps of a whole day in the features' spacing (24 for hourly data)."""
    counts = np.bincount(X.day - X.day[0])
    return int(np.bincount(counts[counts > 0]).argmax())


def _forward(values: np.ndarray, transform: str) -> np.ndarray:
    values = np.clip(values, 0.0, None)
    return np.sqrt(values) if transform == "sqrt" else np.log1p(values)


def _backward(values: np.ndarray, transform: str) -> np.ndarray:
    return np.clip(values, 0.0, None) ** 2 if transform == "sqrt" else np.expm1(values)


def _upper_order_statistic(scores: np.ndarray, p: float) -> float:
    """The ceil((n + 1) p)-th smallest score (the largest when that exceeds n)."""
    n = len(scores)
    k = min(n, math.ceil((n + 1) * p))
    return float(np.partition(scores, k - 1)[k - 1])


@dataclass(frozen=True)
class ConformalBands:
    """Calibrated score quantiles per horizon band.

    `edges` are the first lead (in steps, 0 = the first step after the origin) of every
    band after the first; `quantiles[level]` is a (bands, 2) array of (q_lo, q_hi) on the
    `transform` scale; `n_scores` the scores behind each band.
    """

    transform: str
    edges: tuple[int, ...]
    quantiles: dict[int, np.ndarray]
    n_scores: tuple[int, ...]

    def apply(self, mean: np.ndarray, lead: np.ndarray) -> Prediction:
        """Bands around the point forecast `mean` (contacts per step) at leads `lead`
        (steps after the origin)."""
        band = np.searchsorted(np.asarray(self.edges, dtype=np.int64), lead, side="right")
        base = _forward(np.asarray(mean, dtype=float), self.transform)
        out = {"mean": np.asarray(mean, dtype=float)}
        for level, q in self.quantiles.items():
            out[f"lo-{level}"] = _backward(base + q[band, 0], self.transform)
            out[f"hi-{level}"] = _backward(base + q[band, 1], self.transform)
        return out


def fit_bands(lead: np.ndarray, y: np.ndarray, yhat: np.ndarray, *, steps_per_day: int,
              transform: str = "sqrt", levels: tuple[int, ...] = LEVELS,
              band_days: tuple[int, ...] = BAND_DAYS,
              min_scores: int = MIN_SCORES) -> ConformalBands:
    """Conformal bands from out-of-sample forecasts: `lead` (steps after each forecast's
    origin), actual `y` and forecast `yhat` (contacts per step) of open steps only."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    lead, y, yhat = (np.asarray(a) for a in (lead, y, yhat))
    if len(y) < 2:
        raise ValueError("conformal bands need at least two out-of-sample forecasts, "
                         f"got {len(y)}")
    scores = _forward(y.astype(float), transform) - _forward(yhat.astype(float), transform)
    edges = [d * steps_per_day for d in band_days]
    band = np.searchsorted(np.asarray(edges), lead, side="right")
    counts = np.bincount(band, minlength=len(edges) + 1)
    # Merge a sparse band into the next one (the last into the one before).
    merged: list[list[int]] = []
    pending: list[int] = []
    for b in range(len(edges) + 1):
        pending.append(b)
        if counts[pending].sum() >= min_scores:
            merged.append(pending)
            pending = []
    if pending and merged:
        merged[-1].extend(pending)
    elif pending:
        merged.append(pending)
    quantiles = {level: np.zeros((len(edges) + 1, 2)) for level in levels}
    n_scores = [0] * (len(edges) + 1)
    for group in merged:
        chosen = scores[np.isin(band, group)]
        if len(chosen) < 2:  # a group of empty bands: borrow every score
            chosen = scores
        for level in levels:
            tail = (1 - level / 100) / 2
            q_hi = _upper_order_statistic(chosen, 1 - tail)
            q_lo = -_upper_order_statistic(-chosen, 1 - tail)
            quantiles[level][group] = (q_lo, q_hi)
        for b in group:
            n_scores[b] = len(chosen)
    return ConformalBands(transform, tuple(edges), quantiles, tuple(n_scores))


def bands_from_windows(windows, open_: np.ndarray, *, steps_per_day: int,
                       transform: str = "sqrt",
                       means: list[np.ndarray] | None = None) -> ConformalBands:
    """Conformal bands from `Model.cross_validation` windows; `open_` is the open mask of
    the whole history the windows were cut from; `means` replaces the windows' point
    forecasts (e.g. a combination of several models' windows)."""
    leads, ys, yhats = [], [], []
    for i, window in enumerate(windows):
        h = len(window.y_true)
        mask = open_[window.cutoff:window.cutoff + h]
        mean = window.prediction["mean"] if means is None else means[i]
        leads.append(np.arange(h)[mask])
        ys.append(window.y_true[mask])
        yhats.append(np.asarray(mean)[mask])
    return fit_bands(np.concatenate(leads), np.concatenate(ys), np.concatenate(yhats),
                     steps_per_day=steps_per_day, transform=transform)


def calibration_windows(n_steps: int, week: int, wanted: int, min_train_weeks: int) -> int:
    """How many weekly origins fit in `n_steps` of history leaving `min_train_weeks` weeks
    of training before the first (0 when none does)."""
    return max(0, min(wanted, n_steps // week - min_train_weeks))


class Conformal(Model):
    """Any model with conformal bands from its own rolling-origin residuals.

    At fit time the wrapped model is refitted at `windows` weekly origins before the end of
    history (each one week ahead), then on the whole history; its point forecast is kept
    and its bands are replaced by the conformal ones (`ConformalBands`). With history too
    short for a single calibration window (less than `min_train_weeks` + 1 weeks) the
    model keeps its own bands.
    """

    def __init__(self, base: Model, windows: int = 6, min_train_weeks: int = 2,
                 transform: str = "sqrt"):
        if windows < 1:
            raise ValueError(f"windows must be >= 1, got {windows}")
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, "
                             f"got {transform!r}")
        self.base = base
        self.name = base.name
        self.uses_events = base.uses_events
        self.windows = windows
        self.min_train_weeks = min_train_weeks
        self.transform = transform

    def _fit(self, y: np.ndarray, X: Features) -> None:
        per_day = steps_per_day(X)
        week = per_day * DAYS_PER_WEEK
        n = calibration_windows(len(y), week, self.windows, self.min_train_weeks)
        self.bands_ = None
        if n:
            try:
                cv = self.base.cross_validation(y, X, h=week, windows=n, step=week)
            except ValueError:
                cv = []  # too little usable history at an early origin: own bands
            if cv:
                self.bands_ = bands_from_windows(cv, X.open, steps_per_day=per_day,
                                                 transform=self.transform)
        self.base.fit(y, X)

    def _predict(self, X_future: Features) -> Prediction:
        prediction = self.base.predict(X_future)
        if self.bands_ is None:
            return prediction
        return self.bands_.apply(prediction["mean"], np.arange(len(X_future)))

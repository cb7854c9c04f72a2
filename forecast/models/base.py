"""The verb set every model shares, and the helpers that make any output a valid forecast.

A model sees one queue as numpy arrays: `y` (hourly volume, contacts per hour) and the
`Features` of the same hours; it forecasts the hours described by future `Features`,
which directly follow the history. Every model returns the same dict of arrays:
`{"mean", "lo-80", "hi-80", "lo-95", "hi-95"}` in contacts per hour.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..features import Features, mark_silent_days

LEVELS = (80, 95)
KEYS = ("mean", "lo-80", "hi-80", "lo-95", "hi-95")
Prediction = dict[str, np.ndarray]


@dataclass(frozen=True)
class Window:
    """One rolling-origin window: history is `y[:cutoff]`, `y_true` the next hours."""

    cutoff: int
    prediction: Prediction
    y_true: np.ndarray
    fit_seconds: float


class Model(ABC):
    """fit / predict / forecast / cross_validation on one queue; learned state ends in `_`."""

    name: ClassVar[str]
    uses_events: ClassVar[bool] = False  # does the model use the calendar's promotions?

    def fit(self, y: np.ndarray, X: Features) -> Model:
        """Learn from hourly history `y` (contacts per hour) with its features `X`.

        Open days without any contact are left out as unrecorded closures (see
        `staffcast.forecasting.features.mark_silent_days`).
        """
        y = np.asarray(y, dtype=float)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"{self.name}: y has {len(y)} hours but features have {len(X)}")
        if not np.isfinite(y).all() or (y < 0).any():
            raise ValueError(f"{self.name}: y must be finite and >= 0")
        self._fit(y, mark_silent_days(y, X))
        self.n_history_ = len(y)
        return self

    def predict(self, X_future: Features) -> Prediction:
        """Forecast the hours `X_future` that follow the fitted history."""
        if not hasattr(self, "n_history_"):
            raise ValueError(f"{self.name}: call fit() before predict()")
        return finish(self._predict(X_future), X_future.open)

    def forecast(self, y: np.ndarray, X: Features, X_future: Features) -> Prediction:
        """fit then predict in one call."""
        return self.fit(y, X).predict(X_future)

    def cross_validation(self, y: np.ndarray, X: Features, *, h: int, windows: int,
                         step: int) -> list[Window]:
        """Rolling origin: `windows` forecasts of `h` hours, origins `step` hours apart,
        the last one ending at the end of `y`."""
        y = np.asarray(y, dtype=float)
        first = len(y) - h - (windows - 1) * step
        if h < 1 or windows < 1 or step < 1:
            raise ValueError(f"h, windows and step must be >= 1, got {h}, {windows}, {step}")
        if first <= 0:
            raise ValueError(f"{self.name}: {windows} windows of {h} hours {step} hours apart "
                             f"need more than {len(y)} hours of history")
        return self.forecasts_at(y, X, range(first, len(y) - h + 1, step), h=h)

    def forecasts_at(self, y: np.ndarray, X: Features, cutoffs, *, h: int) -> list[Window]:
        """One window of `h` steps from each origin in `cutoffs` (history `y[:cutoff]`,
        refitted each time); every window must end within `y`."""
        y = np.asarray(y, dtype=float)
        out = []
        for cutoff in cutoffs:
            if not 0 < cutoff <= len(y) - h:
                raise ValueError(f"{self.name}: a window of {h} steps from step {cutoff} does "
                                 f"not fit in {len(y)} steps of history")
            start = time.perf_counter()
            prediction = self.forecast(y[:cutoff], X[:cutoff], X[cutoff:cutoff + h])
            out.append(Window(cutoff, prediction, y[cutoff:cutoff + h],
                              time.perf_counter() - start))
        return out

    @abstractmethod
    def _fit(self, y: np.ndarray, X: Features) -> None: ...

    @abstractmethod
    def _predict(self, X_future: Features) -> Prediction: ...


def recent_open_window(name: str, y: np.ndarray, X: Features, max_weeks: int
                       ) -> tuple[np.ndarray, Features]:
    """The last `max_weeks` weeks of history; fitting a regression needs at least two days
    of open hours in them (a ValueError naming the model otherwise)."""
    start = max(0, len(y) - max_weeks * X.steps_per_week)
    y, X = y[start:], X[start:]
    if X.open.sum() < 2 * X.steps_per_day:
        raise ValueError(f"{name}: needs at least 48 open hours of history, "
                         f"got {X.open.sum() * X.step_minutes / 60:g}")
    return y, X


def finish(prediction: Prediction, open_: np.ndarray) -> Prediction:
    """Closed hours to zero, no negative volume, and lo95 <= lo80 <= mean <= hi80 <= hi95."""
    mean = np.where(open_, np.clip(prediction["mean"], 0.0, None), 0.0)
    lo80 = np.minimum(np.clip(prediction["lo-80"], 0.0, None), mean)
    hi80 = np.maximum(prediction["hi-80"], mean)
    lo95 = np.minimum(np.clip(prediction["lo-95"], 0.0, None), lo80)
    hi95 = np.maximum(prediction["hi-95"], hi80)
    return {"mean": mean, "lo-80": np.where(open_, lo80, 0.0), "hi-80": np.where(open_, hi80, 0.0),
            "lo-95": np.where(open_, lo95, 0.0), "hi-95": np.where(open_, hi95, 0.0)}


def log_ratio_quantiles(y: np.ndarray, fitted: np.ndarray) -> dict[int, tuple[float, float]]:
    """Empirical error quantiles on the log1p scale, per interval level.

    Errors `log1p(y) - log1p(fitted)` scale with the volume, so one set of quantiles serves
    quiet and busy hours alike; the (1 - level) / 2 tails give the band.
    """
    errors = np.log1p(y) - np.log1p(np.clip(fitted, 0.0, None))
    if len(errors) < 2:
        raise ValueError("too little history to estimate forecast errors for the intervals "
                         "(need at least two in-sample forecasts)")
    out = {}
    for level in LEVELS:
        tail = (1 - level / 100) / 2
        lo, hi = np.quantile(errors, [tail, 1 - tail])
        out[level] = (float(lo), float(hi))
    return out


def apply_log_ratio(mean: np.ndarray, quantiles: dict[int, tuple[float, float]]) -> Prediction:
    """Turn a point forecast and log1p-scale error quantiles into the prediction dict."""
    base = np.log1p(np.clip(mean, 0.0, None))
    out = {"mean": mean}
    for level, (lo, hi) in quantiles.items():
        out[f"lo-{level}"] = np.expm1(base + lo)
        out[f"hi-{level}"] = np.expm1(base + hi)
    return out

"""Forecast accuracy metrics, one registry; every metric sees the same pooled arrays.

All are computed on the open hours of all backtest windows of one queue and model pooled:
`y` and `yhat` in contacts per hour, `lo_80`/`hi_80` the 80% band, and `scale` the
in-sample MAE of the weekly seasonal naive forecast (contacts per hour) for MASE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecast.errors import ForecastError

Metric = Callable[..., float]


def mase(y: np.ndarray, yhat: np.ndarray, *, scale: float, **_: object) -> float:
    """Mean absolute error divided by the in-sample weekly seasonal-naive MAE."""
    if not scale > 0:
        raise ForecastError(f"mase: the seasonal-naive scale must be > 0, got {scale}")
    return float(np.mean(np.abs(y - yhat)) / scale)


def wape(y: np.ndarray, yhat: np.ndarray, **_: object) -> float:
    """Weighted absolute percentage error: sum |y - yhat| / sum y (a fraction)."""
    total = float(np.sum(y))
    if not total > 0:
        raise ForecastError(f"wape: total actual volume must be > 0, got {total}")
    return float(np.sum(np.abs(y - yhat)) / total)


def bias(y: np.ndarray, yhat: np.ndarray, **_: object) -> float:
    """Relative bias: sum (yhat - y) / sum y; positive means over-forecast."""
    total = float(np.sum(y))
    if not total > 0:
        raise ForecastError(f"bias: total actual volume must be > 0, got {total}")
    return float(np.sum(yhat - y) / total)


def coverage_80(y: np.ndarray, yhat: np.ndarray, *, lo_80: np.ndarray, hi_80: np.ndarray,
                **_: object) -> float:
    """Share of hours whose actual volume lies inside the 80% band (ideal: 0.8)."""
    return float(np.mean((y >= lo_80) & (y <= hi_80)))


METRICS: dict[str, Metric] = {"mase": mase, "wape": wape, "bias": bias,
                              "coverage_80": coverage_80}


def get_metric(name: str) -> Metric:
    """A metric by registry name; an unknown name lists the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise ForecastError(f"unknown metric {name!r}; valid metrics: "
                            f"{', '.join(METRICS)}") from None


def seasonal_naive_scale(y: np.ndarray, open_: np.ndarray, season: int) -> float:
    """In-sample MAE of `y[t - season]` as the forecast of `y[t]`, over open hours `t`."""
    if len(y) <= season:
        raise ForecastError(f"mase scale needs more than {season} hours of history, got {len(y)}")
    errors = np.abs(y[season:] - y[:-season])[open_[season:]]
    return float(errors.mean()) if len(errors) else float("nan")

"""Forecast accuracy metrics, one registry; every metric sees the same pooled arrays.

All are computed on the open hours of all backtest windows of one queue and model pooled:
`y` and `yhat` in contacts per hour, `lo_80`/`hi_80` and `lo_95`/`hi_95` the bands, and
`scale` the in-sample MAE of the weekly seasonal naive forecast (contacts per hour) for
MASE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import ForecastError

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


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of hours whose actual volume lies inside [lo, hi] (bounds included)."""
    return float(np.mean((y >= lo) & (y <= hi)))


def interval_score(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: int) -> float:
    """Mean interval score of a central `level`% band (Gneiting & Raftery 2007), contacts
    per hour: width + 2/alpha x (distance below lo + distance above hi), alpha = 1 -
    level/100. Lower is better; a band is rewarded for being narrow and fined for misses,
    so the band with the right coverage at the least width scores best."""
    alpha = 1 - level / 100
    miss = np.clip(lo - y, 0.0, None) + np.clip(y - hi, 0.0, None)
    return float(np.mean(hi - lo + 2 / alpha * miss))


def coverage_80(y: np.ndarray, yhat: np.ndarray, *, lo_80: np.ndarray, hi_80: np.ndarray,
                **_: object) -> float:
    """Share of hours whose actual volume lies inside the 80% band (ideal: 0.8)."""
    return coverage(y, lo_80, hi_80)


def coverage_95(y: np.ndarray, yhat: np.ndarray, *, lo_95: np.ndarray, hi_95: np.ndarray,
                **_: object) -> float:
    """Share of hours whose actual volume lies inside the 95% band (ideal: 0.95)."""
    return coverage(y, lo_95, hi_95)


def interval_score_80(y: np.ndarray, yhat: np.ndarray, *, lo_80: np.ndarray,
                      hi_80: np.ndarray, **_: object) -> float:
    """Mean interval score of the 80% band, contacts per hour (see `interval_score`)."""
    return interval_score(y, lo_80, hi_80, 80)


def interval_score_95(y: np.ndarray, yhat: np.ndarray, *, lo_95: np.ndarray,
                      hi_95: np.ndarray, **_: object) -> float:
    """Mean interval score of the 95% band, contacts per hour (see `interval_score`)."""
    return interval_score(y, lo_95, hi_95, 95)


METRICS: dict[str, Metric] = {"mase": mase, "wape": wape, "bias": bias,
                              "coverage_80": coverage_80, "coverage_95": coverage_95,
                              "interval_score_80": interval_score_80,
                              "interval_score_95": interval_score_95}


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

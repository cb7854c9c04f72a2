"""Intraday re-forecast: rescale the rest of today from the actuals seen so far.

Method (a credibility-weighted level correction, as planners do by hand):

1. Per queue, sum the morning forecast `F` and the actual volume `A` over the hours of the
   day before `as_of` that have an actual (contacts).
2. The observed ratio `r = A / F` says how far today runs above or below the forecast.
   Early in the day it rests on little volume and on the noisiest part of the daily
   profile, so it is shrunk towards 1 by a credibility weight
   `k = F / (F + half_share * F_day)`, where `F_day` is the morning forecast of the whole
   day: when the hours seen hold `half_share` of the day's forecast volume, the observed
   ratio gets weight 1/2. Measuring the evidence as a share of the day keeps the weight
   free of the queue's size.
3. `factor = clip(1 + k * (r - 1), min_factor, max_factor)`; with nothing forecast so far
   (`F = 0`, e.g. before opening) the factor is 1.
4. Every interval from `as_of` to the end of the day is the morning forecast times
   `factor`.
   The 80% and 95% bands are scaled by the same factor. That is a simplification: having
   seen part of the day removes some uncertainty about its level, so the true band would
   be narrower than the scaled one.

`half_share` was chosen on the bank call-centre data of March to June 2003 only (the
afternoon WAPE of the re-forecast at 10:00 and 12:00, pooled over those weekdays) and
evaluated on July to October; see docs/accuracy.md for the figures. Volumes are contacts
per interval throughout: the morning forecast's own interval (hourly, 30 minutes, ...).
Imports nothing from `staffcast` or `scheduler`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

BAND_COLUMNS = ("yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95")
REFORECAST_COLUMNS = ("unique_id", "ds", "model", "yhat", *BAND_COLUMNS, "yhat_morning",
                      "scale_factor")
_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class IntradayParams:
    """Parameters of the rescaling (see the module docstring).

    half_share: share of the day's forecast volume that, once seen, gives the observed
        ratio weight 1/2 (> 0). Chosen on March-June 2003 of the bank data.
    min_factor, max_factor: the factor is clipped to this range (0 < min <= 1 <= max), so
        one odd morning (a data outage, a burst of spam) cannot zero or triple the rest of
        the day.
    """

    half_share: float = 0.4
    min_factor: float = 0.5
    max_factor: float = 2.0

    def __post_init__(self) -> None:
        if not (isinstance(self.half_share, (int, float)) and math.isfinite(self.half_share)
                and self.half_share > 0):
            raise InputError(f"half_share must be a finite number > 0, got {self.half_share!r}")
        if not 0 < self.min_factor <= 1 <= self.max_factor < math.inf:
            raise InputError("min_factor and max_factor must satisfy 0 < min_factor <= 1 <= "
                             f"max_factor < inf, got {self.min_factor!r} and "
                             f"{self.max_factor!r}")


@dataclass(frozen=True)
class Scale:
    """The rescaling of one queue's day: contacts forecast and seen before `as_of` over the
    hours with an actual, the morning forecast of the whole day, the observed ratio (None
    when nothing was forecast so far), its credibility weight and the factor applied."""

    unique_id: str
    forecast_so_far: float
    actual_so_far: float
    forecast_day: float
    ratio: float | None
    weight: float
    factor: float


def scale_factor(actual_so_far: float, forecast_so_far: float, forecast_day: float,
                 params: IntradayParams = IntradayParams()) -> tuple[float, float]:
    """(credibility weight k, clipped factor) from the contacts seen and forecast so far and
    the forecast of the whole day (all in contacts)."""
    for name, value in (("actual_so_far", actual_so_far), ("forecast_so_far", forecast_so_far),
                        ("forecast_day", forecast_day)):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    if forecast_so_far > forecast_day * (1 + 1e-9) + 1e-9:
        raise InputError(f"forecast_so_far ({forecast_so_far}) cannot exceed forecast_day "
                         f"({forecast_day})")
    if forecast_so_far == 0:
        return 0.0, 1.0
    weight = forecast_so_far / (forecast_so_far + params.half_share * forecast_day)
    raw = 1.0 + weight * (actual_so_far / forecast_so_far - 1.0)
    return weight, float(min(max(raw, params.min_factor), params.max_factor))


@dataclass(frozen=True)
class Reforecast:
    """The re-forecast rows (`REFORECAST_COLUMNS`, contacts per interval, every interval
    from `as_of` to the end of its day) and the `Scale` of each queue."""

    as_of: pd.Timestamp
    frame: pd.DataFrame
    scales: tuple[Scale, ...]


def _step(frame: pd.DataFrame) -> pd.Timedelta:
    """The forecast's interval: the smallest gap between a queue's rows (an hour for one)."""
    gaps = frame.groupby("unique_id", sort=False)["ds"].diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    return pd.Timedelta(gaps.min()) if len(gaps) else _HOUR


def _day_rows(morning: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    missing = [c for c in ("unique_id", "ds", "model", "yhat", *BAND_COLUMNS)
               if c not in morning.columns]
    if missing:
        raise InputError(f"morning forecast: missing column(s) {', '.join(missing)}")
    frame = morning.copy()
    frame["unique_id"] = frame["unique_id"].astype("string")
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame = frame[(frame["ds"] >= day) & (frame["ds"] < day + _DAY)]
    if frame.empty:
        raise InputError(f"morning forecast: no rows on {day:%Y-%m-%d}")
    models = sorted(frame["model"].astype(str).unique())
    if len(models) > 1:
        raise InputError(f"morning forecast: holds several models on {day:%Y-%m-%d} "
                         f"({', '.join(models)}); give one")
    step = _step(frame)
    hours = pd.date_range(day, day + _DAY, freq=step, inclusive="left")
    unit = "hour" if step == _HOUR else f"{step.total_seconds() / 60:g}-minute interval"
    for uid, sub in frame.groupby("unique_id", sort=True):
        if sub["ds"].duplicated().any():
            raise InputError(f"morning forecast: queue {uid!r} repeats an {unit} on "
                             f"{day:%Y-%m-%d}")
        lost = hours.difference(pd.DatetimeIndex(sub["ds"]))
        if len(lost):
            raise InputError(f"morning forecast: queue {uid!r} lacks {len(lost)} {unit}(s) "
                             f"of {day:%Y-%m-%d}, first {lost[0]:%H:%M}; it must cover the "
                             "whole day")
    return frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def reforecast_day(morning: pd.DataFrame, actuals: pd.DataFrame, as_of: pd.Timestamp | str,
                   params: IntradayParams = IntradayParams()) -> Reforecast:
    """Rescale the rest of `as_of`'s day from the actuals before `as_of`.

    morning: the forecast contract rows (one model) covering every interval of the day for
        each queue (hourly, 30 minutes, ...), contacts per interval; rows of other days are
        ignored.
    actuals: `unique_id, ds, y` (contacts per interval, the forecast's interval); only
        intervals of the day before `as_of` are used (the one starting at `as_of` is not
        complete yet).
    as_of: an interval start of the forecast's grid (minute 0 for hourly forecasts).
    Neither frame is modified.
    """
    as_of = pd.Timestamp(as_of)
    day = as_of.normalize()
    rows = _day_rows(morning, day)
    step = _step(rows)
    if as_of != as_of.floor(step):
        what = "an hour start (minute 0)" if step == _HOUR else \
            f"the start of a {step.total_seconds() / 60:g}-minute interval"
        raise InputError(f"as_of must be {what}, got {as_of}")
    missing = [c for c in ("unique_id", "ds", "y") if c not in actuals.columns]
    if missing:
        raise InputError(f"actuals: missing column(s) {', '.join(missing)}")
    seen = pd.DataFrame({"unique_id": actuals["unique_id"].astype("string").to_numpy(),
                         "ds": pd.to_datetime(actuals["ds"]).to_numpy(),
                         "y": pd.to_numeric(actuals["y"], errors="coerce").to_numpy()})
    seen = seen[(seen["ds"] >= day) & (seen["ds"] < as_of)]
    bad = ~(np.isfinite(seen["y"].to_numpy()) & (seen["y"].to_numpy() >= 0))
    if bad.any():
        row = seen[bad].iloc[0]
        raise InputError(f"actuals: y must be a finite number >= 0; queue {row['unique_id']!r} "
                         f"hour {row['ds']} has {row['y']!r}")
    merged = rows.merge(seen, on=["unique_id", "ds"], how="left", validate="one_to_one")
    scales = []
    parts = []
    for uid, sub in merged.groupby("unique_id", sort=True):
        before = sub["ds"] < as_of
        observed = before & sub["y"].notna()
        f_sofar = float(sub.loc[observed, "yhat"].clip(lower=0).sum())
        a_sofar = float(sub.loc[observed, "y"].sum())
        f_day = float(sub["yhat"].clip(lower=0).sum())
        weight, factor = scale_factor(a_sofar, f_sofar, f_day, params)
        scales.append(Scale(str(uid), f_sofar, a_sofar, f_day,
                            a_sofar / f_sofar if f_sofar > 0 else None, weight, factor))
        rest = sub[~before]
        part = pd.DataFrame({"unique_id": rest["unique_id"].to_numpy(),
                             "ds": rest["ds"].to_numpy(), "model": rest["model"].to_numpy(),
                             "yhat": rest["yhat"].to_numpy(dtype=float) * factor})
        for column in BAND_COLUMNS:
            part[column] = rest[column].to_numpy(dtype=float) * factor
        part["yhat_morning"] = rest["yhat"].to_numpy(dtype=float)
        part["scale_factor"] = factor
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["unique_id"] = frame["unique_id"].astype("string")
    frame["model"] = frame["model"].astype("string")
    return Reforecast(as_of, frame[list(REFORECAST_COLUMNS)], tuple(scales))

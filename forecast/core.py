"""`forecast()`: the multi-queue entry point, long frames in and out.

The history frame is split into one contiguous regular array per queue (any interval
that divides the day, one interval per run); each queue gets its calendar features and
day types (`staffcast.forecasting.features`), every requested model is fitted on its arrays and
forecasts the `horizon` hours after that queue's last history interval, at that interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ForecastError, InputError
from .features import WeeklyHours
from .models import ModelParams, make_model

FORECAST_COLUMNS = ("unique_id", "ds", "model", "yhat", "yhat_lo_80", "yhat_hi_80",
                    "yhat_lo_95", "yhat_hi_95")
_OUTPUT_KEYS = {"yhat": "mean", "yhat_lo_80": "lo-80", "yhat_hi_80": "hi-80",
                "yhat_lo_95": "lo-95", "yhat_hi_95": "hi-95"}
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class QueueSettings:
    """Per-queue settings the models use: opening hours (7 weekdays, Monday first, of
    (start_minute, end_minute) ranges; None = always open), the rest day (0 = Monday;
    None = learn the quietest weekday from history) and whether holiday eves are an event
    of their own (`staffcast.forecasting.features.holiday_eves`)."""

    opening_hours: WeeklyHours | None = None
    rest_day: int | None = None
    holiday_eve: bool = False


QueueSettingsSource = Callable[[str], Any] | Mapping[str, Any] | None


def settings_for(queue_settings: QueueSettingsSource, unique_id: str) -> QueueSettings:
    """Settings of one queue from a callable (e.g. `Config.queue`), a mapping (falling back
    to its "default" entry) or None; any object with `opening_hours` and `rest_day`."""
    if queue_settings is None:
        found = None
    elif callable(queue_settings):
        found = queue_settings(unique_id)
    else:
        found = queue_settings.get(unique_id, queue_settings.get("default"))
    if found is None:
        return QueueSettings()
    return QueueSettings(getattr(found, "opening_hours", None), getattr(found, "rest_day", None),
                         bool(getattr(found, "holiday_eve", False)))


def split_queues(history: pd.DataFrame) -> Iterable[tuple[str, pd.DatetimeIndex, np.ndarray]]:
    """(unique_id, regular ds, y) per queue in unique_id order, checking the grid contract:
    every queue on one complete grid of the same interval. Rows keep their order within a
    queue (ds must already be sorted)."""
    missing = [c for c in ("ds", "y") if c not in history.columns]
    if missing:
        raise InputError(f"history: missing column(s) {', '.join(missing)}; "
                         "expected unique_id, ds, y")
    if "unique_id" in history.columns:
        ids = history["unique_id"].astype("string")
    else:
        ids = pd.Series("default", index=history.index, dtype="string")
    # One stable sort by queue and slices of it: a groupby over a thousand year-long
    # queues cost more than a second here, all of it serial before any parallel work.
    codes, names = pd.factorize(ids, sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    all_ds = pd.to_datetime(history["ds"]).to_numpy()[order]
    all_y = pd.to_numeric(history["y"], errors="coerce").to_numpy(dtype=float)[order]
    step = None
    for k, uid in enumerate(names):
        ds, y = all_ds[bounds[k]:bounds[k + 1]], all_y[bounds[k]:bounds[k + 1]]
        gaps = np.diff(ds)
        if len(ds) < 2 or not (gaps == gaps[0]).all() or gaps[0] <= np.timedelta64(0):
            raise InputError(f"history: queue {uid!r} must be a complete regular grid sorted "
                             "by ds (load it with staffcast.forecasting.data.load_history)")
        if step is None:
            step = gaps[0]
        elif gaps[0] != step:
            raise InputError(f"history: queue {uid!r} is at {pd.Timedelta(gaps[0])} intervals "
                             f"but the queues before it at {pd.Timedelta(step)}; one interval "
                             "per run (coarsen with interval_minutes)")
        if not np.isfinite(y).all() or (y < 0).any():
            raise InputError(f"history: queue {uid!r} has a missing, non-numeric or negative y")
        yield str(uid), pd.DatetimeIndex(ds), y


def check_models(models: Iterable[str]) -> tuple[str, ...]:
    """Validate model names early (before any fitting); returns them as a tuple."""
    names = tuple(models)
    if not names:
        raise ForecastError("models: give at least one model name")
    for name in names:
        try:
            make_model(name)
        except ValueError as exc:  # an unknown name: the message lists the valid ones
            raise ForecastError(str(exc)) from None
    return names


FALLBACK_MODEL = "snaive"


class QueueForecastError(ForecastError):
    """A queue's requested model failed and so did its fallback; the message names the
    queue and both reasons."""


@dataclass(frozen=True)
class Fallback:
    """A queue whose `requested_model` failed (`reason`: "ExceptionType: message") and
    was forecast with `used_model` instead; its rows carry `used_model` in `model`."""

    unique_id: str
    requested_model: str
    used_model: str
    reason: str


@dataclass(frozen=True)
class QueueForecast:
    """One queue's forecast rows (the forecast contract) and the fallbacks it needed."""

    unique_id: str
    frame: pd.DataFrame
    fallbacks: tuple[Fallback, ...] = ()


def failure_reason(exc: BaseException) -> str:
    """The exception as one line, "ExceptionType: message"."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def check_horizon(horizon: Any) -> int:
    """The horizon as an int, or an InputError naming the rule and the value."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise InputError(f"horizon must be a whole number of hours >= 1, got {horizon!r}")
    return int(horizon)


def horizon_steps(horizon_hours: int, step: pd.Timedelta) -> int:
    """How many intervals of length `step` the `horizon_hours` hold (336 for 168 hours of
    30-minute data); an InputError when the hours are not a whole number of intervals."""
    steps = pd.Timedelta(hours=horizon_hours) / step
    if steps != int(steps):
        raise InputError(f"horizon: {horizon_hours} hours are not a whole number of "
                         f"{step.total_seconds() / 60:g}-minute intervals")
    return int(steps)


def forecast_queue(unique_id: str, ds: pd.DatetimeIndex, y: np.ndarray, *, horizon: int,
                   models: Iterable[str], calendar=None,
                   settings: QueueSettings = QueueSettings(),
                   fallback: str | None = None,
                   params: ModelParams | None = None) -> QueueForecast:
    """Forecast one queue (regular `ds`, `y` in contacts per interval, as `split_queues`
    gives them) with each of `models` for the `horizon` hours after its last interval, at
    the history's interval.

    Without `fallback` a failing model raises. With it (e.g. `FALLBACK_MODEL`), a model
    whose fit or forecast raises is replaced by `fallback` for this queue: its rows carry
    the fallback's name in `model` and a `Fallback` record says why. A fallback already
    among `models` is not repeated. If the fallback fails too, `QueueForecastError`.
    `params` gives the models' hyperparameters (None: their defaults).
    """
    from .features import span_features

    horizon = check_horizon(horizon)
    step = pd.Timedelta(ds[1] - ds[0]) if len(ds) > 1 else _HOUR
    future = pd.date_range(ds[-1] + step, periods=horizon_steps(horizon, step), freq=step)
    features, _ = span_features(ds.append(future), y, unique_id, calendar=calendar,
                                opening_hours=settings.opening_hours,
                                rest_day=settings.rest_day, holiday_eve=settings.holiday_eve)
    n = len(y)
    predictions: dict[str, Mapping[str, np.ndarray]] = {}
    failed: dict[str, str] = {}
    for name in models:
        try:
            predictions[name] = make_model(name, params=params).forecast(y, features[:n],
                                                                         features[n:])
        except Exception as exc:  # any model error: this queue falls back, others go on
            if fallback is None:
                raise
            failed[name] = failure_reason(exc)
    fallbacks = []
    if failed:
        reasons = "; ".join(f"{m}: {r}" for m, r in failed.items())
        if fallback in failed:
            raise QueueForecastError(f"queue {unique_id!r}: {reasons}")
        if fallback not in predictions:
            try:
                predictions[fallback] = make_model(fallback, params=params).forecast(
                    y, features[:n], features[n:])
            except Exception as exc:
                raise QueueForecastError(
                    f"queue {unique_id!r}: {reasons}; fallback {fallback}: "
                    f"{failure_reason(exc)}") from exc
        fallbacks = [Fallback(unique_id, name, fallback, reason)
                     for name, reason in failed.items()]
    frames = [prediction_frame(unique_id, future, name, prediction)
              for name, prediction in predictions.items()]
    return QueueForecast(unique_id, pd.concat(frames, ignore_index=True), tuple(fallbacks))


def forecast(history: pd.DataFrame, *, horizon: int, models: Iterable[str] = ("auto",),
             calendar=None, queue_settings: QueueSettingsSource = None,
             params: ModelParams | None = None) -> pd.DataFrame:
    """Forecast every queue of `history` (`unique_id, ds, y`; `y` in contacts per
    interval) for the `horizon` hours after its last interval; a failing model raises.

    `calendar` is a `staffcast.forecasting.calendar.Calendar` or None; `queue_settings` gives each
    queue's opening hours and rest day (see `settings_for`); `params` the models'
    hyperparameters (`staffcast.forecasting.models.params.ModelParams`; None: defaults). Returns `unique_id, ds, model,
    yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95` in contacts per interval, one row
    per queue, model and interval of the history; closed hours and closure days are zero.
    When `history` has `aht_s`, an `aht_s` column holds the handle-time forecast
    (`staffcast.forecasting.aht`). Queue by queue in this process; `staffcast.pipeline.forecast_many`
    runs queues in parallel with fallbacks.
    """
    from .aht import add_aht_forecast

    horizon = check_horizon(horizon)
    names = check_models(models)
    frames = [forecast_queue(uid, ds, y, horizon=horizon, models=names, calendar=calendar,
                             settings=settings_for(queue_settings, uid),
                             params=params).frame
              for uid, ds, y in split_queues(history)]
    return add_aht_forecast(history, pd.concat(frames, ignore_index=True), calendar=calendar,
                            queue_settings=queue_settings)


def prediction_frame(unique_id: str, ds: pd.DatetimeIndex, model: str,
                     prediction: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One model's prediction dict as forecast-contract rows."""
    frame = pd.DataFrame({"unique_id": pd.array([unique_id] * len(ds), dtype="string"),
                          "ds": ds.astype("datetime64[ns]"),
                          "model": pd.array([model] * len(ds), dtype="string")})
    for column, key in _OUTPUT_KEYS.items():
        frame[column] = np.asarray(prediction[key], dtype=float)
    return frame

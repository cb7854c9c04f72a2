"""Rolling-origin backtest of several models on every queue, with a long metrics table.

For each queue the last `windows` origins are `step` hours apart and the last window ends
at the end of history (hours are turned into intervals of the history's own length); each model is refitted at every origin on the history before it.
The day-type rule (rest day) is learned from the history before the first origin only,
so nothing from the evaluated weeks leaks into the models.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

import numpy as np
import pandas as pd

from .core import (
    QueueSettings,
    horizon_steps,
    QueueSettingsSource,
    check_models,
    prediction_frame,
    settings_for,
    split_queues,
)
from .errors import InputError
from .features import span_features
from .metrics import METRICS, seasonal_naive_scale
from .models import ModelParams, make_model

METRIC_COLUMNS = ("unique_id", "model", "metric", "value")


class Progress:
    """A one-line progress bar on a text stream (stderr by default), no dependency."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        filled = int(self.width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\rbacktest [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.done}/{self.total} {elapsed:5.0f}s {label:<30.30}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def check_windows(horizon: int, windows: int, step: int | None) -> int:
    """Validate the rolling-origin arguments; returns the step (default: `horizon`)."""
    step = horizon if step is None else step
    for label, value in (("horizon", horizon), ("windows", windows), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"{label} must be a whole number >= 1, got {value!r}")
    return step


def backtest_queue(unique_id: str, ds: pd.DatetimeIndex, y: np.ndarray, *,
                   models: Iterable[str], horizon: int, windows: int, step: int,
                   calendar=None, settings: QueueSettings | None = None,
                   on_model: Callable[[str], None] | None = None,
                   params: ModelParams | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin evaluation of `models` on one queue (hourly `ds`, `y` in contacts
    per hour, as `split_queues` gives them); arguments as in `backtest`, already checked
    (`check_windows`). Returns this queue's (forecasts, metrics). `on_model(label)` is
    told each model as it finishes."""
    settings = settings or QueueSettings()
    interval = pd.Timedelta(ds[1] - ds[0])
    per_hour = pd.Timedelta(hours=1) / interval
    horizon, step = horizon_steps(horizon, interval), horizon_steps(step, interval)
    week = int(168 * per_hour)
    first = len(y) - horizon - (windows - 1) * step
    if first < week + 1:
        raise InputError(f"backtest: queue {unique_id!r} has {len(y) / per_hour:g} hours; "
                         f"{windows} windows of {horizon / per_hour:g} hours "
                         f"{step / per_hour:g} hours apart need at least "
                         f"{(week + 1 + horizon + (windows - 1) * step) / per_hour:g}")
    features, _ = span_features(ds, y[:first], unique_id, calendar=calendar,
                                opening_hours=settings.opening_hours,
                                rest_day=settings.rest_day, holiday_eve=settings.holiday_eve)
    scale = seasonal_naive_scale(y[:first], features.open[:first], features.steps_per_week)
    forecasts, rows = [], []
    for name in models:
        cv = make_model(name, params=params).cross_validation(y, features, h=horizon,
                                                              windows=windows, step=step)
        for window in cv:
            frame = prediction_frame(unique_id, ds[window.cutoff:window.cutoff + horizon], name,
                                     window.prediction)
            frame.insert(2, "cutoff", ds[window.cutoff - 1])
            frame["y"] = window.y_true
            forecasts.append(frame)
        rows.extend(_metrics(unique_id, name, cv, features.open, horizon, scale))
        if on_model is not None:
            on_model(f"{unique_id} {name}")
    return pd.concat(forecasts, ignore_index=True), metrics_frame(rows)


def metrics_frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """The long metrics table `unique_id, model, metric, value` from its rows."""
    metrics = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    metrics["unique_id"] = metrics["unique_id"].astype("string")
    metrics["model"] = metrics["model"].astype("string")
    return metrics


def backtest(history: pd.DataFrame, *, models: Iterable[str], horizon: int, windows: int,
             step: int | None = None, calendar=None, queue_settings: QueueSettingsSource = None,
             progress: bool | TextIO = False, params: ModelParams | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin evaluation of `models` on every queue of `history`.

    `horizon` hours per window, `windows` origins `step` hours apart (default: `horizon`).
    Returns (forecasts, metrics): the forecast-contract columns plus `cutoff` (the last
    history hour of the window) and `y` (actual contacts); and the long table `unique_id,
    model, metric, value` with every metric of `staffcast.forecasting.metrics.METRICS` (pooled over the
    open hours of all windows) plus `fit_seconds` (mean fit + forecast time per window).
    `progress` True draws a bar on stderr (or pass a text stream); `params` gives the
    models' hyperparameters (None: defaults). Queue by queue in this
    process; `staffcast.pipeline.backtest_many` runs queues in parallel.
    """
    names = check_models(models)
    step = check_windows(horizon, windows, step)
    queues = list(split_queues(history))
    bar = None
    if progress:
        bar = Progress(len(queues) * len(names), None if progress is True else progress)
    parts = [backtest_queue(uid, ds, y, models=names, horizon=horizon, windows=windows,
                            step=step, calendar=calendar,
                            settings=settings_for(queue_settings, uid),
                            on_model=None if bar is None else bar.step, params=params)
             for uid, ds, y in queues]
    return (pd.concat([f for f, _ in parts], ignore_index=True),
            pd.concat([m for _, m in parts], ignore_index=True))


def _metrics(uid: str, name: str, cv, open_: np.ndarray, horizon: int,
             scale: float) -> list[tuple[str, str, str, float]]:
    mask = np.concatenate([open_[w.cutoff:w.cutoff + horizon] for w in cv])
    pooled = {key: np.concatenate([w.prediction[key] for w in cv])[mask]
              for key in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")}
    y = np.concatenate([w.y_true for w in cv])[mask]
    out = []
    for metric, func in METRICS.items():
        value = func(y, pooled["mean"], lo_80=pooled["lo-80"], hi_80=pooled["hi-80"],
                     lo_95=pooled["lo-95"], hi_95=pooled["hi-95"], scale=scale)
        out.append((uid, name, metric, value))
    out.append((uid, name, "fit_seconds", float(np.mean([w.fit_seconds for w in cv]))))
    return out

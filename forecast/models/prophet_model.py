"""`prophet`: Prophet with day-type-conditional daily profiles and calendar regressors.

Only open hours are fitted and predicted (closed hours are zero by definition, and fitting
them would teach Prophet a night-time dip it then smears over open hours).
- Daily seasonality is conditional on the day type: one daily Fourier series per day type,
  so a rest day or a holiday has its own intraday shape, not an offset of the weekday's.
- The weekly cycle is the level of each day type (one regressor per day type), i.e.
  weekly seasonality evaluated on the effective weekday, so a holiday takes the rest day's
  level; Prophet's own `weekly_seasonality` would key on the calendar weekday instead.
- The calendar enters as regressors rather than Prophet's `holidays` frame, because the
  frame must be known when the model is built and a fitted model must forecast any future
  span: holiday days plus a one-day window either side (eve and day after), one hour-level
  dummy per promotion event name seen in training, and for windows of 3 days or more a
  linear ramp (the dummy times the days since the window opened).
- A day type absent from training (rare: a rest day that never occurred) borrows the
  most common trained day type.
- `seasonality_mode` "multiplicative" (default) or "additive".
Intervals: empirical quantiles of in-sample errors on the log1p scale (as the baselines),
since Prophet's sampled intervals cost seconds and give a single level per fit.
Prophet and cmdstanpy logs are silenced.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import pandas as pd

from ..features import DAYS_PER_WEEK, Features
from .base import (
    Model,
    Prediction,
    apply_log_ratio,
    log_ratio_quantiles,
    recent_open_window,
)

MIN_RAMP_DAYS = 3  # as in arima: a window must have lasted this long to estimate a ramp


def _silence() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.models", "prophet.forecaster"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
    # cmdstanpy adds its own INFO console handler unless the logger already has one.
    cmdstanpy = logging.getLogger("cmdstanpy")
    if not cmdstanpy.handlers:
        cmdstanpy.addHandler(logging.NullHandler())
    # Prophet logs an error at import when plotly is missing; plots are not used here.
    logging.getLogger("prophet.plot").disabled = True


@contextlib.contextmanager
def _library_warnings_off():
    """Prophet's own deprecation warnings (pandas API it uses) are not the user's business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _quiet_prophet():
    _silence()
    from prophet import Prophet

    return Prophet


def _hours(X: Features) -> pd.DatetimeIndex:
    """Naive timestamps of the feature rows (Prophet needs a `ds` column)."""
    return pd.DatetimeIndex(X.day.astype("datetime64[D]").astype("datetime64[ns]")
                            + (X.slot * X.step_minutes).astype("timedelta64[m]"))


class ProphetModel(Model):
    """Prophet on open hours with conditional daily profiles per day type."""

    name = "prophet"
    uses_events = True

    def __init__(self, seasonality_mode: str = "multiplicative", daily_fourier_order: int = 8,
                 max_weeks: int = 26, n_changepoints: int = 3):
        if seasonality_mode not in ("multiplicative", "additive"):
            raise ValueError("seasonality_mode must be 'multiplicative' or 'additive', "
                             f"got {seasonality_mode!r}")
        self.seasonality_mode = seasonality_mode
        self.daily_fourier_order = daily_fourier_order
        self.max_weeks = max_weeks
        self.n_changepoints = n_changepoints

    def _frame(self, X: Features) -> pd.DataFrame:
        frame = pd.DataFrame({"ds": _hours(X)})
        types = np.where(np.isin(X.day_type, self.day_types_), X.day_type, self.common_type_)
        for t in self.day_types_:
            is_type = types == t
            frame[f"type_{t}"] = is_type
            frame[f"level_{t}"] = is_type.astype(float)
        holiday_days = set(X.day[X.holiday].tolist())
        frame["holiday"] = X.holiday.astype(float)
        frame["holiday_eve"] = np.isin(X.day + 1, list(holiday_days)) & ~X.holiday
        frame["holiday_after"] = np.isin(X.day - 1, list(holiday_days)) & ~X.holiday
        frame[["holiday_eve", "holiday_after"]] = frame[["holiday_eve", "holiday_after"]].astype(float)
        for i, name in zip(self.events_, self.event_names_):
            frame[f"event_{name}"] = X.events[:, i]
            if i in self.ramps_:
                frame[f"ramp_{name}"] = X.events[:, i] * X.event_age[:, i] / DAYS_PER_WEEK
        return frame

    def _fit(self, y: np.ndarray, X: Features) -> None:
        Prophet = _quiet_prophet()
        y, X = recent_open_window(self.name, y, X, self.max_weeks)
        open_ = X.open
        self.day_types_ = sorted(set(X.day_type[open_].tolist()))
        self.common_type_ = int(np.bincount(X.day_type[open_]).argmax())
        active = X.events[open_].any(axis=0) if X.events.shape[1] else np.zeros(0, bool)
        self.events_ = [int(i) for i in np.flatnonzero(active)]
        self.event_names_ = tuple(X.event_names[i] for i in self.events_)
        longest = X.event_age[open_].max(axis=0) if self.events_ else np.zeros(0)
        self.ramps_ = [i for i in self.events_ if longest[i] >= MIN_RAMP_DAYS]
        model = Prophet(growth="linear", n_changepoints=self.n_changepoints,
                        daily_seasonality=False, weekly_seasonality=False,
                        yearly_seasonality=False, seasonality_mode=self.seasonality_mode,
                        uncertainty_samples=0)
        for t in self.day_types_:
            model.add_seasonality(name=f"daily_{t}", period=1,
                                  fourier_order=self.daily_fourier_order,
                                  condition_name=f"type_{t}")
            model.add_regressor(f"level_{t}")
        regressors = ["holiday", "holiday_eve", "holiday_after",
                      *(f"event_{name}" for name in self.event_names_),
                      *(f"ramp_{X.event_names[i]}" for i in self.ramps_)]
        frame = self._frame(X)
        for column in regressors:
            if frame.loc[open_, column].any():
                model.add_regressor(column)
        frame["y"] = y
        train = frame[open_].reset_index(drop=True)
        with _library_warnings_off():
            model.fit(train)
            fitted = np.clip(model.predict(train)["yhat"].to_numpy(), 0.0, None)
        self.quantiles_ = log_ratio_quantiles(train["y"].to_numpy(), fitted)
        self.model_ = model

    def _predict(self, X_future: Features) -> Prediction:
        mean = np.zeros(len(X_future))
        open_ = X_future.open
        if open_.any():
            frame = self._frame(X_future)[open_].reset_index(drop=True)
            with _library_warnings_off():
                mean[open_] = self.model_.predict(frame)["yhat"].to_numpy()
        return apply_log_ratio(np.clip(mean, 0.0, None), self.quantiles_)

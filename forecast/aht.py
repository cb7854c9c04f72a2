"""Handle-time forecast: mean handle seconds per queue and interval.

When history has `aht_s` (the mean handle time of the contacts answered in the interval),
each queue's future `aht_s` is a weighted ridge regression on the recent `max_weeks` weeks:

    aht_s = (a + slot-of-day effect + day type x slot deviation) x promotion factors

fitted in seconds with each interval weighted by the contacts its mean averages over
(`answered`, else `y`), so the fit is the volume-weighted mean handle time: a quiet night
interval with one long contact moves it little, a busy one a lot. The slot effects are
shrunk towards the overall mean and the day-type deviations towards the shared profile,
each by `shrink` contacts' worth of weight (an effect seen in W contacts keeps W / (W +
shrink) of its raw size), so fine intervals with few contacts borrow from their
neighbours' level (`smooth` pulls adjacent slots together). Promotion windows (one column per event name active in the training
window, from the calendar) multiply the promotion-free profile (fitted first) by their own
factor: a festival's price-protection questions take longer than an ordinary order status. Intervals without
answered contacts carry no weight. Forecasts are clipped to [1 s, 24 h].
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .features import DAYS_PER_WEEK, Features

MAX_AHT_S = 86400.0


class HandleTimeModel:
    """Volume-weighted ridge regression of handle seconds (see the module docstring).

    `max_weeks` of most recent history are used; `shrink` is the ridge weight in contacts
    of the slot effects, `day_type_shrink` that of the day-type deviations (weekday effects
    on handle time are usually small, so they need more evidence), `smooth` the weight in
    contacts pulling neighbouring slots' effects together. fit(aht_s, weight, X) returns
    self; predict(X_future) gives seconds per interval.
    """

    def __init__(self, max_weeks: int = 8, shrink: float = 5.0,
                 day_type_shrink: float = 500.0, smooth: float = 200.0):
        if max_weeks < 1 or min(shrink, day_type_shrink, smooth) < 0:
            raise ValueError(f"max_weeks must be >= 1 and shrink, day_type_shrink, smooth "
                             f">= 0, got {max_weeks}, {shrink}, {day_type_shrink}, {smooth}")
        self.max_weeks = max_weeks
        self.shrink = shrink
        self.day_type_shrink = day_type_shrink
        self.smooth = smooth

    def _profile(self, X: Features) -> np.ndarray:
        """Intercept, slot-of-day dummies and day type x slot dummies."""
        per_day = self.steps_per_day_
        design = np.zeros((len(X), 1 + per_day * (1 + DAYS_PER_WEEK)))
        rows = np.arange(len(X))
        design[:, 0] = 1.0
        design[rows, 1 + X.slot] = 1.0
        design[rows, 1 + per_day + X.day_type * per_day + X.slot] = 1.0
        return design

    def _design(self, X: Features) -> np.ndarray:
        """Profile columns plus each promotion's 0/1 window times the promotion-free
        profile, so a promotion multiplies the interval's usual handle time."""
        profile = self._profile(X)
        base = profile @ self.base_beta_
        return np.hstack([profile, X.events[:, self.events_] * base[:, None]])

    def _solve(self, design: np.ndarray, z: np.ndarray, w: np.ndarray) -> np.ndarray:
        per_day = self.steps_per_day_
        penalty = np.full(design.shape[1], self.shrink)
        penalty[0] = 0.0
        penalty[1 + per_day:1 + per_day * (1 + DAYS_PER_WEEK)] = self.day_type_shrink
        # Promotion effects (after the profile) are what the user wants to see: unshrunk.
        penalty[1 + per_day * (1 + DAYS_PER_WEEK):] = 0.0
        gram = design.T @ (design * w[:, None]) + np.diag(penalty + 1e-9)
        # Handle time drifts smoothly through the day: neighbouring slots (cyclic) that both
        # hold contacts are pulled together, so a quiet slot borrows from the slots around
        # it; a closed night does not tie the evening to the morning.
        seen = (design[:, 1:1 + per_day] * w[:, None]).sum(axis=0) > 0
        diff = np.eye(per_day) - np.roll(np.eye(per_day), 1, axis=1)
        diff = diff[seen & np.roll(seen, -1)]
        gram[1:1 + per_day, 1:1 + per_day] += self.smooth * diff.T @ diff
        return np.linalg.solve(gram, design.T @ (w * z))

    def fit(self, aht_s: np.ndarray, weight: np.ndarray, X: Features) -> HandleTimeModel:
        aht_s = np.asarray(aht_s, dtype=float)
        weight = np.asarray(weight, dtype=float)
        if not len(aht_s) == len(weight) == len(X):
            raise ValueError(f"aht: {len(aht_s)} handle times, {len(weight)} weights and "
                             f"{len(X)} feature rows must match")
        start = max(0, len(aht_s) - self.max_weeks * X.steps_per_week)
        aht_s, weight, X = aht_s[start:], weight[start:], X[start:]
        usable = np.isfinite(aht_s) & (aht_s > 0) & np.isfinite(weight) & (weight > 0)
        if not usable.any():
            raise ValueError("aht: history has no interval with answered contacts and a "
                             "handle time")
        self.steps_per_day_ = X.steps_per_day
        active = X.events[usable].any(axis=0) if X.events.shape[1] else np.zeros(0, bool)
        self.events_ = [int(i) for i in np.flatnonzero(active)]
        self.event_names_ = tuple(X.event_names[i] for i in self.events_)
        w, z = weight[usable], aht_s[usable]
        # Pass 1: the usual profile, from intervals outside every promotion (if any remain).
        profile = self._profile(X)[usable]
        quiet = ~X.events[usable][:, self.events_].any(axis=1) if self.events_ else \
            np.ones(len(z), bool)
        if not quiet.any():
            quiet[:] = True
        self.base_beta_ = self._solve(profile[quiet], z[quiet], w[quiet])
        # Pass 2: profile and proportional promotion effects together.
        self.beta_ = self._solve(self._design(X)[usable], z, w)
        return self

    def predict(self, X_future: Features) -> np.ndarray:
        if not hasattr(self, "beta_"):
            raise ValueError("aht: call fit() before predict()")
        if X_future.steps_per_day != self.steps_per_day_:
            raise ValueError(f"aht: fitted at {self.steps_per_day_} intervals a day, asked for "
                             f"{X_future.steps_per_day}")
        return np.clip(self._design(X_future) @ self.beta_, 1.0, MAX_AHT_S)


def aht_weight(history: pd.DataFrame) -> np.ndarray:
    """The contacts each interval's `aht_s` averages over: `answered`, else `y`."""
    column = "answered" if "answered" in history.columns else "y"
    return pd.to_numeric(history[column], errors="coerce").to_numpy(dtype=float)


def add_aht_forecast(history: pd.DataFrame, predicted: pd.DataFrame, *, calendar=None,
                     queue_settings=None, queues: Iterable[str] | None = None) -> pd.DataFrame:
    """`predicted` (forecast rows) with an `aht_s` column forecast from `history`'s `aht_s`
    per queue; `predicted` unchanged (a copy) when history has no `aht_s`. A queue whose
    history has no handle time gets a blank `aht_s` (the config's value staffs it)."""
    from .core import settings_for
    from .features import span_features

    if "aht_s" not in history.columns:
        return predicted.copy()
    out = predicted.copy()
    out["aht_s"] = np.nan
    ids = history["unique_id"].astype("string")
    wanted = set(queues) if queues is not None else None
    for uid, rows in out.groupby(out["unique_id"].astype("string"), sort=True):
        uid = str(uid)
        if wanted is not None and uid not in wanted:
            continue
        sub = history[(ids == uid).to_numpy()]
        if sub.empty or not sub["aht_s"].notna().any():
            continue
        ds = pd.DatetimeIndex(sub["ds"])
        future = pd.DatetimeIndex(rows["ds"].drop_duplicates().sort_values())
        step = ds[1] - ds[0]
        span = pd.date_range(ds[0], future[-1], freq=step)
        settings = settings_for(queue_settings, uid)
        X, _ = span_features(span, sub["y"].to_numpy(dtype=float), uid, calendar=calendar,
                             opening_hours=settings.opening_hours, rest_day=settings.rest_day,
                             holiday_eve=settings.holiday_eve)
        n = len(ds)
        model = HandleTimeModel().fit(sub["aht_s"].to_numpy(dtype=float), aht_weight(sub),
                                      X[:n])
        at = span.get_indexer(future)
        values = pd.Series(model.predict(X[n:])[at - n], index=future)
        out.loc[rows.index, "aht_s"] = values.reindex(pd.DatetimeIndex(rows["ds"])).to_numpy()
    return out

"""`auto`: a per-queue combination chosen by a short rolling-origin backtest.

For each queue, every candidate model forecasts the last `calibration` weeks of history
(one week ahead each, origins one week apart, each fitted only on the history before its
origin). Candidates whose WAPE over the last `windows` of those weeks is within
`tolerance` (relative) of the best one are combined with equal weights (or, as an option,
weights inverse to their WAPE); the others get weight zero. Combining rather than picking
one is deliberate: a few weeks of backtest rank close models by noise, and averaging
models with different errors (a trimmed recent-days average and a regression on up to two
years of profiles) is the most reliable gain in the forecasting literature; equal weights
because three weeks of WAPE are too noisy to weight by (on the tuning windows inverse-WAPE
weights were no better), while the tolerance keeps a clearly worse model out. With too
little history for one backtest window the combination is the equal-weight mean of the
candidates.

Bands: conformal (`staffcast.forecasting.conformal`), from the combination's own errors at the same
`calibration` origins and at up to `special_windows` origins through past promotions (the
members' point forecasts there combined as the forecast of that week would be), per
horizon band on the square-root scale, promotion steps apart. Without a backtest window,
the weighted means of the members' own bounds.

Promotions override the ranking: when the forecast hours contain a promotion that also
occurred in the training history, only models that use the calendar's promotions
(`uses_events`) keep their weight, because a backtest on ordinary weeks says nothing about
how a model that ignores the promotion will fare in it (a seasonal naive that wins the
pre-sale weeks would copy an ordinary day onto Double 11). If no such model made the cut,
the best-ranked one that uses promotions is taken alone.

A level shift overrides the ranking too: when a member detected one (arima's
`level_shift_`), only the members that did keep the weight, because a trimmed mean of
recent same-type days straddles the step and backtest weeks from before it rank nothing
after it.

Candidates by default are `trimavg` and `arima` (chosen on tuning windows of the bank and
example data, confirmed on later windows: docs/forecasting.md); `snaive`, `histavg` and
`prophet` can be added (`AutoModel(candidates=...)`), Prophet at many times the cost.
"""

from __future__ import annotations

import numpy as np

from ..conformal import SPECIAL_WINDOWS, ConformalBands, bands_from_windows, \
    calibration_windows, promotion_origins, promotion_steps, steps_per_day
from ..features import DAYS_PER_WEEK, Features
from .base import KEYS, Model, Prediction
from .params import ModelParams

MIN_TRAIN_WEEKS = 2


class AutoModel(Model):
    """Mean of the candidates within `tolerance` of the best backtest WAPE, with conformal
    bands from the combination's own backtest errors.

    `windows` weekly origins rank the candidates (the most recent ones); `calibration`
    weekly origins (at least `windows`) give the bands. `weighting` "equal" or "inverse"
    (inverse-WAPE weights). `member_params` (`staffcast.forecasting.models.params.ModelParams`) holds
    the candidates' hyperparameters (None: their defaults).
    """

    name = "auto"

    def __init__(self, candidates: tuple[str, ...] = ("trimavg", "arima"),
                 windows: int = 3, tolerance: float = 0.20, weighting: str = "equal",
                 calibration: int = 6, special_windows: int = SPECIAL_WINDOWS,
                 member_params: ModelParams | None = None):
        if windows < 1 or tolerance < 0 or calibration < 1:
            raise ValueError(f"windows, calibration must be >= 1 and tolerance >= 0, got "
                             f"{windows}, {calibration}, {tolerance}")
        if "auto" in candidates or not candidates:
            raise ValueError(f"auto needs non-auto candidates, got {candidates!r}")
        if weighting not in ("equal", "inverse"):
            raise ValueError(f"weighting must be 'equal' or 'inverse', got {weighting!r}")
        self.candidates = tuple(candidates)
        self.windows = windows
        self.tolerance = tolerance
        self.weighting = weighting
        self.calibration = max(calibration, windows)
        self.special_windows = special_windows
        self.member_params = member_params

    def _fit(self, y: np.ndarray, X: Features) -> None:
        from . import make_model

        per_day = steps_per_day(X)
        week = per_day * DAYS_PER_WEEK
        n_windows = calibration_windows(len(y), week, self.calibration, MIN_TRAIN_WEEKS)
        self.wape_ = {}
        cvs = {}
        if n_windows >= 1:
            for name in self.candidates:
                try:
                    cvs[name] = make_model(name, calibrated=False,
                                          params=self.member_params).cross_validation(
                        y, X, h=week, windows=n_windows, step=week)
                except ValueError:
                    # Too little usable history at an early origin (e.g. a queue open on few
                    # days): the candidate is not ranked, the others still are.
                    self.wape_[name] = float("inf")
                    continue
                ranked = cvs[name][-self.windows:]
                error = sum(np.abs(w.y_true - w.prediction["mean"]).sum() for w in ranked)
                volume = sum(w.y_true.sum() for w in ranked)
                self.wape_[name] = float(error / volume) if volume > 0 else float("inf")
        if self.wape_ and np.isfinite(min(self.wape_.values())):
            best = min(self.wape_.values())
            keep = {n: w for n, w in self.wape_.items() if w <= best * (1 + self.tolerance)}
            self.weights_ = _normalise({n: 1.0 if self.weighting == "equal"
                                        else 1.0 / max(w, 1e-9) for n, w in keep.items()})
        else:
            self.weights_ = _normalise({n: 1.0 for n in self.candidates})
        self.members_ = {n: make_model(n, calibrated=False, params=self.member_params).fit(y, X)
                         for n in self.candidates}
        # A level shift overrides the ranking: averages of recent days that straddle the
        # step are stale, and backtest weeks from before it rank nothing after it.
        shifted = [n for n, m in self.members_.items()
                   if getattr(m, "level_shift_", None) is not None]
        if shifted:
            self.weights_ = _normalise({n: 1.0 for n in shifted})
        seen = X.events[X.open].any(axis=0) if X.events.shape[1] else np.zeros(0, bool)
        self.events_seen_ = tuple(n for n, s in zip(X.event_names, seen) if s)
        self.bands_: ConformalBands | None = None
        if all(n in cvs for n in self.weights_):
            # The combination's own out-of-sample errors at the calibration origins, and at
            # origins through past promotions for the promotion steps, each window combined
            # as the forecast would be (the promotion rule included).
            ranked = [n for n in self.candidates if n in cvs]
            origins = promotion_origins(X, week, cvs[ranked[0]][0].cutoff, MIN_TRAIN_WEEKS,
                                        self.special_windows)
            try:
                special = {n: make_model(n, calibrated=False, params=self.member_params)
                           .forecasts_at(y, X, origins, h=week)
                           for n in ranked}
            except ValueError:  # a past promotion too early to fit at: recent weeks only
                special = {n: [] for n in ranked}
            self.bands_ = bands_from_windows(
                cvs[ranked[0]], X, steps_per_day=per_day, means=self._combined(cvs, X, week),
                special_windows=special[ranked[0]],
                special_means=self._combined(special, X, week))

    def _combined(self, windows: dict[str, list], X: Features, week: int) -> list[np.ndarray]:
        """The members' backtest windows combined window by window with the weights the
        forecast of that week would get."""
        out = []
        for i, window in enumerate(next(iter(windows.values()))):
            weights = self.weights_for(X[window.cutoff:window.cutoff + week])
            if not all(n in windows for n in weights):
                weights = self.weights_
            out.append(sum(w * windows[n][i].prediction["mean"] for n, w in weights.items()))
        return out

    def weights_for(self, X_future: Features) -> dict[str, float]:
        """The member weights used for the hours `X_future` (see the promotion rule)."""
        if not hasattr(self, "weights_"):
            raise ValueError(f"{self.name}: call fit() before predict()")
        active = X_future.events[X_future.open].any(axis=0) if X_future.events.shape[1] else []
        promotion = any(a and n in self.events_seen_
                        for n, a in zip(X_future.event_names, active))
        if not promotion:
            return self.weights_
        aware = {n: w for n, w in self.weights_.items() if self.members_[n].uses_events}
        if aware:
            return _normalise(aware)
        ranked = sorted((n for n in self.candidates if self.members_[n].uses_events),
                        key=lambda n: self.wape_.get(n, 0.0))
        return {ranked[0]: 1.0} if ranked else self.weights_

    def _predict(self, X_future: Features) -> Prediction:
        out = {key: np.zeros(len(X_future)) for key in KEYS}
        for name, weight in self.weights_for(X_future).items():
            prediction = self.members_[name].predict(X_future)
            for key in KEYS:
                out[key] += weight * prediction[key]
        if self.bands_ is None:
            return out
        return self.bands_.apply(out["mean"], np.arange(len(X_future)),
                                 special=promotion_steps(X_future))


def _normalise(raw: dict[str, float]) -> dict[str, float]:
    total = sum(raw.values())
    return {n: v / total for n, v in raw.items()}

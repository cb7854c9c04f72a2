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

Promotion steps are calibrated apart: the weeks just before a festival are calm, and a model
misses a promotion by more. The model is also refitted at up to `SPECIAL_WINDOWS` weekly
origins through past promotion windows (`promotion_origins`); the scores of promotion steps
(from those origins and the recent weeks) get their own quantiles when there are at least
`MIN_SCORES` of them, and a promotion step's band is the wider of its horizon band and the
promotion band.
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
SPECIAL_WINDOWS = 8  # weekly origins through past promotions, besides the recent weeks
MIN_WEEKS = 3  # calibration weeks needed to split their scores into level error and noise


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
    `transform` scale; `n_scores` the scores behind each band. `special[level]` (or None)
    is the (q_lo, q_hi) of the scores of promotion steps, calibrated apart from the others
    (`n_special` scores); a promotion step gets the wider of its band's and these.
    """

    transform: str
    edges: tuple[int, ...]
    quantiles: dict[int, np.ndarray]
    n_scores: tuple[int, ...]
    special: dict[int, np.ndarray] | None = None
    n_special: int = 0

    def apply(self, mean: np.ndarray, lead: np.ndarray,
              special: np.ndarray | None = None) -> Prediction:
        """Bands around the point forecast `mean` (contacts per step) at leads `lead`
        (steps after the origin); `special` marks promotion steps."""
        band = np.searchsorted(np.asarray(self.edges, dtype=np.int64), lead, side="right")
        base = _forward(np.asarray(mean, dtype=float), self.transform)
        out = {"mean": np.asarray(mean, dtype=float)}
        for level, q in self.quantiles.items():
            q_lo, q_hi = q[band, 0], q[band, 1]
            if self.special is not None and special is not None:
                q_lo = np.where(special, np.minimum(q_lo, self.special[level][0]), q_lo)
                q_hi = np.where(special, np.maximum(q_hi, self.special[level][1]), q_hi)
            out[f"lo-{level}"] = _backward(base + q_lo, self.transform)
            out[f"hi-{level}"] = _backward(base + q_hi, self.transform)
        return out


def _quantile_pair(scores: np.ndarray, level: int) -> tuple[float, float]:
    """(q_lo, q_hi): the equal-tailed split-conformal quantiles of `scores` for `level`%."""
    tail = (1 - level / 100) / 2
    return -_upper_order_statistic(-scores, 1 - tail), _upper_order_statistic(scores, 1 - tail)


def _week_effects(scores: np.ndarray, week: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each score minus its week's mean score, the weeks' mean scores).

    A week-ahead forecast misses a whole week by one level error (the week was busier or
    calmer than the model thought) plus the step-by-step noise around it, and the two
    come from different causes. With six calibration weeks the pooled scores hold six level
    errors, each tied to its own week's noise; a new week draws a new level error. Every
    level error added to every within-week deviation is the distribution of a new week
    under that independence, which is what the quantiles are taken of."""
    ids, group = np.unique(week, return_inverse=True)
    means = np.bincount(group, scores) / np.bincount(group)
    return scores - means[group], means


def fit_bands(lead: np.ndarray, y: np.ndarray, yhat: np.ndarray, *, steps_per_day: int,
              transform: str = "sqrt", levels: tuple[int, ...] = LEVELS,
              band_days: tuple[int, ...] = BAND_DAYS,
              min_scores: int = MIN_SCORES,
              special: np.ndarray | None = None,
              week: np.ndarray | None = None) -> ConformalBands:
    """Conformal bands from out-of-sample forecasts: `lead` (steps after each forecast's
    origin), actual `y` and forecast `yhat` (contacts per step) of open steps only.

    `special` marks promotion steps: with at least `min_scores` of them they get their own
    quantiles (pooled over leads) and the horizon bands are fitted on the other steps;
    with fewer they are scored with the others. `week` names the calibration week (any
    id) of each score: with at least `MIN_WEEKS` weeks the other steps' scores are split
    into each week's mean (its level error) and the rest, and every level error is
    combined with every rest (`_week_effects`)."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    lead, y, yhat = (np.asarray(a) for a in (lead, y, yhat))
    if len(y) < 2:
        raise ValueError("conformal bands need at least two out-of-sample forecasts, "
                         f"got {len(y)}")
    scores = _forward(y.astype(float), transform) - _forward(yhat.astype(float), transform)
    special_q = None
    n_special = 0
    if special is not None:
        special = np.asarray(special, dtype=bool)
        n_special = int(special.sum())
        if n_special >= min_scores and n_special <= len(scores) - 2:
            special_q = {level: np.array(_quantile_pair(scores[special], level))
                         for level in levels}
            lead, scores = lead[~special], scores[~special]
            week = None if week is None else np.asarray(week)[~special]
        else:
            n_special = 0
    levels_of_weeks = None
    if week is not None and len(np.unique(week)) >= MIN_WEEKS:
        scores, levels_of_weeks = _week_effects(scores, np.asarray(week))
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
        if levels_of_weeks is not None:
            chosen = (chosen[:, None] + levels_of_weeks[None, :]).ravel()
        for level in levels:
            quantiles[level][group] = _quantile_pair(chosen, level)
        for b in group:
            n_scores[b] = len(chosen)
    return ConformalBands(transform, tuple(edges), quantiles, tuple(n_scores), special_q,
                          n_special)


def promotion_steps(X: Features) -> np.ndarray:
    """Steps inside any promotion window of the features."""
    return X.events.any(axis=1) if X.events.shape[1] else np.zeros(len(X), bool)


def promotion_origins(X: Features, week: int, before: int, min_train_weeks: int,
                      wanted: int) -> list[int]:
    """Weekly origins through past promotion windows, for calibrating promotion steps.

    For each run of promotion steps (several events back to back are one run), an origin
    one day before it opens and then every `week` steps while it lasts; kept when it
    leaves `min_train_weeks` weeks of training and its week ends by step `before` (where
    the recent calibration weeks start); the last `wanted` of them, in order."""
    promo = promotion_steps(X)
    if not wanted or not promo.any():
        return []
    edges = np.diff(np.concatenate([[0], promo.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    per_day = week // DAYS_PER_WEEK
    cutoffs = [c for start, end in zip(starts, ends)
               for c in range(start - per_day, end, week)
               if c >= min_train_weeks * week and c + week <= before]
    return cutoffs[-wanted:]


def bands_from_windows(windows, X: Features, *, steps_per_day: int, transform: str = "sqrt",
                       means: list[np.ndarray] | None = None, special_windows=(),
                       special_means: list[np.ndarray] | None = None) -> ConformalBands:
    """Conformal bands from rolling-origin windows (`Model.cross_validation` or
    `forecasts_at`) cut from the history with features `X`: every open step of `windows`
    (the recent weeks) is scored, and the promotion steps of `special_windows` (origins at
    past promotions, `promotion_origins`) join the promotion scores. `means` and
    `special_means` replace the windows' point forecasts (e.g. a combination of several
    models' windows)."""
    promo = promotion_steps(X)
    leads, ys, yhats, specials, weeks = [], [], [], [], []
    for group, group_means, promo_only in ((windows, means, False),
                                           (special_windows, special_means, True)):
        for i, window in enumerate(group):
            h = len(window.y_true)
            span = slice(window.cutoff, window.cutoff + h)
            mask = X.open[span] & (promo[span] if promo_only else True)
            mean = window.prediction["mean"] if group_means is None else group_means[i]
            leads.append(np.arange(h)[mask])
            ys.append(window.y_true[mask])
            yhats.append(np.asarray(mean)[mask])
            specials.append(promo[span][mask])
            weeks.append(np.full(int(mask.sum()), window.cutoff))
    return fit_bands(np.concatenate(leads), np.concatenate(ys), np.concatenate(yhats),
                     steps_per_day=steps_per_day, transform=transform,
                     special=np.concatenate(specials), week=np.concatenate(weeks))


def calibration_windows(n_steps: int, week: int, wanted: int, min_train_weeks: int) -> int:
    """How many weekly origins fit in `n_steps` of history leaving `min_train_weeks` weeks
    of training before the first (0 when none does)."""
    return max(0, min(wanted, n_steps // week - min_train_weeks))


class Conformal(Model):
    """Any model with conformal bands from its own rolling-origin residuals.

    At fit time the wrapped model is refitted at `windows` weekly origins before the end of
    history (each one week ahead), and at up to `special_windows` weekly origins through
    past promotion windows before those (`promotion_origins`), then on the whole history;
    its point forecast is kept and its bands are replaced by the conformal ones
    (`ConformalBands`; promotion steps calibrated on promotion steps). With history too
    short for a single calibration window (less than `min_train_weeks` + 1 weeks) the
    model keeps its own bands.
    """

    def __init__(self, base: Model, windows: int = 6, min_train_weeks: int = 2,
                 transform: str = "sqrt", special_windows: int = SPECIAL_WINDOWS):
        if windows < 1 or special_windows < 0:
            raise ValueError(f"windows must be >= 1 and special_windows >= 0, got {windows}, "
                             f"{special_windows}")
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, "
                             f"got {transform!r}")
        self.base = base
        self.name = base.name
        self.uses_events = base.uses_events
        self.windows = windows
        self.min_train_weeks = min_train_weeks
        self.transform = transform
        self.special_windows = special_windows

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
            special = []
            if cv:
                origins = promotion_origins(X, week, cv[0].cutoff, self.min_train_weeks,
                                            self.special_windows)
                try:
                    special = self.base.forecasts_at(y, X, origins, h=week)
                except ValueError:
                    special = []  # a past promotion too early to fit at: recent weeks only
                self.bands_ = bands_from_windows(cv, X, steps_per_day=per_day,
                                                 transform=self.transform,
                                                 special_windows=special)
        self.base.fit(y, X)

    def _predict(self, X_future: Features) -> Prediction:
        prediction = self.base.predict(X_future)
        if self.bands_ is None:
            return prediction
        return self.bands_.apply(prediction["mean"], np.arange(len(X_future)),
                                 special=promotion_steps(X_future))

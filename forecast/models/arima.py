"""`arima`: dynamic harmonic regression, i.e. a regression with ARMA errors.

Fitted on open hours only (closed hours are zero by definition), on a variance-stabilising
scale: the square root by default (Box-Cox lambda 1/2, suited to counts), or log1p.
Regressors:
- a daily profile per day type: hour-of-day dummies shared by all days plus
  day-type x hour-of-day deviations (the complete Fourier basis of the daily cycle, one per
  day type, so a rest day or holiday has its own shape rather than an offset; together
  they also carry the weekly cycle). The deviations are ridge-shrunk towards the shared
  profile, so a day type with few days in history borrows from the others;
- a linear trend in years;
- one column per promotion event name active in the training window: its 0/1 hour-level
  dummy times the event-free profile (fitted first), so an event multiplies each hour's
  usual level; a midnight final-payment spike is its own hour-level window. Events whose
  windows lasted at least 3 days in history get a second column, the same times the days
  since the window opened: a linear ramp (pre-sale build-up, after-sales decay);
- the first `pulse_hours` of every promotion window get their own shape: one dummy per
  interval since the window opened (00:00 and 00:30 of a final-payment window, the first
  hours after a 20:00 pre-sale launch), learned from past occurrences of the same event
  name. A final-payment rush is not the usual midnight-to-01:00 decline scaled up: it is
  flat or rising while payments go through, which a proportional effect cannot show;
- with the queue option `holiday_eve`, the eve of a holiday is an event whose effect has
  an hour-of-day shape too (24 columns times the event-free profile, ridge-shrunk): the
  eve's own day type, e.g. a normal morning and an evening that empties out.

Fitting is two-stage, which keeps one year of hourly history well under a second: weighted
ridge least squares for the regression, then a small ARMA(p, q) fitted with statsmodels
SARIMAX on the most recent residuals (the open hours taken as one contiguous series). A
seasonal period of 168 in SARIMAX is never used (it does not finish in minutes on one
hourly queue). Forecast = regression + ARMA forecast of the residual; the intervals use
the ARMA forecast variance on the model scale with normal quantiles, transformed back to
contacts per hour (`mean` is the back-transformed median).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.stats import norm

from ..features import DAYS_PER_WEEK, HOLIDAY_EVE, Features
from .base import LEVELS, Model, Prediction, recent_open_window

MIN_RAMP_DAYS = 3  # a window must have lasted this long in history to estimate its ramp
MIN_SIDE_DAYS = 3  # open days needed on each side of a level shift to detect it


class DynamicHarmonicRegression(Model):
    """Day-type daily profiles, trend and proportional promotion effects with ARMA(p, 0, q)
    errors.

    `order` (p, q); `transform` "sqrt" (the default), "log1p" or "none"; `max_weeks` of
    most recent history are used; `halflife_weeks` (None = equal weights) down-weights old
    weeks; `arma_hours` most recent open-hour residuals fit the ARMA; `ridge` shrinks the
    day-type deviations and event effects (in units of hours of data); `trend` adds the
    linear trend; a step in volume of at least `shift_min` (relative) within the last
    `shift_days` days, at least `shift_t` standard errors of the daily mean residual,
    moves the whole forecast to the level after the step (`_recent_level`;
    `shift_days=0` turns it off). A correction by the recent mean residual whatever its
    size (issue 13's first version: 7 days at half weight) won the tuning windows and lost
    the bank's held-out ones, so only a clear step moves the level (docs/forecasting.md).
    """

    name = "arima"
    uses_events = True

    def __init__(self, order: tuple[int, int] = (1, 0), transform: str = "sqrt",
                 max_weeks: int = 104, halflife_weeks: float | None = None,
                 arma_hours: int = 1008, ridge: float = 0.5, trend: bool = True,
                 shift_days: int = 28, shift_t: float = 8.0, shift_min: float = 0.1,
                 pulse_hours: float = 2.0):
        if transform not in ("log1p", "sqrt", "none"):
            raise ValueError(f"transform must be 'log1p', 'sqrt' or 'none', got {transform!r}")
        if max_weeks < 1 or arma_hours < 1 or ridge < 0:
            raise ValueError(f"max_weeks, arma_hours must be >= 1 and ridge >= 0, got "
                             f"{max_weeks}, {arma_hours}, {ridge}")
        self.order = order
        self.transform = transform
        self.max_weeks = max_weeks
        self.halflife_weeks = halflife_weeks
        self.arma_hours = arma_hours
        self.ridge = ridge
        self.trend = trend
        self.shift_days = shift_days
        self.shift_t = shift_t
        self.shift_min = shift_min
        self.pulse_hours = pulse_hours
        self._fixed_arma: np.ndarray | None = None  # set only inside forecasts_at

    def _to_model_scale(self, y: np.ndarray) -> np.ndarray:
        if self.transform == "log1p":
            return np.log1p(y)
        return np.sqrt(y) if self.transform == "sqrt" else y

    def _from_model_scale(self, z: np.ndarray) -> np.ndarray:
        if self.transform == "log1p":
            return np.expm1(z)
        return np.clip(z, 0.0, None) ** 2 if self.transform == "sqrt" else z

    def _profile(self, X: Features) -> sparse.csr_matrix:
        """Shared hour-of-day dummies, day-type x hour-of-day dummies and a linear trend
        (in years, 0 at the end of the training history), as a sparse matrix: two or three
        non-zeros per row, so the normal equations cost milliseconds on two years."""
        per_day = X.steps_per_day
        n = len(X)
        width = per_day + X.steps_per_week + 1
        rows = np.arange(n)
        cols = [X.slot, per_day + X.day_type * per_day + X.slot]
        values = [np.ones(n), np.ones(n)]
        if self.trend:
            cols.append(np.full(n, width - 1))
            values.append((X.day - self.last_day_) / 365.25)
        return sparse.csr_matrix((np.concatenate(values), (np.tile(rows, len(cols)),
                                                           np.concatenate(cols))),
                                 shape=(n, width))

    def _design(self, X: Features) -> sparse.csr_matrix:
        """Profile columns plus event dummies scaled by the event-free profile, so an event
        multiplies the hour's usual level instead of adding one amount to every hour; and
        for events with windows of several days, the same times the window's age in weeks,
        so a pre-sale can ramp up and an after-sales tail die down."""
        profile = self._profile(X)
        base = profile @ self.base_beta_
        ramps = X.event_age[:, self.ramps_] / DAYS_PER_WEEK
        shaped = [self._shaped(X, i, base) for i in self.shaped_]
        return sparse.hstack([profile,
                              sparse.csr_matrix(X.events[:, self.events_] * base[:, None]),
                              sparse.csr_matrix(X.events[:, self.ramps_] * ramps
                                                * base[:, None]),
                              self._pulses(X), *shaped], format="csr")

    @staticmethod
    def _shaped(X: Features, event: int, base: np.ndarray) -> sparse.csr_matrix:
        """The event's 0/1 dummy times the event-free profile, one column per clock hour."""
        rows = np.flatnonzero(X.events[:, event])
        return sparse.csr_matrix((X.events[rows, event] * base[rows], (rows, X.hour[rows])),
                                 shape=(len(X), 24))

    def _pulses(self, X: Features) -> sparse.csr_matrix:
        """One 0/1 column per event and interval since its window opened, for the first
        `pulse_hours` of each window."""
        steps = self.pulse_steps_
        if not steps or not self.events_:
            return sparse.csr_matrix((len(X), 0))
        offset = np.rint(X.event_age[:, self.events_] * X.steps_per_day).astype(np.int64)
        inside = (X.events[:, self.events_] > 0) & (offset < steps)
        rows, event = np.nonzero(inside)
        return sparse.csr_matrix((np.ones(len(rows)), (rows, event * steps + offset[rows, event])),
                                 shape=(len(X), len(self.events_) * steps))

    def _solve(self, design: sparse.csr_matrix, z: np.ndarray,
               weight: np.ndarray) -> np.ndarray:
        """Weighted ridge least squares; the shared hour profile is not shrunk."""
        penalty = np.full(design.shape[1], self.ridge)
        penalty[:self.steps_per_day_] = 1e-8
        penalty[self.steps_per_day_ * (1 + DAYS_PER_WEEK)] = 1e-8  # trend
        weighted = design.multiply(weight[:, None]).tocsr()
        gram = (design.T @ weighted).toarray() + np.diag(penalty)
        return np.linalg.solve(gram, weighted.T @ z)

    def _fit(self, y: np.ndarray, X: Features) -> None:
        y, X = recent_open_window(self.name, y, X, self.max_weeks)
        open_ = X.open
        active = X.events[open_].any(axis=0) if X.events.shape[1] else np.zeros(0, bool)
        self.events_ = [int(i) for i in np.flatnonzero(active)]
        self.event_names_ = tuple(X.event_names[i] for i in self.events_)
        longest = X.event_age[open_].max(axis=0) if self.events_ else np.zeros(0)
        self.ramps_ = [i for i in self.events_ if longest[i] >= MIN_RAMP_DAYS]
        # A holiday eve (the queue option) is a day type of its own: besides its level it
        # gets an hour-of-day shape, ridge-shrunk towards the one factor. Festival days
        # keep one factor: their rush hours are pulses and promotions of their own.
        self.shaped_ = [i for i in self.events_ if X.event_names[i] == HOLIDAY_EVE]
        self.last_day_ = int(X.day[-1])
        self.steps_per_day_ = X.steps_per_day
        self.pulse_steps_ = int(round(self.pulse_hours * 60 / X.step_minutes))
        z = self._to_model_scale(y[open_])
        if self.halflife_weeks is None:
            weight = np.ones(len(z))
        else:
            age_weeks = (X.day[-1] - X.day[open_]) / DAYS_PER_WEEK
            weight = 0.5 ** (age_weeks / self.halflife_weeks)
        # Pass 1: the usual profile, from hours without any promotion (if enough remain).
        profile = self._profile(X)[open_]
        quiet = ~X.events[open_][:, self.events_].any(axis=1) if self.events_ else \
            np.ones(len(z), bool)
        if quiet.sum() < 2 * X.steps_per_day:
            quiet[:] = True
        self.base_beta_ = self._solve(profile[quiet], z[quiet], weight[quiet])
        # Pass 2: profile and proportional event effects together.
        design = self._design(X)[open_]
        self.beta_ = self._solve(design, z, weight)
        fitted = design @ self.beta_
        residual = z - fitted
        # A clear step in volume: profiles fitted on up to two years lag it for months, and
        # ARMA(1, 0) errors forget it within hours. The mean residual after the step is
        # carried over the whole horizon; the ARMA models what is left.
        # Measured on ordinary days only: promotion and holiday days have effects of their
        # own, and a misfit there is not a new level for the days after.
        ordinary = ~X.holiday[open_]
        if self.events_:
            ordinary &= ~X.events[open_][:, self.events_].any(axis=1)
        self.level_ = self._recent_level(residual[ordinary], fitted[ordinary],
                                         X.day[open_][ordinary], int(X.day[-1]))
        if self.level_shift_ is not None:
            residual = residual - np.where(X.day[open_] >= self.level_shift_, self.level_, 0.0)
        recent_steps = self.arma_hours * 60 // X.step_minutes
        self.arma_ = self._fit_arma(residual[-recent_steps:])
        self.residual_sd_ = float(residual.std())

    def _recent_level(self, residual: np.ndarray, fitted: np.ndarray, day: np.ndarray,
                      last_day: int) -> float:
        """The level correction (model scale) after a detected step in volume, else 0.

        `residual`, `fitted` (model scale) and `day` of the open steps of ordinary days.
        The daily mean residuals of the days within the last `shift_days`
        are split in two at every day with at least `MIN_SIDE_DAYS` on each side; the
        split with the largest two-sample t statistic is a level shift when that t is at
        least `shift_t` and the volume after it differs from the volume before by at least
        `shift_min` (relative). Then the mean residual after the step is added to the
        whole forecast and `level_shift_` is the step's first day (days since 1970-01-01).
        """
        self.level_shift_ = None
        if not self.shift_days:
            return 0.0
        recent = day > last_day - self.shift_days
        days, group = np.unique(day[recent], return_inverse=True)
        counts = np.bincount(group)
        means = np.bincount(group, residual[recent]) / counts
        levels = np.bincount(group, fitted[recent]) / counts
        best_t, best = 0.0, None
        for k in range(MIN_SIDE_DAYS, len(days) - MIN_SIDE_DAYS + 1):
            before, after = means[:k], means[k:]
            pooled = (((before - before.mean()) ** 2).sum()
                      + ((after - after.mean()) ** 2).sum()) / (len(days) - 2)
            if pooled <= 0:
                continue
            t = abs(after.mean() - before.mean()) / np.sqrt(
                pooled * (1 / len(before) + 1 / len(after)))
            if t > best_t:
                best_t, best = t, k
        if best is None or best_t < self.shift_t:
            return 0.0
        base = levels[best:].mean()
        old = self._from_model_scale(np.array([base + means[:best].mean()]))[0]
        new = self._from_model_scale(np.array([base + means[best:].mean()]))[0]
        if old <= 0 or abs(new / old - 1) < self.shift_min:
            return 0.0
        self.level_shift_ = int(days[best])
        return float(means[best:].mean())

    def _fit_arma(self, residual: np.ndarray):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        p, q = self.order
        with warnings.catch_warnings():
            # Convergence chatter from short or flat residual series is not the user's concern:
            # a poor ARMA fit only shortens the residual memory, the regression carries the level.
            warnings.simplefilter("ignore")
            model = SARIMAX(residual, order=(p, 0, q), trend="n")
            if self._fixed_arma is not None:
                return model.filter(self._fixed_arma)
            return model.fit(disp=False, maxiter=50)

    def forecasts_at(self, y: np.ndarray, X: Features, cutoffs, *, h: int):
        """As `Model.forecasts_at`, but the ARMA parameters are estimated at the first
        origin only and the later origins re-filter their residuals with them (the
        regression is refitted at every origin). The parameters of an AR(1) on a thousand
        residuals barely move in a few weeks, and the optimiser was most of a refit's cost;
        every origin still uses only history before it."""
        cutoffs = list(cutoffs)
        if not cutoffs:
            return []
        first = super().forecasts_at(y, X, cutoffs[:1], h=h)
        self._fixed_arma = np.asarray(self.arma_.params)
        try:
            return first + super().forecasts_at(y, X, cutoffs[1:], h=h)
        finally:
            self._fixed_arma = None

    def _predict(self, X_future: Features) -> Prediction:
        z = self._design(X_future) @ self.beta_ + self.level_
        variance = np.full(len(X_future), self.residual_sd_ ** 2)
        open_ = np.flatnonzero(X_future.open)
        if len(open_):
            arma = self.arma_.get_forecast(len(open_))
            z[open_] += np.asarray(arma.predicted_mean)
            variance[open_] = np.asarray(arma.var_pred_mean)
        sd = np.sqrt(variance)
        out = {"mean": self._from_model_scale(z)}
        for level in LEVELS:
            width = norm.ppf(0.5 + level / 200) * sd
            out[f"lo-{level}"] = self._from_model_scale(z - width)
            out[f"hi-{level}"] = self._from_model_scale(z + width)
        return out

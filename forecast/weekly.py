"""Long-range forecast for capacity planning: contacts per day and week, months ahead.

The interval models of `forecast.models` forecast a week of hours; a capacity plan needs
half a year. This model works on daily totals, where a year of history holds enough
signal for such a horizon:

    log E[y_day] = trend + weekday + yearly Fourier terms + holiday names
                   + promotion windows (the share of the day's hours each window covers)

fitted per queue as a Poisson GLM (statsmodels; the dispersion is estimated from the
Pearson residuals, so it is a quasi-Poisson fit). Promotions are the calendar's events,
holidays China's statutory days from the built-in calendar (or the file's). A promotion or
holiday in the horizon that the history never saw has no coefficient: its days are
forecast as ordinary days and `unseen_events` names them, never a silent guess.

Hours: each forecast day is spread over its hours with the hour-of-day shape of days of
its kind in the history: days of the same promotion window (the shortest window active
that day, so Double 11 day beats its presale), else holidays, else the same weekday in the
last `shape_weeks` weeks of ordinary days.

Intervals: 80% / 95% bounds from the spread of the in-sample log residuals, of days for the
daily table and of whole weeks for the weekly one (a week's errors are correlated, so its
bounds are not the sum of daily ones). They describe the fit's noise, not the trend's
uncertainty over months.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import Calendar

__all__ = ["LongRangeModel", "LongRangeForecast", "day_kinds"]

MODEL_NAME = "glm_daily"
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}
_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)


def _holiday_group(name: str) -> str:
    """'Labor Day (observed)' -> 'Labor Day'; substitute days off are one group."""
    if name.startswith("Day off"):
        return "Day off"
    return name.split(" (")[0].strip()


def day_kinds(calendar: Calendar, dates: pd.DatetimeIndex, unique_id: str = "") -> pd.DataFrame:
    """How each date counts under China's labour rules: `kind` is 'work' (a working day,
    adjusted weekend workdays included), 'rest' (weekend or substitute day off) or
    'holiday' (a statutory holiday: the built-in calendar's named holidays; the
    holidays package's 'Day off (substituted ...)' days are rest days). Index: the dates."""
    table = calendar.day_table(dates, unique_id)
    names = table["holiday_name"].fillna("").astype(str)
    substitute = names.str.startswith("Day off").to_numpy()
    statutory = table["is_holiday"].to_numpy(dtype=bool) & ~substitute
    weekend = table["weekday"].to_numpy() >= 5
    working = (~weekend & ~table["is_holiday"].to_numpy(dtype=bool)) | \
        table["is_adjusted_workday"].to_numpy(dtype=bool)
    kind = np.where(statutory, "holiday", np.where(working, "work", "rest"))
    return pd.DataFrame({"kind": kind}, index=table.index)


@dataclass(frozen=True)
class LongRangeForecast:
    """A long-range forecast.

    daily: ``unique_id, ds (date), model, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95,
        yhat_hi_95`` in contacts per day.
    weekly: the same columns with ``ds`` the Monday a week starts, contacts per week.
    hourly: ``unique_id, ds, yhat`` plus the bounds, contacts per hour (the daily values
        spread with the hour-of-day shape of the day's kind).
    unseen_events: queue -> promotion or holiday names in the horizon without history.
    """

    daily: pd.DataFrame
    weekly: pd.DataFrame
    hourly: pd.DataFrame
    unseen_events: dict[str, list[str]]


@dataclass
class _QueueFit:
    columns: list[str]
    params: np.ndarray
    origin: pd.Timestamp
    sigma_day: float
    sigma_week: float
    shapes: dict[str, np.ndarray]
    seen: set[str]


class LongRangeModel:
    """Daily quasi-Poisson GLM per queue; see the module docstring.

    calendar: events and holidays (`staffcast.forecasting.calendar.load_calendar`).
    fourier_order: pairs of yearly sine/cosine terms (0: none). Two years of history fix
        two or three pairs; more chase noise.
    shape_weeks: weeks of recent ordinary days the weekday hour shapes are taken from.
    """

    def __init__(self, calendar: Calendar, *, fourier_order: int = 2, shape_weeks: int = 8):
        if fourier_order < 0:
            raise ValueError(f"fourier_order must be >= 0, got {fourier_order!r}")
        if shape_weeks < 1:
            raise ValueError(f"shape_weeks must be >= 1, got {shape_weeks!r}")
        self.calendar = calendar
        self.fourier_order = fourier_order
        self.shape_weeks = shape_weeks

    # ------------------------------------------------------------------ features

    def _day_features(self, days: pd.DatetimeIndex, unique_id: str) -> pd.DataFrame:
        table = self.calendar.day_table(days, unique_id)
        X = pd.DataFrame(index=days)
        for wd in range(1, 7):
            X[f"weekday_{wd}"] = (days.day_of_week == wd).astype(float)
        doy = 2 * np.pi * days.day_of_year.to_numpy() / 365.25
        for k in range(1, self.fourier_order + 1):
            X[f"sin_{k}"] = np.sin(k * doy)
            X[f"cos_{k}"] = np.cos(k * doy)
        names = table["holiday_name"].fillna("").astype(str).map(_holiday_group)
        for group in sorted(set(names) - {""}):
            X[f"holiday:{group}"] = (names == group).to_numpy(dtype=float)
        X["adjusted_workday"] = table["is_adjusted_workday"].to_numpy(dtype=float)
        hours = pd.date_range(days[0], days[-1] + _DAY - _HOUR, freq="h")
        promo = self.calendar.promotion_hours(hours, unique_id)
        if promo.shape[1]:
            daily = promo.groupby(promo.index.normalize()).mean().reindex(days, fill_value=0.0)
            for name in daily.columns:
                X[f"promotion:{name}"] = daily[name].to_numpy()
            X = X.join(self._window_ramps(days, unique_id))
        return X

    def _window_ramps(self, days: pd.DatetimeIndex, unique_id: str) -> pd.DataFrame:
        """`ramp:<name>` per promotion longer than a week: how far into its window each
        day lies (0 at the start, 1 at the end); festivals' presales build up to the day."""
        ev = self.calendar.events
        ev = ev[(ev["kind"] == "promotion").to_numpy(dtype=bool)
                & (ev["unique_id"].isna() | (ev["unique_id"] == unique_id)).to_numpy(dtype=bool)]
        mid = (days + _DAY / 2).to_numpy()
        cols: dict[str, np.ndarray] = {}
        for row in ev.itertuples(index=False):
            length = row.end_excl - row.start
            if length <= pd.Timedelta(days=7):
                continue
            start, end = np.datetime64(row.start, "ns"), np.datetime64(row.end_excl, "ns")
            inside = (mid >= start) & (mid < end)
            pos = (mid - start) / np.timedelta64(length)
            col = cols.setdefault(f"ramp:{row.event}", np.zeros(len(days)))
            col[inside] = pos[inside]
        return pd.DataFrame(cols, index=days)

    def _day_class(self, days: pd.DatetimeIndex, unique_id: str) -> np.ndarray:
        """The shape class of each day: 'promotion:<name>' (shortest active window),
        'holiday', or 'weekday_<0-6>'."""
        ev = self.calendar.events
        ev = ev[(ev["kind"] == "promotion").to_numpy(dtype=bool)
                & (ev["unique_id"].isna() | (ev["unique_id"] == unique_id)).to_numpy(dtype=bool)]
        cls = np.array([f"weekday_{d}" for d in days.day_of_week], dtype=object)
        table = self.calendar.day_table(days, unique_id)
        cls[table["is_holiday"].to_numpy(dtype=bool)] = "holiday"
        lo = days.to_numpy()
        hi = (days + _DAY).to_numpy()
        best = np.full(len(days), np.inf)
        for row in ev.itertuples(index=False):
            length = (row.end_excl - row.start) / _HOUR
            # A window that covers a day for a few hours (a final-payment rush at midnight)
            # does not set the day's shape; its hours count within the day's own window.
            hit = (lo < np.datetime64(row.end_excl, "ns")) & (hi > np.datetime64(row.start, "ns"))
            hit &= length >= 24
            better = hit & (length < best)
            cls[better] = f"promotion:{row.event}"
            best[better] = length
        return cls

    def _closed_days(self, days: pd.DatetimeIndex, unique_id: str) -> np.ndarray:
        """True for days a closure event covers in full."""
        hours = pd.date_range(days[0], days[-1] + _DAY - _HOUR, freq="h")
        closed = pd.Series(self.calendar.closed_hours(hours, unique_id), index=hours)
        return closed.groupby(hours.normalize()).all().reindex(days, fill_value=False
                                                                ).to_numpy(dtype=bool)

    # ------------------------------------------------------------------ verbs

    def fit(self, history: pd.DataFrame) -> LongRangeModel:
        """Fit every queue of `history` (``unique_id, ds, y``, contacts per hour; whole days
        are used, a partial first or last day is dropped). Returns self."""
        import statsmodels.api as sm

        fits: dict[str, _QueueFit] = {}
        for uid, frame in history.groupby("unique_id", sort=True, observed=True):
            uid = str(uid)
            series = frame.set_index("ds")["y"].astype(float)
            counts = series.groupby(series.index.normalize()).agg(["sum", "count"])
            counts = counts[counts["count"] == 24]
            if len(counts) < 56:
                raise ValueError(f"history of queue {uid!r}: the long-range forecast needs at "
                                 f"least 56 whole days, got {len(counts)}")
            days = pd.DatetimeIndex(counts.index)
            y = counts["sum"].to_numpy()
            closed = self._closed_days(days, uid)
            X = self._day_features(days, uid)
            origin = days[0]
            X.insert(0, "trend", (days - origin).days.to_numpy() / 365.25)
            X.insert(0, "const", 1.0)
            keep = ~closed
            Xf = X[keep]
            varying = [c for c in Xf.columns if c == "const" or Xf[c].std() > 0]
            Xf = Xf[varying]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = sm.GLM(y[keep], Xf.to_numpy(), family=sm.families.Poisson()
                                ).fit(scale="X2")
            mu = result.predict(Xf.to_numpy())
            resid = np.log1p(y[keep]) - np.log1p(mu)
            weeks = days[keep].to_period("W-SUN")
            wk = pd.DataFrame({"y": y[keep], "mu": mu}).groupby(np.asarray(weeks)).sum()
            wk = wk[wk["mu"] > 0]
            sigma_week = float(np.std(np.log1p(wk["y"]) - np.log1p(wk["mu"]), ddof=1)) \
                if len(wk) > 2 else float(np.std(resid))
            fits[uid] = _QueueFit(
                columns=varying, params=np.asarray(result.params), origin=origin,
                sigma_day=float(np.std(resid, ddof=1)), sigma_week=sigma_week,
                shapes=self._shapes(series, uid),
                seen={c for c in varying if ":" in c})
        if not fits:
            raise ValueError("history has no queues")
        self.fits_ = fits
        return self

    def _shapes(self, series: pd.Series, uid: str) -> dict[str, np.ndarray]:
        """Hour-of-day shares (24, summing to 1) per day class seen in the history."""
        table = series.to_frame("y")
        table["day"] = table.index.normalize()
        table["hour"] = table.index.hour
        grid = table.pivot_table(index="day", columns="hour", values="y", aggfunc="sum")
        grid = grid.reindex(columns=range(24)).dropna()
        grid = grid[grid.sum(axis=1) > 0]
        days = pd.DatetimeIndex(grid.index)
        cls = self._day_class(days, uid)
        shapes: dict[str, np.ndarray] = {}
        recent = days >= days[-1] - pd.Timedelta(weeks=self.shape_weeks)
        for name in set(cls):
            mask = cls == name
            if name.startswith("weekday_"):
                pick = mask & recent
                mask = pick if pick.any() else mask
            rows = grid.to_numpy()[mask]
            shares = (rows / rows.sum(axis=1, keepdims=True)).mean(axis=0)
            shapes[name] = shares / shares.sum()
        return shapes

    def predict(self, start: pd.Timestamp, weeks: int) -> LongRangeForecast:
        """Forecast `weeks` whole weeks from `start` (a Monday) for every fitted queue."""
        if not hasattr(self, "fits_"):
            raise ValueError("LongRangeModel.predict called before fit")
        start = pd.Timestamp(start).normalize()
        if start.day_of_week != 0:
            raise ValueError(f"start must be a Monday, got {start:%Y-%m-%d} ({start:%A})")
        if weeks < 1:
            raise ValueError(f"weeks must be >= 1, got {weeks!r}")
        days = pd.date_range(start, periods=7 * weeks, freq="D")
        daily, hourly, weekly, unseen = [], [], [], {}
        for uid, fit in self.fits_.items():
            X = self._day_features(days, uid)
            X.insert(0, "trend", (days - fit.origin).days.to_numpy() / 365.25)
            X.insert(0, "const", 1.0)
            active = {c for c in X.columns if ":" in c and X[c].abs().sum() > 0}
            missing = sorted(c.split(":", 1)[1] for c in active - fit.seen)
            if missing:
                unseen[uid] = missing
            Xp = X.reindex(columns=fit.columns, fill_value=0.0).to_numpy()
            mu = np.exp(Xp @ fit.params)
            closed = self._closed_days(days, uid)
            mu[closed] = 0.0
            day_frame = _with_bounds(uid, days, mu, fit.sigma_day)
            daily.append(day_frame)
            wk = day_frame.groupby(np.arange(len(days)) // 7)["yhat"].sum().to_numpy()
            weekly.append(_with_bounds(uid, pd.DatetimeIndex(days[::7]), wk, fit.sigma_week))
            cls = self._day_class(days, uid)
            fallback = {f"weekday_{d}": fit.shapes.get(f"weekday_{d}") for d in range(7)}
            shares = np.vstack([fit.shapes.get(c) if c in fit.shapes
                                else fallback[f"weekday_{days[i].day_of_week}"]
                                for i, c in enumerate(cls)])
            hours = pd.date_range(start, periods=len(days) * 24, freq="h")
            frame = pd.DataFrame({"unique_id": uid, "ds": hours})
            for col in ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
                frame[col] = (day_frame[col].to_numpy()[:, None] * shares).ravel()
            hourly.append(frame)
        out = [pd.concat(parts, ignore_index=True) for parts in (daily, weekly, hourly)]
        for frame in out:
            frame["unique_id"] = frame["unique_id"].astype("string")
        return LongRangeForecast(daily=out[0], weekly=out[1], hourly=out[2],
                                 unseen_events=unseen)

    def forecast(self, history: pd.DataFrame, start: pd.Timestamp,
                 weeks: int) -> LongRangeForecast:
        """fit then predict."""
        return self.fit(history).predict(start, weeks)


def _with_bounds(uid: str, ds: Sequence, mean: np.ndarray, sigma: float) -> pd.DataFrame:
    frame = pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(ds), "model": MODEL_NAME,
                          "yhat": mean})
    for level, z in _Z.items():
        frame[f"yhat_lo_{level}"] = mean * np.exp(-z * sigma)
        frame[f"yhat_hi_{level}"] = mean * np.exp(z * sigma)
    return frame


def handle_time_profile(history: pd.DataFrame, before: pd.Timestamp,
                        weeks: int = 8) -> dict[str, dict[int, float]]:
    """The handle-time forecast: per queue, the contact-weighted mean `aht_s` (seconds) of
    each hour of day over the last `weeks` weeks before `before`. Handle time drifts slowly
    next to volume, so it is held flat over the horizon. An hour without contacts in the
    window takes the queue's overall weighted mean. `history` has ``unique_id, ds, y,
    aht_s`` (aht_s may be blank where y is 0)."""
    lo = pd.Timestamp(before) - pd.Timedelta(weeks=weeks)
    window = history[(history["ds"] >= lo) & (history["ds"] < pd.Timestamp(before))]
    window = window[(window["y"] > 0) & window["aht_s"].notna()]
    out: dict[str, dict[int, float]] = {}
    for uid, group in window.groupby("unique_id", observed=True):
        work = group["y"] * group["aht_s"]
        overall = float(work.sum() / group["y"].sum())
        by_hour = (work.groupby(group["ds"].dt.hour).sum()
                   / group["y"].groupby(group["ds"].dt.hour).sum())
        out[str(uid)] = {h: float(by_hour.get(h, overall)) for h in range(24)}
    return out

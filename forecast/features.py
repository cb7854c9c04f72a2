"""Calendar and opening hours -> per-interval model features for one queue.

The key idea is the *day type*: every date is mapped to the weekday it behaves like.
A holiday behaves like the queue's rest day (its quietest weekday, learned from history,
or set in config), an adjusted workday (a weekend day declared a working day) behaves like
a typical working weekday, and any other date is its own weekday. A holiday seen for the
first time has no history of its own, but its day type does, so every model looks up
"same hour of the same day type" instead of "same hour of the same weekday".
Closure days and closed hours are not forecast at all: they are zero.

All arrays are per interval and aligned with one contiguous regular span (`ds`) of any
interval that divides the day (5, 15, 30, 60 minutes, ...): `Features.steps_per_day` and
`steps_per_week` replace the 24 and 168 of hourly data in every model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import data
from .errors import ForecastError

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
HOURS_PER_WEEK = HOURS_PER_DAY * DAYS_PER_WEEK
MINUTES_PER_DAY = 1440
WORKING_WEEK = (0, 1, 2, 3, 4)  # Monday..Friday: the official working week of calendars
# with adjusted workdays (China and others), used to pick the day an adjusted workday copies

WeeklyHours = data.WeeklyHours


@dataclass(frozen=True)
class DayTypeRule:
    """How dates map to day types for one queue.

    `rest_day` (0 = Monday) is what holidays look like; `workday_as` is the weekday an
    adjusted workday looks like; `rest_day_learned` says whether history chose it.
    """

    rest_day: int
    workday_as: int
    rest_day_learned: bool


@dataclass(frozen=True)
class Features:
    """Per-interval features over one contiguous regular span.

    `hour` 0..23 (the clock hour), `day` whole days since 1970-01-01 (groups intervals
    into dates), `day_type` the effective weekday 0..6, `open` False on closed intervals
    and closure days, `events` an (intervals, events) 0/1 matrix of promotion windows named
    by `event_names`, `event_age` the same shape: days since the current window of that
    event opened (0 outside it); `slot` the interval of the day, 0..steps_per_day - 1, and
    `step_minutes` the interval length.
    """

    hour: np.ndarray
    day: np.ndarray
    day_type: np.ndarray
    open: np.ndarray
    holiday: np.ndarray
    events: np.ndarray
    event_names: tuple[str, ...]
    event_age: np.ndarray
    slot: np.ndarray | None = None
    step_minutes: int = 60

    def __post_init__(self) -> None:
        if self.slot is None:  # hourly features built without slots: the slot is the hour
            object.__setattr__(self, "slot", self.hour)

    @property
    def steps_per_day(self) -> int:
        """Intervals per day (24 for hourly data, 48 for 30 minutes)."""
        return MINUTES_PER_DAY // self.step_minutes

    @property
    def steps_per_week(self) -> int:
        """Intervals per week (168 for hourly data)."""
        return DAYS_PER_WEEK * self.steps_per_day

    def __len__(self) -> int:
        return len(self.hour)

    def __getitem__(self, item: slice) -> Features:
        if not isinstance(item, slice):
            raise TypeError("Features can only be sliced by a range of intervals")
        return Features(self.hour[item], self.day[item], self.day_type[item], self.open[item],
                        self.holiday[item], self.events[item], self.event_names,
                        self.event_age[item], self.slot[item], self.step_minutes)


def open_hours_mask(ds: pd.DatetimeIndex, opening_hours: WeeklyHours | None,
                    step_minutes: int = 60) -> np.ndarray:
    """True for intervals `[ds, ds + step)` that overlap an opening range of their weekday.

    `opening_hours=None` means open around the clock.
    """
    if opening_hours is None:
        return np.ones(len(ds), dtype=bool)
    return data.open_hours_mask(ds, tuple(opening_hours), step_minutes)


def plain_day_table(dates: pd.DatetimeIndex) -> pd.DataFrame:
    """A day table without any calendar: every date is its own weekday."""
    dates = pd.DatetimeIndex(dates).normalize()
    false = np.zeros(len(dates), dtype=bool)
    return pd.DataFrame({"weekday": dates.day_of_week.to_numpy(), "is_holiday": false,
                         "is_adjusted_workday": false, "is_closure": false,
                         "holiday_name": pd.Series([""] * len(dates), dtype="string").to_numpy()},
                        index=dates)


def learn_day_type_rule(daily_total: np.ndarray, weekday: np.ndarray, normal: np.ndarray,
                        rest_day: int | None = None) -> DayTypeRule:
    """Learn the rest day and the weekday adjusted workdays copy, from daily totals.

    `daily_total`, `weekday` and `normal` are per date; only `normal` dates (no holiday,
    closure or adjusted workday, fully observed) count. The rest day is the weekday with the
    lowest mean daily volume (ties: the later weekday), unless `rest_day` is given. An
    adjusted workday copies the Monday-to-Friday weekday (other than the rest day) whose mean
    volume is the median of those weekdays: the most typical working day, so that neither
    a Monday backlog nor a Friday slowdown is copied onto it.
    """
    means = np.full(DAYS_PER_WEEK, np.nan)
    for d in range(DAYS_PER_WEEK):
        sel = normal & (weekday == d)
        if sel.any():
            means[d] = daily_total[sel].mean()
    learned = rest_day is None
    if learned:
        if np.isnan(means).all():
            raise ForecastError("history too short: not one complete normal day (fully "
                                "observed, not a holiday, closure or adjusted workday) to "
                                "learn the rest day from; give a full week or more of "
                                "history, or set rest_day in the queue config")
        rest_day = int(DAYS_PER_WEEK - 1 - np.nanargmin(means[::-1]))
    working = [d for d in WORKING_WEEK if d != rest_day and not np.isnan(means[d])]
    if working:
        order = sorted(working, key=lambda d: (means[d], d))
        workday_as = order[(len(order) - 1) // 2]
    else:
        workday_as = next(d for d in WORKING_WEEK if d != rest_day)
    return DayTypeRule(rest_day=int(rest_day), workday_as=int(workday_as),
                       rest_day_learned=learned)


def day_types(day_table: pd.DataFrame, rule: DayTypeRule) -> np.ndarray:
    """Effective weekday of each row of a day table (closures keep their weekday; they are
    masked as closed separately)."""
    types = day_table["weekday"].to_numpy(dtype=np.int64).copy()
    types[day_table["is_adjusted_workday"].to_numpy(dtype=bool)] = rule.workday_as
    # A holiday that is also declared a workday cannot happen; holiday wins if data says both.
    types[day_table["is_holiday"].to_numpy(dtype=bool)] = rule.rest_day
    return types


def window_age(events: np.ndarray, steps_per_day: int = HOURS_PER_DAY) -> np.ndarray:
    """Days since each interval's event window opened (0 outside windows), per event column.

    A window is a run of consecutive active intervals; one still open at the start of the
    span counts from the span's first interval.
    """
    active = events > 0
    opened = active & ~np.vstack([np.zeros((1, events.shape[1]), bool), active[:-1]])
    index = np.arange(len(events))[:, None]
    start = np.maximum.accumulate(np.where(opened, index, 0), axis=0)
    return np.where(active, (index - start) / steps_per_day, 0.0)


def build_features(ds: pd.DatetimeIndex, day_table: pd.DataFrame, rule: DayTypeRule, *,
                   opening_hours: WeeklyHours | None = None,
                   promotions: pd.DataFrame | None = None,
                   closed: np.ndarray | None = None) -> Features:
    """Features for the regular span `ds` from a day table (index = normalized dates covering
    `ds`, columns weekday / is_holiday / is_adjusted_workday / is_closure), optional
    promotion windows (index `ds`, one 0/1 column per event name) and optional extra
    closed intervals (bool per interval, e.g. a closure of part of a day)."""
    ds = pd.DatetimeIndex(ds)
    step_minutes = int(data.step_of(ds) / pd.Timedelta(minutes=1))
    dates = ds.normalize()
    missing = dates.unique().difference(day_table.index)
    if len(missing):
        raise ForecastError(f"day table lacks {len(missing)} date(s), first {missing[0].date()}")
    rows = day_table.index.get_indexer(dates)
    types = day_types(day_table, rule)[rows]
    closure = day_table["is_closure"].to_numpy(dtype=bool)[rows]
    holiday = day_table["is_holiday"].to_numpy(dtype=bool)[rows]
    if promotions is None or promotions.shape[1] == 0:
        events = np.zeros((len(ds), 0))
        names: tuple[str, ...] = ()
    else:
        events = promotions.reindex(ds).fillna(0.0).to_numpy(dtype=float)
        names = tuple(str(c) for c in promotions.columns)
    extra_closed = np.zeros(len(ds), bool) if closed is None else np.asarray(closed, bool)
    day = (dates.to_numpy().astype("datetime64[D]").astype(np.int64))
    minute = (ds.hour * 60 + ds.minute).to_numpy().astype(np.int64)
    return Features(hour=ds.hour.to_numpy().astype(np.int64), day=day,
                    day_type=types.astype(np.int64),
                    open=open_hours_mask(ds, opening_hours, step_minutes) & ~closure
                    & ~extra_closed,
                    holiday=holiday, events=events, event_names=names,
                    event_age=window_age(events, MINUTES_PER_DAY // step_minutes),
                    slot=minute // step_minutes, step_minutes=step_minutes)


def mark_silent_days(y: np.ndarray, X: Features) -> Features:
    """Treat open days without a single contact as unrecorded closures (or outages).

    A day with open hours but zero contacts in all of them, whose day type has contacts on
    most (> half) of its other open days, is marked closed, so no model learns from it or
    copies it. A day type that is usually empty (a queue closed on Sundays without opening
    hours in its config) keeps its zeros and is forecast as zero.
    """
    rows = X.day - X.day[0]
    n_days = int(rows[-1]) + 1
    total = np.zeros(n_days)
    np.add.at(total, rows, np.where(X.open, y, 0.0))
    has_open = np.zeros(n_days, dtype=bool)
    np.logical_or.at(has_open, rows, X.open)
    types = np.zeros(n_days, dtype=np.int64)
    types[rows] = X.day_type
    silent = has_open & (total == 0)
    if not silent.any():
        return X
    busy_share = np.zeros(DAYS_PER_WEEK)
    for t in range(DAYS_PER_WEEK):
        days = has_open & (types == t)
        if days.any():
            busy_share[t] = np.mean(total[days] > 0)
    closed = silent & (busy_share[types] > 0.5)
    if not closed.any():
        return X
    return dataclasses.replace(X, open=X.open & ~closed[rows])


def span_features(span: pd.DatetimeIndex, y: np.ndarray, unique_id: str, *, calendar=None,
                  opening_hours: WeeklyHours | None = None,
                  rest_day: int | None = None,
                  holiday_eve: bool = False) -> tuple[Features, DayTypeRule]:
    """Features of one queue over the regular `span`, whose first `len(y)` intervals are
    the history the day-type rule is learned from (contacts per interval).

    `calendar` is a `staffcast.forecasting.calendar.Calendar` or None (no holidays, closures or
    promotions); `rest_day` (0 = Monday) overrides the learned rest day. `holiday_eve`
    adds an event column `holiday_eve` (see `holiday_eves`).
    """
    span = pd.DatetimeIndex(span)
    dates = pd.DatetimeIndex(span.normalize().unique())
    if calendar is None:
        table, promotions, closed = plain_day_table(dates), None, None
    else:
        table = calendar.day_table(dates, unique_id)
        promotions = calendar.promotion_hours(span, unique_id)
        closed = calendar.closed_hours(span, unique_id)
        if holiday_eve:
            promotions[HOLIDAY_EVE] = holiday_eves(span, table, calendar, unique_id)
    rule = learn_rule_from_history(span[:len(y)], y, table, rest_day, promotions)
    features = build_features(span, table, rule, opening_hours=opening_hours,
                              promotions=promotions, closed=closed)
    return features, rule


HOLIDAY_EVE = "holiday_eve"


def holiday_eves(span: pd.DatetimeIndex, table: pd.DataFrame, calendar, unique_id: str
                 ) -> np.ndarray:
    """0/1 per interval: is its date the eve of a holiday (the day before one, itself
    neither a holiday nor a closure)? The queue option `holiday_eve` makes it an event of
    its own, so the models learn how eves differ (the last orders before a break, an
    early-evening drop) from every past eve, with its own intraday shape, instead of
    forecasting an eve as its plain weekday."""
    dates = span.normalize()
    days = pd.DatetimeIndex(dates.unique())
    following = calendar.day_table(days + pd.Timedelta(days=1), unique_id)["is_holiday"]
    eve = following.to_numpy(dtype=bool) & ~table.loc[days, "is_holiday"].to_numpy(bool) \
        & ~table.loc[days, "is_closure"].to_numpy(bool)
    return eve[days.get_indexer(dates)].astype(float)


def learn_rule_from_history(history_ds: pd.DatetimeIndex, y: np.ndarray, table: pd.DataFrame,
                            rest_day: int | None, promotions: pd.DataFrame | None = None) -> DayTypeRule:
    """The day-type rule from history: daily totals of complete, ordinary dates."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float)}, index=history_ds)
    if promotions is not None and promotions.shape[1]:
        promo_day = promotions.reindex(history_ds).fillna(0.0).to_numpy().any(axis=1)
        frame = frame[~promo_day]
    grouped = frame["y"].groupby(frame.index.normalize())
    totals, counts = grouped.sum(), grouped.count()
    per_day = MINUTES_PER_DAY // int(data.step_of(history_ds) / pd.Timedelta(minutes=1))
    complete = counts.index[counts.to_numpy() == per_day]
    table = table.loc[table.index.intersection(complete)]
    normal = ~(table["is_holiday"].to_numpy(dtype=bool)
               | table["is_adjusted_workday"].to_numpy(dtype=bool)
               | table["is_closure"].to_numpy(dtype=bool))
    return learn_day_type_rule(totals.reindex(table.index).to_numpy(),
                               table["weekday"].to_numpy(dtype=np.int64), normal, rest_day)

"""Calendar and opening hours -> per-hour model features for one queue.

The key idea is the *day type*: every date is mapped to the weekday it behaves like.
A holiday behaves like the queue's rest day (its quietest weekday, learned from history,
or set in config), an adjusted workday (a weekend day declared a working day) behaves like
a typical working weekday, and any other date is its own weekday. A holiday seen for the
first time has no history of its own, but its day type does, so every model looks up
"same hour of the same day type" instead of "same hour of the same weekday".
Closure days and closed hours are not forecast at all: they are zero.

All arrays are hourly and aligned with one contiguous hourly span (`ds`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast import data
from forecast.errors import ForecastError

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
HOURS_PER_WEEK = HOURS_PER_DAY * DAYS_PER_WEEK
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
    """Per-hour features over one contiguous hourly span.

    `hour` 0..23, `day` whole days since 1970-01-01 (groups hours into dates), `day_type`
    the effective weekday 0..6, `open` False on closed hours and closure days, `events` a
    (hours, events) 0/1 matrix of promotion windows named by `event_names`, `event_age`
    the same shape: days since the current window of that event opened (0 outside it).
    """

    hour: np.ndarray
    day: np.ndarray
    day_type: np.ndarray
    open: np.ndarray
    holiday: np.ndarray
    events: np.ndarray
    event_names: tuple[str, ...]
    event_age: np.ndarray

    def __len__(self) -> int:
        return len(self.hour)

    def __getitem__(self, item: slice) -> Features:
        if not isinstance(item, slice):
            raise TypeError("Features can only be sliced by a range of hours")
        return Features(self.hour[item], self.day[item], self.day_type[item], self.open[item],
                        self.holiday[item], self.events[item], self.event_names,
                        self.event_age[item])


def open_hours_mask(ds: pd.DatetimeIndex, opening_hours: WeeklyHours | None) -> np.ndarray:
    """True for hours `[ds, ds + 1h)` that overlap an opening range of their weekday.

    `opening_hours=None` means open around the clock.
    """
    if opening_hours is None:
        return np.ones(len(ds), dtype=bool)
    return data.open_hours_mask(ds, tuple(opening_hours))


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


def window_age(events: np.ndarray) -> np.ndarray:
    """Days since each hour's event window opened (0 outside windows), per event column.

    A window is a run of consecutive active hours; one still open at the start of the span
    counts from the span's first hour.
    """
    active = events > 0
    opened = active & ~np.vstack([np.zeros((1, events.shape[1]), bool), active[:-1]])
    index = np.arange(len(events))[:, None]
    start = np.maximum.accumulate(np.where(opened, index, 0), axis=0)
    return np.where(active, (index - start) / HOURS_PER_DAY, 0.0)


def build_features(ds: pd.DatetimeIndex, day_table: pd.DataFrame, rule: DayTypeRule, *,
                   opening_hours: WeeklyHours | None = None,
                   promotions: pd.DataFrame | None = None,
                   closed: np.ndarray | None = None) -> Features:
    """Features for the hourly span `ds` from a day table (index = normalized dates covering
    `ds`, columns weekday / is_holiday / is_adjusted_workday / is_closure), optional
    promotion windows (index `ds`, one 0/1 column per event name) and optional extra
    closed hours (bool per hour, e.g. a closure of part of a day)."""
    ds = pd.DatetimeIndex(ds)
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
    return Features(hour=ds.hour.to_numpy().astype(np.int64), day=day,
                    day_type=types.astype(np.int64),
                    open=open_hours_mask(ds, opening_hours) & ~closure & ~extra_closed,
                    holiday=holiday, events=events, event_names=names,
                    event_age=window_age(events))


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
                  rest_day: int | None = None) -> tuple[Features, DayTypeRule]:
    """Features of one queue over the hourly `span`, whose first `len(y)` hours are the
    history the day-type rule is learned from (contacts per hour).

    `calendar` is a `forecast.calendar.Calendar` or None (no holidays, closures or
    promotions); `rest_day` (0 = Monday) overrides the learned rest day.
    """
    span = pd.DatetimeIndex(span)
    dates = pd.DatetimeIndex(span.normalize().unique())
    if calendar is None:
        table, promotions, closed = plain_day_table(dates), None, None
    else:
        table = calendar.day_table(dates, unique_id)
        promotions = calendar.promotion_hours(span, unique_id)
        closed = calendar.closed_hours(span, unique_id)
    rule = learn_rule_from_history(span[:len(y)], y, table, rest_day, promotions)
    features = build_features(span, table, rule, opening_hours=opening_hours,
                              promotions=promotions, closed=closed)
    return features, rule


def learn_rule_from_history(history_ds: pd.DatetimeIndex, y: np.ndarray, table: pd.DataFrame,
                            rest_day: int | None, promotions: pd.DataFrame | None = None) -> DayTypeRule:
    """The day-type rule from hourly history: daily totals of complete, ordinary dates."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float)}, index=history_ds)
    if promotions is not None and promotions.shape[1]:
        promo_day = promotions.reindex(history_ds).fillna(0.0).to_numpy().any(axis=1)
        frame = frame[~promo_day]
    grouped = frame["y"].groupby(frame.index.normalize())
    totals, counts = grouped.sum(), grouped.count()
    complete = counts.index[counts.to_numpy() == HOURS_PER_DAY]
    table = table.loc[table.index.intersection(complete)]
    normal = ~(table["is_holiday"].to_numpy(dtype=bool)
               | table["is_adjusted_workday"].to_numpy(dtype=bool)
               | table["is_closure"].to_numpy(dtype=bool))
    return learn_day_type_rule(totals.reindex(table.index).to_numpy(),
                               table["weekday"].to_numpy(dtype=np.int64), normal, rest_day)

"""Event calendars: promotions, public holidays, adjusted workdays and closures.

A calendar is a long table of events (`event, start, end, kind, unique_id`), read from a
CSV or YAML file and merged with a built-in country calendar from the `holidays` package
(on by default for China). Models ask it two questions: how each date behaves
(`day_table`: holiday, adjusted workday, closure) and which promotion windows are active in
each interval (`promotion_hours`, at the minute: a 00:00-00:29 window covers the 00:00
half-hour, not the 00:30 one). See docs/calendar.md for the file format and semantics.

Times are naive local wall-clock. An event's `end` is inclusive: a date-only end covers
that whole day, a datetime end covers up to and including that minute.
"""

from __future__ import annotations

import datetime as dt
import re
import reprlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pandas as pd
import yaml

from ..tableio.reader import read_table, require_columns

from .data import step_of
from .errors import CalendarCoverageWarning, InputError

KINDS = ("promotion", "holiday", "closure", "workday")
COLUMNS = ("event", "start", "end", "kind", "unique_id")
_REQUIRED = ("event", "start", "end", "kind")
BUILTIN = "builtin"
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DAY = pd.Timedelta(days=1)
_MINUTE = pd.Timedelta(minutes=1)
# The holidays package checks China against the State Council notices from 2001 on
# (its China docstring); later years are in its table of decreed schedules.
_CN_FIRST_CHECKED_YEAR = 2001


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame({
        "event": pd.Series(dtype="string"),
        "start": pd.Series(dtype="datetime64[ns]"),
        "end": pd.Series(dtype="datetime64[ns]"),
        "kind": pd.Series(dtype="string"),
        "unique_id": pd.Series(dtype="string"),
        "end_excl": pd.Series(dtype="datetime64[ns]"),
        "source": pd.Series(dtype="string"),
    })


# ---------------------------------------------------------------- built-in country data

def normalize_country(country: str | None) -> str | None:
    """`None`, "" or "none" (any case) turn the built-in calendar off; otherwise the
    upper-cased code, which the `holidays` package must know."""
    if country is None or str(country).strip().lower() in ("", "none"):
        return None
    code = str(country).strip().upper()
    supported = holidays.list_supported_countries()
    if code not in supported:
        raise InputError(f"country: unknown country code {country!r}; use 'none' or a code "
                         f"the holidays package knows, e.g. {reprlib.repr(sorted(supported))}")
    return code


def covered_years(country: str) -> range:
    """Years for which the built-in data of `country` holds the official schedule.

    China decrees each year's holidays and adjusted working weekends late in the year
    before, so only years present in the package's table of decreed schedules are covered.
    Other countries' holidays follow fixed rules, so every year the package supports is.
    """
    if country == "CN":
        from holidays.countries.china import ChinaStaticHolidays
        return range(_CN_FIRST_CHECKED_YEAR, max(ChinaStaticHolidays.special_public_holidays) + 1)
    cls = holidays.country_holidays(country).__class__
    return range(cls.start_year, cls.end_year + 1)


def _country_holidays(country: str, years: list[int]) -> holidays.HolidayBase:
    cls = holidays.country_holidays(country).__class__
    language = "en_US" if "en_US" in getattr(cls, "supported_languages", ()) else None
    return holidays.country_holidays(country, years=years, language=language)


def _clean_name(name: str) -> str:
    return name.replace(" (observed)", "").strip()


def _cn_breaks(days: dict[dt.date, str], workdays: set[dt.date], year: int) -> dict[dt.date, str]:
    """Extend China's holidays to the whole official break.

    The State Council announces breaks as ranges ("October 1 to 8, eight days") that
    include the weekend days inside or next to them; the package lists only the holidays
    and substitute days. Every weekend day that is not an adjusted workday and touches a
    holiday through other days off becomes a holiday named after the break, and
    "Day off (substituted ...)" days take the break's name too.
    """
    if not days:
        return {}
    start, end = min(days) - dt.timedelta(days=3), max(days) + dt.timedelta(days=3)
    out: dict[dt.date, str] = {}
    run: list[dt.date] = []

    def close_run() -> None:
        named = [days[d] for d in run if d in days and not days[d].startswith("Day off")]
        if any(d in days for d in run):
            main = max(named, key=named.count) if named else days[next(d for d in run if d in days)]
            for d in run:
                own = days.get(d)
                out[d] = own if own and not own.startswith("Day off") else main
        run.clear()

    day = start
    while day <= end:
        off = day in days or (day.weekday() >= 5 and day not in workdays)
        if off:
            run.append(day)
        elif run:
            close_run()
        day += dt.timedelta(days=1)
    if run:
        close_run()
    return {d: n for d, n in out.items() if d.year == year}


@lru_cache(maxsize=None)
def _builtin_rows(country: str, year: int) -> tuple[tuple[dt.date, str, str], ...]:
    """(date, kind, name) of the built-in holidays and adjusted workdays of one year."""
    covered = covered_years(country)
    if country == "CN":
        if year not in covered:
            # Only the statutory days are certain; the package's "(observed)" days for an
            # undecreed year are its own estimate of the substitutes, so leave them out.
            cal = _country_holidays(country, [year])
            return tuple(sorted((d, "holiday", n) for d, n in cal.items()
                                if "observed" not in n and "estimated" not in n))
        years = [y for y in (year - 1, year, year + 1) if y in covered]
        cal = _country_holidays(country, years)
        days = {d: _clean_name(n) for d, n in cal.items()}
        workdays = {d for d in cal.weekend_workdays if d.year in years}
        rows = [(d, "holiday", n) for d, n in _cn_breaks(days, workdays, year).items()]
        rows += [(d, "workday", "adjusted workday") for d in workdays if d.year == year]
        return tuple(sorted(rows))
    if year not in covered:
        return ()
    cal = _country_holidays(country, [year])
    rows = [(d, "holiday", n) for d, n in cal.items() if d.year == year]
    rows += [(d, "workday", "adjusted workday")
             for d in getattr(cal, "weekend_workdays", ()) if d.year == year]
    return tuple(sorted(rows))


def builtin_events(country: str, years: Iterable[int]) -> pd.DataFrame:
    """Built-in holidays and adjusted workdays of `country` as calendar events."""
    rows = [r for y in sorted(set(years)) for r in _builtin_rows(country, y)]
    if not rows:
        return _empty_events()
    dates = pd.to_datetime([r[0] for r in rows]).astype("datetime64[ns]")
    return pd.DataFrame({
        "event": pd.array([r[2] for r in rows], dtype="string"),
        "start": dates,
        "end": dates,
        "kind": pd.array([r[1] for r in rows], dtype="string"),
        "unique_id": pd.array([pd.NA] * len(rows), dtype="string"),
        "end_excl": dates + _DAY,
        "source": pd.array([f"{BUILTIN}:{country}"] * len(rows), dtype="string"),
    })


# ---------------------------------------------------------------- the calendar

def _overlaps(lo: np.ndarray, hi: np.ndarray, start: pd.Timestamp, end_excl: pd.Timestamp) -> np.ndarray:
    """Which intervals [lo, hi) overlap the event [start, end_excl)."""
    return (lo < np.datetime64(end_excl, "ns")) & (hi > np.datetime64(start, "ns"))


@dataclass(frozen=True)
class Calendar:
    """Events plus the country whose built-in calendar they were merged with.

    `events` columns: `event`, `start`, `end` (inclusive, as given), `kind`, `unique_id`
    (`<NA>` = all queues), `end_excl` (the exclusive end the windows are computed from:
    a date-only end plus one day, a datetime end plus one minute) and `source` ("builtin:CN"
    or the file it came from). Built-in rows are one per day.
    """

    events: pd.DataFrame
    country: str | None
    builtin_years: tuple[int, ...] = ()

    def _applicable(self, unique_id: str, kinds: Sequence[str]) -> pd.DataFrame:
        ev = self.events
        mask = ev["kind"].isin(kinds) & (ev["unique_id"].isna() | (ev["unique_id"] == unique_id))
        return ev[mask.to_numpy(dtype=bool)]

    def _with_builtin(self, years: Iterable[int]) -> pd.DataFrame:
        """Events plus built-in rows for years the calendar was not loaded with."""
        missing = sorted(set(years) - set(self.builtin_years))
        if self.country is None or not missing:
            return self.events
        return pd.concat([builtin_events(self.country, missing), self.events], ignore_index=True)

    def with_years(self, years: Iterable[int]) -> Calendar:
        """This calendar with the built-in country data of `years` (the years a run needs:
        history start to horizon end) merged in. When the built-in data lacks the official
        schedule of one of them, a `CalendarCoverageWarning` says so and whether the files
        supply that year: never a silent guess."""
        wanted = sorted(set(years))
        if self.country is None or not wanted:
            return self
        cal = replace(self, events=self._with_builtin(wanted),
                      builtin_years=tuple(sorted(set(self.builtin_years) | set(wanted))))
        gaps = [y for y in cal.coverage_gaps(pd.Timestamp(year=wanted[0], month=1, day=1),
                                             pd.Timestamp(year=wanted[-1], month=1, day=1))
                if y in wanted]
        if gaps:
            code = self.country
            supplied = set(cal.file_years())
            have = [y for y in gaps if y in supplied]
            lack = [y for y in gaps if y not in supplied]
            msg = (f"the built-in {code} calendar has no official holiday schedule for "
                   f"{', '.join(map(str, gaps))}")
            if code == "CN":
                msg += " (statutory holidays only: no substitute days off or adjusted workdays)"
            if have:
                msg += ("; the calendar file supplies holiday/workday events for "
                        f"{', '.join(map(str, have))}")
            if lack:
                msg += (f"; add that year's holidays and adjusted workdays to the calendar file "
                        f"(kind holiday / workday) for {', '.join(map(str, lack))}")
            warnings.warn(msg, CalendarCoverageWarning, stacklevel=2)
        return cal

    def day_table(self, dates: Any, unique_id: str) -> pd.DataFrame:
        """How each date behaves for queue `unique_id`.

        Index: the distinct normalized dates, sorted. Columns: `weekday` (0 = Monday),
        `is_holiday`, `is_adjusted_workday` (a weekend day decreed a working day; never
        also a holiday), `is_closure` (closed all day) and `holiday_name` (`<NA>` when not
        a holiday). Later layers win: built-in, then file events for all queues, then file
        events for this queue.
        """
        days = pd.DatetimeIndex(pd.to_datetime(dates)).normalize().unique().sort_values()
        days = days.astype("datetime64[ns]")
        lo = days.to_numpy()
        hi = (days + _DAY).to_numpy()
        ev = Calendar(self._with_builtin(days.year.unique()), self.country)
        ev = ev._applicable(unique_id, ("holiday", "workday", "closure"))
        holiday = np.zeros(len(days), dtype=bool)
        workday = np.zeros(len(days), dtype=bool)
        closure = np.zeros(len(days), dtype=bool)
        names = np.full(len(days), None, dtype=object)
        layer = np.where(ev["source"].str.startswith(BUILTIN).to_numpy(dtype=bool), 0,
                         np.where(ev["unique_id"].isna().to_numpy(dtype=bool), 1, 2))
        for lvl in (0, 1, 2):
            for row in ev[layer == lvl].itertuples(index=False):
                if row.kind == "closure":
                    closure |= (lo >= np.datetime64(row.start, "ns")) & (hi <= np.datetime64(row.end_excl, "ns"))
                    continue
                hit = _overlaps(lo, hi, row.start, row.end_excl)
                if row.kind == "holiday":
                    holiday[hit], workday[hit], names[hit] = True, False, row.event
                else:
                    holiday[hit], workday[hit], names[hit] = False, True, None
        weekend = self._weekend()
        weekday = days.day_of_week.to_numpy()
        return pd.DataFrame({
            "weekday": weekday.astype("int64"),
            "is_holiday": holiday,
            "is_adjusted_workday": workday & np.isin(weekday, list(weekend)),
            "is_closure": closure,
            "holiday_name": pd.array(names, dtype="string"),
        }, index=pd.DatetimeIndex(days, name="date"))

    def _weekend(self) -> frozenset[int]:
        if self.country is None:
            return frozenset({5, 6})
        return frozenset(holidays.country_holidays(self.country).weekend)

    def promotion_names(self, unique_id: str) -> list[str]:
        """Names of the promotion events that apply to queue `unique_id`, sorted."""
        return sorted(set(self._applicable(unique_id, ("promotion",))["event"].tolist()))

    def promotion_hours(self, ds: Any, unique_id: str) -> pd.DataFrame:
        """Which promotion windows are active in each interval, for queue `unique_id`.

        Index: `ds` (interval starts of a regular grid; the interval length is the grid's
        step, an hour for a single row). One float 0/1 column per promotion event name that
        applies to the queue (all of them, sorted, even when none of their windows falls
        in `ds`, so fit and predict frames have the same columns). An interval is active
        when it overlaps a window of that name, to the minute; names recur across years.
        """
        index = pd.DatetimeIndex(pd.to_datetime(ds)).astype("datetime64[ns]")
        lo = index.to_numpy()
        hi = (index + step_of(index)).to_numpy()
        ev = self._applicable(unique_id, ("promotion",))
        cols: dict[str, np.ndarray] = {}
        for name in self.promotion_names(unique_id):
            active = np.zeros(len(index), dtype=bool)
            for row in ev[(ev["event"] == name).to_numpy(dtype=bool)].itertuples(index=False):
                active |= _overlaps(lo, hi, row.start, row.end_excl)
            cols[name] = active.astype("float64")
        return pd.DataFrame(cols, index=index)

    def closed_hours(self, ds: Any, unique_id: str) -> np.ndarray:
        """Boolean array: does a closure event of queue `unique_id` overlap each interval of
        the regular grid `ds`?"""
        index = pd.DatetimeIndex(pd.to_datetime(ds)).astype("datetime64[ns]")
        lo = index.to_numpy()
        hi = (index + step_of(index)).to_numpy()
        closed = np.zeros(len(index), dtype=bool)
        for row in self._applicable(unique_id, ("closure",)).itertuples(index=False):
            closed |= _overlaps(lo, hi, row.start, row.end_excl)
        return closed

    def coverage_gaps(self, start: Any, end: Any) -> list[int]:
        """Years in [start, end] whose official schedule the built-in country data lacks.

        For China, such a year gets only its statutory holidays from the built-in data:
        no substitute days off and no adjusted workdays; the calendar file must add them.
        Empty when the built-in calendar is off.
        """
        if self.country is None:
            return []
        covered = covered_years(self.country)
        first, last = pd.Timestamp(start).year, pd.Timestamp(end).year
        return [y for y in range(first, last + 1) if y not in covered]

    def file_years(self) -> list[int]:
        """Years in which the calendar file supplies holiday or workday events."""
        ev = self.events[~self.events["source"].str.startswith(BUILTIN).to_numpy(dtype=bool)]
        ev = ev[ev["kind"].isin(("holiday", "workday")).to_numpy(dtype=bool)]
        years: set[int] = set()
        for row in ev.itertuples(index=False):
            years.update(range(row.start.year, (row.end_excl - _MINUTE).year + 1))
        return sorted(years)


# ---------------------------------------------------------------- reading files

def _parse_time(value: Any, where: str, column: str) -> tuple[pd.Timestamp, bool]:
    """(timestamp, date_only) from a YAML date/datetime or a text cell."""
    if isinstance(value, dt.datetime):
        ts, date_only = pd.Timestamp(value), False
    elif isinstance(value, dt.date):
        return pd.Timestamp(value), True
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT or pd.isna(ts):
            raise InputError(f"{where}: column {column!r} must be a date (2025-11-11) or a "
                             f"datetime (2025-11-11 00:00), got {value!r}")
        date_only = bool(_DATE_ONLY.match(text))
    else:
        raise InputError(f"{where}: column {column!r} must be a date (2025-11-11) or a "
                         f"datetime (2025-11-11 00:00), got {value!r}")
    if ts.tzinfo is not None:
        raise InputError(f"{where}: column {column!r} must be naive local time (no time zone), "
                         f"got {value!r}")
    return ts, date_only


def _records(path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, record) per event in a CSV or YAML calendar file."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML: {exc}") from exc
        if isinstance(doc, Mapping):
            extra = [k for k in doc if k != "events"]
            if extra:
                raise InputError(f"{path}: unknown top-level key {extra[0]!r}; a calendar YAML "
                                 "is a list of events or a mapping with the single key 'events'")
            doc = doc.get("events")
        if doc is None:
            doc = []
        if not isinstance(doc, list):
            raise InputError(f"{path}: events must be a list of mappings, got {doc!r}")
        out = []
        for i, item in enumerate(doc):
            where = f"{path}, event {i + 1} (1-based)"
            if not isinstance(item, Mapping):
                raise InputError(f"{where}: must be a mapping with keys {', '.join(COLUMNS)}, "
                                 f"got {item!r}")
            out.append((where, item))
        return out
    if suffix in (".csv", ".txt"):
        frame = read_table(path, "calendar file", error=InputError,
                           header_hint=f"header with columns {', '.join(COLUMNS)}").frame
        unknown = [c for c in frame.columns if c not in COLUMNS]
        if unknown:
            raise InputError(f"{path}: unknown column {unknown[0]!r}; valid columns: "
                             f"{', '.join(COLUMNS)}")
        require_columns(frame, str(path), _REQUIRED, InputError)
        return [(f"{path}, line {i + 2}", rec) for i, rec in enumerate(frame.to_dict("records"))]
    raise InputError(f"{path}: calendar must be a .csv, .yaml or .yml file")


def read_events(path: str | Path) -> pd.DataFrame:
    """Read and validate one calendar file (CSV or YAML) into an events frame."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: calendar file not found")
    rows = []
    for where, rec in _records(path):
        unknown = [k for k in rec if k not in COLUMNS]
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(COLUMNS)}")
        missing = [k for k in _REQUIRED if k not in rec]
        if missing:
            raise InputError(f"{where}: missing key(s) {', '.join(missing)}")
        event = "" if rec["event"] is None else str(rec["event"]).strip()
        if not event:
            raise InputError(f"{where}: column 'event' must name the event, got {rec['event']!r}")
        kind = str(rec["kind"]).strip().lower()
        if kind not in KINDS:
            raise InputError(f"{where}: column 'kind' must be one of {', '.join(KINDS)}, "
                             f"got {rec['kind']!r}")
        start, _ = _parse_time(rec["start"], where, "start")
        end, end_date_only = _parse_time(rec["end"], where, "end")
        end_excl = end + _DAY if end_date_only else end.floor("min") + _MINUTE
        if end_excl <= start:
            raise InputError(f"{where}: end {rec['end']!r} is before start {rec['start']!r} "
                             f"(end is inclusive)")
        uid = rec.get("unique_id")
        uid = None if uid is None or str(uid).strip() == "" else str(uid).strip()
        rows.append((event, start, end, kind, uid, end_excl))
    if not rows:
        return _empty_events()
    return pd.DataFrame({
        "event": pd.array([r[0] for r in rows], dtype="string"),
        "start": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
        "end": pd.to_datetime([r[2] for r in rows]).astype("datetime64[ns]"),
        "kind": pd.array([r[3] for r in rows], dtype="string"),
        "unique_id": pd.array([r[4] for r in rows], dtype="string"),
        "end_excl": pd.to_datetime([r[5] for r in rows]).astype("datetime64[ns]"),
        "source": pd.array([str(path)] * len(rows), dtype="string"),
    })


def _check_conflicts(events: pd.DataFrame) -> None:
    """A file may not call the same day both a holiday and a workday for the same queues."""
    ev = events[events["kind"].isin(("holiday", "workday")).to_numpy(dtype=bool)]
    seen: dict[tuple[Any, dt.date], tuple[str, str, str]] = {}
    for row in ev.itertuples(index=False):
        scope = None if pd.isna(row.unique_id) else row.unique_id
        day = row.start.normalize()
        while day < row.end_excl:
            key = (scope, day.date())
            other = seen.get(key)
            if other and other[0] != row.kind:
                raise InputError(f"{row.source}: {day.date()} is a {other[0]} ({other[1]!r}) and "
                                 f"a {row.kind} ({row.event!r}) for "
                                 f"{'all queues' if scope is None else repr(scope)}; keep one")
            seen[key] = (row.kind, row.event, row.source)
            day += _DAY


def load_calendar(path: str | Path | Sequence[str | Path] | None = None, *,
                  country: str | None = "CN", years: Iterable[int] | None = None) -> Calendar:
    """Load calendar file(s) and merge them with the built-in country calendar.

    `path` is one CSV/YAML file, several (e.g. the festival templates plus a shop's own
    file) or None. `country` is a `holidays` code ("CN" by default) or None/"none" to use
    the files alone. `years` are the years the caller needs (history start to horizon end);
    when the built-in data lacks the official schedule of one of them, a
    `CalendarCoverageWarning` says so and whether the files supply that year. Built-in
    data for other years is added on demand by `day_table`.
    """
    code = normalize_country(country)
    paths = [] if path is None else [path] if isinstance(path, (str, Path)) else list(path)
    frames = [read_events(p) for p in paths]
    file_events = pd.concat(frames, ignore_index=True) if frames else _empty_events()
    _check_conflicts(file_events)
    calendar = Calendar(events=file_events, country=code)
    return calendar.with_years(years) if years is not None else calendar

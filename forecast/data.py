"""Load and validate contact history into the regular long frame every model takes.

Output contract (`load_history`, `load_events`, `validate_history`): columns `unique_id`
(pandas "string"), `ds` (datetime64[ns], naive local wall-clock, interval starts) and `y`
(float64 contacts per interval), sorted by `unique_id, ds`, with every interval from a
queue's first to its last timestamp present; plus `answered`, `abandoned` (contacts),
`aht_s` and `asa_s` (seconds) when the input has them. The interval is detected from the
rows (any whole number of minutes that divides the day: 5, 6, 10, 15, 30, 60, ...) or
coarsened to a requested `interval_minutes` by summing. Bad input raises `InputError`
naming the file, the row (a CSV line, header = line 1, or a 1-based data row for Parquet
files and frames), the column, the rule and the value.
"""

from __future__ import annotations

import reprlib
import warnings
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..tableio.reader import bad_values as _table_bad_values
from ..tableio.reader import check_timezone as _check_timezone
from ..tableio.reader import parse_timestamps
from ..tableio.reader import position as _pos_label
from ..tableio.reader import read_table as _read
from ..tableio.reader import row_numbers as _numbers

from .errors import InputError, InputNote

# Opening hours as plain builtins (the same shape as staffcast.config.WeeklyHours, which
# forecast/ must not import): one tuple per weekday, Monday first, of (start_minute,
# end_minute) open ranges.
WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]
# closed_dates(ds, unique_id) -> bool array, True where a calendar closure covers the hour;
# `Calendar.closed_hours` has this signature.
ClosedHours = Callable[[pd.DatetimeIndex, str], np.ndarray]
FillMissing = Literal["error", "zero"]

MIN_HOURS = 336  # two weeks: the shortest history a weekly cycle can be learned from
DEFAULT_QUEUE = "default"
MINUTES_PER_DAY = 1440
# Optional history columns: counts are summed when intervals are merged, means are
# weighted by the contacts they average over (answered contacts).
COUNT_COLUMNS = ("answered", "abandoned")
MEAN_COLUMNS = ("aht_s", "asa_s")
MAX_HANDLE_S = 86400.0  # a mean handle or wait time over 24 h is a unit or export error
_HOUR = pd.Timedelta(hours=1)


def open_hours_mask(ds: Any, weekly_hours: WeeklyHours, step_minutes: int = 60) -> np.ndarray:
    """Boolean array: is the interval of `step_minutes` starting at each `ds` open?

    An interval is open when it overlaps an open range of its weekday, so a queue open
    until 21:05 has its 21:00 hour (or its 21:00 5-minute slot, but not 21:05) open.
    """
    _check_weekly_hours(weekly_hours, "opening_hours")
    idx = pd.DatetimeIndex(pd.to_datetime(ds))
    start_min = (idx.hour * 60 + idx.minute).to_numpy()
    weekday = idx.day_of_week.to_numpy()
    mask = np.zeros(len(idx), dtype=bool)
    for day, ranges in enumerate(weekly_hours):
        for lo, hi in ranges:
            mask |= (weekday == day) & (start_min < hi) & (start_min + step_minutes > lo)
    return mask


def check_interval(minutes: Any, where: str = "interval_minutes") -> int:
    """A whole number of minutes that divides the day (5, 6, 10, 15, 30, 60, ...)."""
    if (isinstance(minutes, bool) or not isinstance(minutes, (int, np.integer))
            or not 1 <= minutes <= MINUTES_PER_DAY or MINUTES_PER_DAY % minutes):
        raise InputError(f"{where}: the interval must be a whole number of minutes that "
                         f"divides the day (5, 6, 10, 15, 30, 60, ...), got {minutes!r}")
    return int(minutes)


def check_timezone(name: Any, where: str = "timezone") -> zoneinfo.ZoneInfo | None:
    """The IANA zone `name` (e.g. "Asia/Shanghai"), None for None/""; unknown names are an
    InputError."""
    return _check_timezone(name, where, InputError)


def step_of(ds: Any) -> pd.Timedelta:
    """The interval length of a regular, sorted `ds` index (one hour for fewer than two
    rows)."""
    idx = pd.DatetimeIndex(ds)
    if len(idx) < 2:
        return _HOUR
    return pd.Timedelta(idx[1] - idx[0])


def nonexistent_local(ds: Any, timezone: zoneinfo.ZoneInfo | None) -> np.ndarray:
    """True for naive wall-clock times the zone skips (the hour a clock springs forward):
    no contact can arrive in them, so they are zero, never missing."""
    idx = pd.DatetimeIndex(ds)
    if timezone is None or len(idx) == 0:
        return np.zeros(len(idx), dtype=bool)
    local = idx.tz_localize(timezone, nonexistent="NaT", ambiguous=np.ones(len(idx), bool))
    return np.asarray(local.isna())


def _check_weekly_hours(weekly_hours: Any, where: str) -> None:
    if not isinstance(weekly_hours, Sequence) or len(weekly_hours) != 7:
        raise InputError(f"{where}: must hold 7 weekdays (Monday first) of (start_minute, "
                         f"end_minute) ranges, got {weekly_hours!r}")
    for day in weekly_hours:
        for rng in day:
            if len(rng) != 2 or not 0 <= rng[0] < rng[1] <= 1440:
                raise InputError(f"{where}: each open range must be (start_minute, end_minute) "
                                 f"with 0 <= start < end <= 1440, got {rng!r}")


def _hours_for(opening_hours: Mapping[str, WeeklyHours] | None, queue: str) -> WeeklyHours | None:
    """A queue's opening hours: its own entry, else the `default` entry, else None."""
    if not opening_hours:
        return None
    if queue in opening_hours:
        return opening_hours[queue]
    return opening_hours.get(DEFAULT_QUEUE)


# ---------------------------------------------------------------- messages

def _bad_values(source: str, column: str, rule: str, positions: np.ndarray, values: Sequence[Any],
                lines: bool) -> InputError:
    return _table_bad_values(source, column, rule, positions, values, lines, InputError)


# ---------------------------------------------------------------- parsing

def _check_fill_missing(fill_missing: Any) -> None:
    if fill_missing not in ("error", "zero"):
        raise InputError(f"fill_missing: must be 'error' or 'zero', got {fill_missing!r}")


def _parse_timestamps(values: pd.Series, source: str, column: str, lines: bool,
                      timezone: zoneinfo.ZoneInfo | None = None) -> pd.Series:
    """Naive local wall-clock timestamps (`staffcast.tableio.reader.parse_timestamps`)."""
    return parse_timestamps(values, source, column, lines, timezone, InputError)


def _parse_queue(values: pd.Series, source: str, column: str, lines: bool) -> pd.Series:
    text = values.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if blank.any():
        pos = np.flatnonzero(blank)
        raise _bad_values(source, column, "queue name is empty", pos,
                          [values.iloc[p] for p in pos], lines)
    return text


def _read_table(path: str | Path, what: str, columns: Mapping[str, str] | None = None
                ) -> tuple[pd.DataFrame, bool, str]:
    """(frame, rows_are_csv_lines, source name); CSV cells are read as text. `columns`
    maps our column names to the file's (a vendor's export)."""
    table = _read(path, f"{what} file", error=InputError, columns=columns, parquet=True)
    return table.frame, table.lines, table.source


# ---------------------------------------------------------------- validation

def _parse_number(df: pd.DataFrame, column: str, source: str, lines: bool, *,
                  blank_ok: bool, upper: float | None = None) -> np.ndarray:
    """A numeric column as float64: finite, >= 0 (and <= `upper`); blank cells are NaN
    when `blank_ok` (a mean over no contacts), else an error."""
    raw = df[column]
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype("float64").to_numpy()
        blank = np.isnan(values) if blank_ok else np.zeros(len(values), bool)
    else:
        text = raw.astype("string").str.strip()
        blank = (text.isna() | (text == "")).to_numpy(dtype=bool) if blank_ok else \
            np.zeros(len(text), bool)
        values = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    what = ("contact count" if column in ("y", *COUNT_COLUMNS) else
            "handle time in seconds" if column == "aht_s" else "mean wait in seconds")
    bad = ~np.isfinite(values) & ~blank
    if bad.any():
        pos = np.flatnonzero(bad)
        raise _bad_values(source, column, f"{what} must be a finite number", pos,
                          [raw.iloc[p] for p in pos], lines)
    neg = values < 0
    if neg.any():
        pos = np.flatnonzero(neg)
        bound = "> 0" if column == "aht_s" else ">= 0"
        raise _bad_values(source, column, f"{what} must be {bound}", pos,
                          [raw.iloc[p] for p in pos], lines)
    if upper is not None:
        big = values > upper
        if big.any():
            pos = np.flatnonzero(big)
            raise _bad_values(source, column, f"{what} must be <= {upper:g} (24 hours)", pos,
                              [raw.iloc[p] for p in pos], lines)
    return values


def _detect_step(frame: pd.DataFrame, source: str, lines: bool, raw_ds: pd.Series) -> int:
    """The history's interval in minutes: the most common gap between a queue's rows.
    Rows off that grid (a 15-minute row in an hourly file) are an error naming them."""
    ds = frame["ds"]
    gaps = frame.groupby("unique_id", sort=False)["ds"].diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    if gaps.empty:
        minutes = 60
    else:
        minutes = gaps.dt.total_seconds().round().astype("int64").mode().min() / 60
        if minutes != int(minutes):
            raise InputError(f"{source}: column 'ds': rows are {minutes * 60:g} seconds apart; "
                             "history intervals must be whole minutes")
        minutes = int(minutes)
    if MINUTES_PER_DAY % minutes:
        p = int(np.flatnonzero((frame.groupby("unique_id", sort=False)["ds"].diff()
                                == pd.Timedelta(minutes=minutes)).to_numpy())[0])
        raise InputError(f"{source}: {_pos_label(lines)} {_numbers([p], lines)[0]}, column "
                         f"'ds': rows are {minutes} minutes apart, an interval that does not "
                         f"divide the day (1440 minutes), got {raw_ds.iloc[p]!r}")
    minute_of_day = (ds.dt.hour * 60 + ds.dt.minute).to_numpy()
    off = (minute_of_day % minutes != 0) | (ds.dt.second != 0).to_numpy() | \
        (ds.dt.microsecond != 0).to_numpy()
    if off.any():
        pos = np.flatnonzero(off)
        raise _bad_values(source, "ds", f"mixed intervals: most rows are {minutes} minutes "
                          f"apart, so every ds must start a {minutes}-minute interval of the "
                          "day", pos, [raw_ds.iloc[p] for p in pos], lines)
    return minutes


def _merge_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum counts and weight means by answered contacts (by `y` without `answered`) over
    rows sharing `keys`."""
    weight = frame["answered"] if "answered" in frame else frame["y"]
    work = frame.copy()
    for col in MEAN_COLUMNS:
        if col in work:
            work[f"_w_{col}"] = np.where(work[col].notna(), weight, 0.0)
            work[f"_s_{col}"] = (work[col] * weight).fillna(0.0)
    sums = [c for c in work.columns if c not in keys and c not in MEAN_COLUMNS]
    out = work.groupby(keys, sort=True)[sums].sum(min_count=1).reset_index()
    for col in MEAN_COLUMNS:
        if col in frame:
            w = out.pop(f"_w_{col}")
            total = out.pop(f"_s_{col}")
            out[col] = np.where(w > 0, total / w.where(w > 0, 1.0), np.nan)
    return out


def _validate(df: pd.DataFrame, source: str, lines: bool, opening_hours: Mapping[str, WeeklyHours] | None,
              fill_missing: FillMissing, closed_dates: ClosedHours | None,
              min_hours: int = MIN_HOURS, interval_minutes: int | None = None,
              timezone: str | zoneinfo.ZoneInfo | None = None) -> pd.DataFrame:
    _check_fill_missing(fill_missing)
    if interval_minutes is not None:
        interval_minutes = check_interval(interval_minutes)
    zone = timezone if isinstance(timezone, zoneinfo.ZoneInfo) else check_timezone(timezone)
    for name, hours in (opening_hours or {}).items():
        _check_weekly_hours(hours, f"opening_hours[{name!r}]")
    missing = [c for c in ("ds", "y") if c not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; found "
                         f"{', '.join(map(repr, map(str, df.columns))) or 'no columns'}; history "
                         "needs ds (interval start), y (contacts) and optionally unique_id "
                         "(queue)")
    n = len(df)
    if n == 0:
        raise InputError(f"{source}: no rows; history needs at least {min_hours} hour(s) per "
                         "queue")
    if "unique_id" in df.columns:
        uid = _parse_queue(df["unique_id"], source, "unique_id", lines)
    else:
        uid = pd.Series(pd.array([DEFAULT_QUEUE] * n, dtype="string"), index=df.index)
    ds = _parse_timestamps(df["ds"], source, "ds", lines, zone)
    columns = {"y": _parse_number(df, "y", source, lines, blank_ok=False)}
    for col in COUNT_COLUMNS:
        if col in df.columns:
            columns[col] = _parse_number(df, col, source, lines, blank_ok=False)
    for col in MEAN_COLUMNS:
        if col in df.columns:
            columns[col] = _parse_number(df, col, source, lines, blank_ok=True,
                                         upper=MAX_HANDLE_S)
    if "aht_s" in columns:
        zero = columns["aht_s"] == 0
        if zero.any():
            pos = np.flatnonzero(zero)
            raise _bad_values(source, "aht_s", "handle time in seconds must be > 0 (leave "
                              "it blank for an interval without answered contacts)", pos,
                              [df["aht_s"].iloc[p] for p in pos], lines)

    frame = pd.DataFrame({"unique_id": uid.to_numpy(), "ds": ds.to_numpy(), **columns})
    frame["unique_id"] = frame["unique_id"].astype("string")
    raw_ds = df["ds"].reset_index(drop=True)
    if zone is not None:
        # Offset-aware rows converted to local time: the hour a clock falls back shows up
        # twice. Its rows are merged into the one wall-clock interval, and said so.
        dup = frame.duplicated(["unique_id", "ds"], keep=False).to_numpy()
        shifted = dup & ambiguous_rows(frame["ds"], zone)
        if shifted.any():
            merged = frame[shifted]
            warnings.warn(f"{source}: {int(shifted.sum())} rows fall in the repeated hour of a "
                          f"daylight-saving change ({zone.key}, first {merged['ds'].iloc[0]}); "
                          "each pair was summed into its one local wall-clock interval",
                          InputNote, stacklevel=3)
            frame = pd.concat([frame[~shifted], _merge_rows(merged, ["unique_id", "ds"])],
                              ignore_index=True).sort_values(["unique_id", "ds"],
                                                             kind="stable", ignore_index=True)
            raw_ds = frame["ds"]
    dup = frame.duplicated(["unique_id", "ds"], keep="first").to_numpy()
    if dup.any():
        p = int(np.flatnonzero(dup)[0])
        key = (frame["unique_id"].iloc[p], frame["ds"].iloc[p])
        same = np.flatnonzero(((frame["unique_id"] == key[0]) & (frame["ds"] == key[1])).to_numpy())
        nums = _numbers(same, lines)
        raise InputError(f"{source}: duplicated (unique_id, ds) = ({key[0]!r}, {key[1]}) at "
                         f"{_pos_label(lines)}s {nums}; each queue needs one row per interval "
                         f"({int(dup.sum())} duplicated row(s) in all)")
    back = (frame.groupby("unique_id", sort=False)["ds"].diff() < pd.Timedelta(0)).to_numpy()
    if back.any():
        p = int(np.flatnonzero(back)[0])
        q = frame["unique_id"].iloc[p]
        prev = int(np.flatnonzero((frame["unique_id"].iloc[:p] == q).to_numpy())[-1])
        lp, lprev = _numbers([p, prev], lines)
        raise InputError(f"{source}: rows must be sorted by ds within each queue: "
                         f"{_pos_label(lines)} {lp} (ds {frame['ds'].iloc[p]}) comes after "
                         f"{_pos_label(lines)} {lprev} (ds {frame['ds'].iloc[prev]}) in queue {q!r}")
    step_min = _detect_step(frame, source, lines, raw_ds)
    if interval_minutes is not None and interval_minutes % step_min:
        raise InputError(f"{source}: history is at {step_min}-minute intervals; "
                         f"interval_minutes={interval_minutes} must be a multiple of it "
                         "(intervals can be summed into longer ones, never split)")
    step = pd.Timedelta(minutes=step_min)
    target = pd.Timedelta(minutes=interval_minutes or step_min)
    min_steps = int(np.ceil(min_hours * 60 / step_min))
    values_cols = list(columns)

    out = []
    for queue, sub in frame.groupby("unique_id", sort=True):
        queue = str(queue)
        grid = pd.date_range(sub["ds"].iloc[0], sub["ds"].iloc[-1], freq=step)
        if len(grid) < min_steps:
            raise InputError(f"{source}: queue {queue!r} spans only "
                             f"{len(grid) * step_min / 60:g} hours ({grid[0]} to "
                             f"{grid[-1] + step}); at least {min_hours} hours are needed"
                             + (" (two weeks)" if min_hours == MIN_HOURS else ""))
        values = sub.set_index("ds")[values_cols].reindex(grid)
        gaps = values["y"].isna().to_numpy()
        if gaps.any():
            allowed = nonexistent_local(grid, zone)
            hours = _hours_for(opening_hours, queue)
            if hours is not None:
                allowed |= ~open_hours_mask(grid, hours, step_min)
            if closed_dates is not None:
                allowed |= np.asarray(closed_dates(grid, queue), dtype=bool)
            if fill_missing == "zero":
                allowed[:] = True
            unexplained = gaps & ~allowed
            if unexplained.any():
                lost = grid[unexplained]
                hint = ("give the queue opening hours in the config, " if hours is None else
                        "these are open hours; ")
                raise InputError(
                    f"{source}: queue {queue!r} has {len(lost)} missing "
                    f"{'hour(s)' if step_min == 60 else f'{step_min}-minute interval(s)'} "
                    f"inside its span, first "
                    f"{reprlib.repr([str(t) for t in lost[:6]])}; {hint}mark closures in "
                    "the calendar (kind closure) or fill them with zero (--fill-missing zero)")
            fill = {c: 0.0 for c in ("y", *COUNT_COLUMNS) if c in values}
            values = values.fillna(fill)
        part = values.rename_axis("ds").reset_index()
        part.insert(0, "unique_id", pd.array([queue] * len(part), dtype="string"))
        if target != step:
            part = _coarsen(part, target)
            if part.empty:
                raise InputError(f"{source}: queue {queue!r} holds no complete "
                                 f"{interval_minutes}-minute interval")
        out.append(part)
    result = pd.concat(out, ignore_index=True)
    result["unique_id"] = result["unique_id"].astype("string")
    result["ds"] = result["ds"].astype("datetime64[ns]")
    return result


def _coarsen(part: pd.DataFrame, target: pd.Timedelta) -> pd.DataFrame:
    """One queue's regular rows summed into `target`-long intervals of the day; the partial
    intervals at the span's two ends are dropped (a sum of part of an interval would read
    as a quiet interval)."""
    step = step_of(part["ds"])
    per = int(target / step)
    part = part.assign(ds=part["ds"].dt.floor(target))
    full = part.groupby("ds")["y"].transform("size").to_numpy() == per
    merged = _merge_rows(part[full], ["unique_id", "ds"])
    return merged[["unique_id", "ds", *[c for c in part.columns if c not in ("unique_id", "ds")]]]


def ambiguous_rows(ds: pd.Series, zone: zoneinfo.ZoneInfo) -> np.ndarray:
    """True for naive wall-clock times `zone` shows twice (the hour a clock falls back)."""
    idx = pd.DatetimeIndex(ds)
    first = idx.tz_localize(zone, ambiguous=np.ones(len(idx), bool), nonexistent="NaT")
    second = idx.tz_localize(zone, ambiguous=np.zeros(len(idx), bool), nonexistent="NaT")
    return np.asarray(first != second) & np.asarray(first.notna())


def validate_history(df: pd.DataFrame, source: str = "<frame>", *,
                     opening_hours: Mapping[str, WeeklyHours] | None = None,
                     fill_missing: FillMissing = "error",
                     closed_dates: ClosedHours | None = None,
                     min_hours: int = MIN_HOURS, interval_minutes: int | None = None,
                     timezone: str | None = None) -> pd.DataFrame:
    """Check an in-memory history frame and return a clean copy (see `load_history`).

    Rows are named as 1-based data rows of `df` in its current order.
    """
    return _validate(df.copy(), source, False, opening_hours, fill_missing, closed_dates,
                     min_hours, interval_minutes, timezone)


def load_history(path: str | Path, *, opening_hours: Mapping[str, WeeklyHours] | None = None,
                 fill_missing: FillMissing = "error",
                 closed_dates: ClosedHours | None = None,
                 min_hours: int = MIN_HOURS, interval_minutes: int | None = None,
                 timezone: str | None = None,
                 columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read contact counts per interval from CSV or Parquet into the history frame.

    Columns `ds` (interval start), `y` (contacts, >= 0), optional `unique_id` (queue; absent
    means one queue named "default") and optional `answered`, `abandoned` (contacts) and
    `aht_s`, `asa_s` (mean handle and wait seconds of the answered contacts, blank when
    none, <= 24 h); other columns are ignored. Rows must be sorted by `ds` within each
    queue, one per (queue, interval), and each queue must span >= `min_hours` hours (336,
    two weeks, for a history to forecast from; actuals may be shorter).

    The interval is the most common gap between a queue's rows and must divide the day;
    rows off its grid are an error (mixed intervals). `interval_minutes`, a multiple of it,
    sums the history into longer intervals (dropping partial ones at the ends).

    Time zones: with `timezone` (an IANA name) offset-aware timestamps are converted to its
    wall clock and naive ones are taken as local; the wall-clock hour a clock skips is a
    zero interval and the repeated hour's rows are summed (an `InputNote` warning says
    so). Without it, timestamps must share one offset (see `_parse_timestamps`).

    Intervals missing inside a queue's span are an error, except when they are closed
    (`opening_hours[queue]`, or `opening_hours["default"]`), covered by a calendar closure
    (`closed_dates(ds, unique_id) -> bool array`, e.g. `Calendar.closed_hours`) or when
    `fill_missing="zero"`: those become zero contacts.

    `columns` maps our column names to a vendor's (`{"ds": "interval_start", "y":
    "offered"}`, see `staffcast.tableio.parse_column_map`); errors then name our column.
    """
    frame, lines, source = _read_table(path, "history", columns)
    return _validate(frame, source, lines, opening_hours, fill_missing, closed_dates, min_hours,
                     interval_minutes, timezone)


def load_events(path: str | Path, *, timestamp_col: str = "ds", queue_col: str | None = None,
                opening_hours: Mapping[str, WeeklyHours] | None = None,
                fill_missing: FillMissing = "error",
                closed_dates: ClosedHours | None = None,
                interval_minutes: int = 60, timezone: str | None = None) -> pd.DataFrame:
    """Aggregate a raw contact log (one row per contact, CSV or Parquet) to the history frame.

    `timestamp_col` holds each contact's arrival time (same time-zone rules as history);
    `queue_col` its queue (None: one queue named "default"). Each contact counts in the
    `interval_minutes` interval it arrived in. A log cannot tell a missing interval from
    one without contacts, so every interval between a queue's first and last contact with
    no contacts is a zero count; `opening_hours`, `fill_missing` and `closed_dates` are
    checked and applied as in `load_history`, which leaves nothing to fill on a complete
    grid. `staffcast.forecasting.ingest` reads full logs (answer and end times, handle times).
    """
    interval_minutes = check_interval(interval_minutes)
    zone = check_timezone(timezone)
    frame, lines, source = _read_table(path, "contact log")
    needed = [timestamp_col] + ([queue_col] if queue_col else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; found "
                         f"{', '.join(map(repr, map(str, frame.columns))) or 'no columns'}")
    if frame.empty:
        raise InputError(f"{source}: the contact log has no rows")
    ts = _parse_timestamps(frame[timestamp_col], source, timestamp_col, lines, zone)
    if queue_col:
        queue = _parse_queue(frame[queue_col], source, queue_col, lines)
    else:
        queue = pd.Series(pd.array([DEFAULT_QUEUE] * len(frame), dtype="string"))
    step = pd.Timedelta(minutes=interval_minutes)
    counts = pd.DataFrame({"unique_id": queue.to_numpy(), "ds": ts.dt.floor(step).to_numpy()})
    counts = counts.groupby(["unique_id", "ds"], sort=True).size().rename("y").reset_index()
    parts = []
    for q, sub in counts.groupby("unique_id", sort=True):
        grid = pd.date_range(sub["ds"].iloc[0], sub["ds"].iloc[-1], freq=step)
        y = pd.Series(sub["y"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(sub["ds"]))
        parts.append(pd.DataFrame({"unique_id": str(q), "ds": grid,
                                   "y": y.reindex(grid, fill_value=0.0).to_numpy()}))
    counted = pd.concat(parts, ignore_index=True)
    return _validate(counted, f"{source} ({interval_minutes}-minute counts of "
                     f"{timestamp_col!r})", False, opening_hours, fill_missing, closed_dates,
                     interval_minutes=interval_minutes)

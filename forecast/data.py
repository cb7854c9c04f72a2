"""Load and validate contact history into the hourly long frame every model takes.

Output contract (`load_history`, `load_events`, `validate_history`): columns `unique_id`
(pandas "string"), `ds` (datetime64[ns], naive local wall-clock, hour starts) and `y`
(float64 contacts per hour), sorted by `unique_id, ds`, with every hour from a queue's
first to its last timestamp present. Bad input raises `InputError` naming the file, the
row (a CSV line, header = line 1, or a 1-based data row for Parquet files and frames), the
column, the rule and the value.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import InputError
from .sanity import check_day_first

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
_HOUR = pd.Timedelta(hours=1)
_OFFSET = r"(?:T|\s)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"
_PARQUET = (".parquet", ".pq")


def open_hours_mask(ds: Any, weekly_hours: WeeklyHours) -> np.ndarray:
    """Boolean array: is the hour starting at each `ds` open?

    An hour is open when it overlaps an open range of its weekday, so a queue open until
    21:05 has its 21:00 hour open.
    """
    _check_weekly_hours(weekly_hours, "opening_hours")
    idx = pd.DatetimeIndex(pd.to_datetime(ds))
    start_min = (idx.hour * 60 + idx.minute).to_numpy()
    weekday = idx.day_of_week.to_numpy()
    mask = np.zeros(len(idx), dtype=bool)
    for day, ranges in enumerate(weekly_hours):
        for lo, hi in ranges:
            mask |= (weekday == day) & (start_min < hi) & (start_min + 60 > lo)
    return mask


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

def _pos_label(lines: bool) -> str:
    return "CSV line" if lines else "data row (1-based)"


def _numbers(positions: Sequence[int], lines: bool) -> list[int]:
    return [int(p) + (2 if lines else 1) for p in positions]


def _bad_values(source: str, column: str, rule: str, positions: np.ndarray, values: Sequence[Any],
                lines: bool) -> InputError:
    nums = _numbers(positions, lines)
    msg = f"{source}: {_pos_label(lines)} {nums[0]}, column {column!r}: {rule}, got {values[0]!r}"
    if len(nums) > 1:
        msg += (f" ({len(nums)} rows break this rule: {_pos_label(lines).split(' (')[0]}s "
                f"{reprlib.repr(nums)}, values {reprlib.repr([_plain(v) for v in values])})")
    return InputError(msg)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, pd.Timestamp) else value


# ---------------------------------------------------------------- parsing

def _check_fill_missing(fill_missing: Any) -> None:
    if fill_missing not in ("error", "zero"):
        raise InputError(f"fill_missing: must be 'error' or 'zero', got {fill_missing!r}")


def _parse_timestamps(values: pd.Series, source: str, column: str, lines: bool) -> pd.Series:
    """Naive local wall-clock timestamps from a text or datetime column.

    A column that is tz-aware in one zone (one UTC offset for text) is converted once to
    naive wall-clock time in that zone; rows with differing offsets, or with and without
    an offset, are an error, since their wall-clock times cannot be lined up without
    knowing the queue's zone.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
        if blank.any():
            pos = np.flatnonzero(blank)
            raise _bad_values(source, column, "timestamp is empty", pos,
                              [values.iloc[p] for p in pos], lines)
        check_day_first(text, source, column, _pos_label(lines), _numbers([0], lines)[0])
        offsets = text.str.extract(_OFFSET, expand=False)
        offsets = offsets.str.replace("Z", "+00:00").str.replace(
            r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
        aware = offsets.notna().to_numpy(dtype=bool)
        if aware.any() and not aware.all():
            a, n = int(np.flatnonzero(aware)[0]), int(np.flatnonzero(~aware)[0])
            la, ln = _numbers([a, n], lines)
            raise InputError(f"{source}: column {column!r} mixes time zones: {_pos_label(lines)} "
                             f"{la} has UTC offset {offsets.iloc[a]} ({values.iloc[a]!r}) but "
                             f"{_pos_label(lines)} {ln} has none ({values.iloc[n]!r}); give all "
                             "timestamps in one zone")
        if aware.any():
            first = offsets.iloc[0]
            other = (offsets != first).to_numpy(dtype=bool)
            if other.any():
                o = int(np.flatnonzero(other)[0])
                l0, lo = _numbers([0, o], lines)
                raise InputError(f"{source}: column {column!r} mixes time zones: "
                                 f"{_pos_label(lines)} {l0} has UTC offset {first} but "
                                 f"{_pos_label(lines)} {lo} has {offsets.iloc[o]} "
                                 f"({values.iloc[o]!r}); give all timestamps in one zone "
                                 "(naive local time is best)")
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise _bad_values(source, column, "not a readable timestamp (e.g. 2025-11-11 08:00)",
                          pos, [values.iloc[p] for p in pos], lines)
    return parsed.astype("datetime64[ns]")


def _parse_queue(values: pd.Series, source: str, column: str, lines: bool) -> pd.Series:
    text = values.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if blank.any():
        pos = np.flatnonzero(blank)
        raise _bad_values(source, column, "queue name is empty", pos,
                          [values.iloc[p] for p in pos], lines)
    return text


def _read_table(path: str | Path, what: str) -> tuple[pd.DataFrame, bool, str]:
    """(frame, rows_are_csv_lines, source name); CSV cells are read as text."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {what} file not found")
    if path.suffix.lower() in _PARQUET:
        try:
            return pd.read_parquet(path), False, str(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read as Parquet: {exc}") from exc
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: empty file; expected a CSV header") from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the "
                         "file as UTF-8") from exc
    return frame, True, str(path)


# ---------------------------------------------------------------- validation

def _validate(df: pd.DataFrame, source: str, lines: bool, opening_hours: Mapping[str, WeeklyHours] | None,
              fill_missing: FillMissing, closed_dates: ClosedHours | None,
              min_hours: int = MIN_HOURS) -> pd.DataFrame:
    _check_fill_missing(fill_missing)
    for name, hours in (opening_hours or {}).items():
        _check_weekly_hours(hours, f"opening_hours[{name!r}]")
    missing = [c for c in ("ds", "y") if c not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; found "
                         f"{', '.join(map(repr, map(str, df.columns))) or 'no columns'}; history "
                         "needs ds (hour start), y (contacts) and optionally unique_id (queue)")
    n = len(df)
    if n == 0:
        raise InputError(f"{source}: no rows; history needs at least {min_hours} hour(s) per "
                         "queue")
    if "unique_id" in df.columns:
        uid = _parse_queue(df["unique_id"], source, "unique_id", lines)
    else:
        uid = pd.Series(pd.array([DEFAULT_QUEUE] * n, dtype="string"), index=df.index)
    ds = _parse_timestamps(df["ds"], source, "ds", lines)
    off_hour = (ds != ds.dt.floor("h")).to_numpy(dtype=bool)
    if off_hour.any():
        pos = np.flatnonzero(off_hour)
        raise _bad_values(source, "ds", "hourly history needs hour starts (minute and second 0)",
                          pos, [df["ds"].iloc[p] for p in pos], lines)
    raw_y = df["y"]
    if pd.api.types.is_numeric_dtype(raw_y.dtype) and not pd.api.types.is_bool_dtype(raw_y.dtype):
        y = raw_y.astype("float64")
    else:
        y = pd.to_numeric(raw_y.astype("string").str.strip(), errors="coerce").astype("float64")
    y_np = y.to_numpy()
    bad = ~np.isfinite(y_np)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise _bad_values(source, "y", "contact count must be a finite number", pos,
                          [raw_y.iloc[p] for p in pos], lines)
    neg = y_np < 0
    if neg.any():
        pos = np.flatnonzero(neg)
        raise _bad_values(source, "y", "contact count must be >= 0", pos,
                          [raw_y.iloc[p] for p in pos], lines)

    frame = pd.DataFrame({"unique_id": uid.to_numpy(), "ds": ds.to_numpy(), "y": y_np})
    frame["unique_id"] = frame["unique_id"].astype("string")
    dup = frame.duplicated(["unique_id", "ds"], keep="first").to_numpy()
    if dup.any():
        p = int(np.flatnonzero(dup)[0])
        key = (frame["unique_id"].iloc[p], frame["ds"].iloc[p])
        same = np.flatnonzero(((frame["unique_id"] == key[0]) & (frame["ds"] == key[1])).to_numpy())
        nums = _numbers(same, lines)
        raise InputError(f"{source}: duplicated (unique_id, ds) = ({key[0]!r}, {key[1]}) at "
                         f"{_pos_label(lines)}s {nums}; each queue needs one row per hour "
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

    out = []
    for queue, sub in frame.groupby("unique_id", sort=True):
        queue = str(queue)
        grid = pd.date_range(sub["ds"].iloc[0], sub["ds"].iloc[-1], freq="h")
        if len(grid) < min_hours:
            raise InputError(f"{source}: queue {queue!r} spans only {len(grid)} hours "
                             f"({grid[0]} to {grid[-1]}); at least {min_hours} hours are needed"
                             + (" (two weeks)" if min_hours == MIN_HOURS else ""))
        values = pd.Series(sub["y"].to_numpy(), index=pd.DatetimeIndex(sub["ds"])).reindex(grid)
        gaps = values.isna().to_numpy()
        if gaps.any():
            allowed = np.zeros(len(grid), dtype=bool)
            hours = _hours_for(opening_hours, queue)
            if hours is not None:
                allowed |= ~open_hours_mask(grid, hours)
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
                    f"{source}: queue {queue!r} has {len(lost)} missing hour(s) inside its span, "
                    f"first {reprlib.repr([str(t) for t in lost[:6]])}; {hint}mark closures in "
                    "the calendar (kind closure) or fill them with zero (--fill-missing zero)")
            values = values.fillna(0.0)
        out.append(pd.DataFrame({
            "unique_id": pd.array([queue] * len(grid), dtype="string"),
            "ds": grid.astype("datetime64[ns]"),
            "y": values.to_numpy(dtype="float64"),
        }))
    return pd.concat(out, ignore_index=True)


def validate_history(df: pd.DataFrame, source: str = "<frame>", *,
                     opening_hours: Mapping[str, WeeklyHours] | None = None,
                     fill_missing: FillMissing = "error",
                     closed_dates: ClosedHours | None = None) -> pd.DataFrame:
    """Check an in-memory history frame and return a clean copy (see `load_history`).

    Rows are named as 1-based data rows of `df` in its current order.
    """
    return _validate(df.copy(), source, False, opening_hours, fill_missing, closed_dates)


def load_history(path: str | Path, *, opening_hours: Mapping[str, WeeklyHours] | None = None,
                 fill_missing: FillMissing = "error",
                 closed_dates: ClosedHours | None = None,
                 min_hours: int = MIN_HOURS) -> pd.DataFrame:
    """Read hourly contact counts from CSV or Parquet into the history frame.

    Columns `ds` (hour start, naive local time; one time zone allowed, converted to its
    naive wall-clock), `y` (contacts, >= 0) and optional `unique_id` (queue; absent means
    one queue named "default"); other columns are ignored. Rows must be sorted by `ds`
    within each queue, one per (queue, hour), and each queue must span >= `min_hours`
    hours (336, two weeks, for a history to forecast from; actuals may be shorter).

    Hours missing inside a queue's span are an error, except when they are closed
    (`opening_hours[queue]`, or `opening_hours["default"]`), covered by a calendar closure
    (`closed_dates(ds, unique_id) -> bool array`, e.g. `Calendar.closed_hours`) or when
    `fill_missing="zero"`: those become zero contacts.
    """
    frame, lines, source = _read_table(path, "history")
    return _validate(frame, source, lines, opening_hours, fill_missing, closed_dates, min_hours)


def load_events(path: str | Path, *, timestamp_col: str = "ds", queue_col: str | None = None,
                opening_hours: Mapping[str, WeeklyHours] | None = None,
                fill_missing: FillMissing = "error",
                closed_dates: ClosedHours | None = None) -> pd.DataFrame:
    """Aggregate a raw contact log (one row per contact, CSV or Parquet) to the history frame.

    `timestamp_col` holds each contact's arrival time (same time-zone rules as history);
    `queue_col` its queue (None: one queue named "default"). Each contact counts in the
    hour it arrived in. A log cannot tell a missing hour from an hour without contacts, so
    every hour between a queue's first and last contact with no contacts is a zero count;
    `opening_hours`, `fill_missing` and `closed_dates` are checked and applied as in
    `load_history`, which leaves nothing to fill on a complete grid.
    """
    frame, lines, source = _read_table(path, "contact log")
    needed = [timestamp_col] + ([queue_col] if queue_col else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; found "
                         f"{', '.join(map(repr, map(str, frame.columns))) or 'no columns'}")
    if frame.empty:
        raise InputError(f"{source}: the contact log has no rows")
    ts = _parse_timestamps(frame[timestamp_col], source, timestamp_col, lines)
    if queue_col:
        queue = _parse_queue(frame[queue_col], source, queue_col, lines)
    else:
        queue = pd.Series(pd.array([DEFAULT_QUEUE] * len(frame), dtype="string"))
    counts = pd.DataFrame({"unique_id": queue.to_numpy(), "ds": ts.dt.floor("h").to_numpy()})
    counts = counts.groupby(["unique_id", "ds"], sort=True).size().rename("y").reset_index()
    parts = []
    for q, sub in counts.groupby("unique_id", sort=True):
        grid = pd.date_range(sub["ds"].iloc[0], sub["ds"].iloc[-1], freq="h")
        y = pd.Series(sub["y"].to_numpy(dtype="float64"), index=pd.DatetimeIndex(sub["ds"]))
        parts.append(pd.DataFrame({"unique_id": str(q), "ds": grid,
                                   "y": y.reindex(grid, fill_value=0.0).to_numpy()}))
    hourly = pd.concat(parts, ignore_index=True)
    return _validate(hourly, f"{source} (hourly counts of {timestamp_col!r})", False,
                     opening_hours, fill_missing, closed_dates)

"""Reading table files: see the package docstring (`tableio`)."""


from __future__ import annotations

import re
import reprlib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import TableError

PARQUET_SUFFIXES = (".parquet", ".pq")
# A UTC offset at the end of a timestamp: "...08:00Z", "...08:00+08:00", "...08:00 +0800".
_OFFSET = r"(?:T|\s)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})\b")
_SLASHED_ANY = re.compile(r"^\s*\d{1,2}[/.]\d{1,2}[/.](?:\d{2}|\d{4})\b")


@dataclass(frozen=True)
class Table:
    """A table as read: `frame` (CSV: every cell text, blanks ""; Parquet: the file's
    types), `source` (the path, for messages) and `lines` (True: row i is CSV line i + 2;
    False: 1-based data row i + 1). `renamed` maps our column names to the file's."""

    frame: pd.DataFrame
    source: str
    lines: bool
    renamed: Mapping[str, str] = field(default_factory=dict)

    def column_name(self, column: str) -> str:
        """The file's own name of contract column `column` (as mapped by `columns=`)."""
        return self.renamed.get(column, column)


def position(lines: bool) -> str:
    """What a row number counts: "CSV line" (header = line 1) or "data row (1-based)"."""
    return "CSV line" if lines else "data row (1-based)"


def row_numbers(positions: Sequence[int], lines: bool) -> list[int]:
    """0-based row positions as the numbers a user finds them by (see `position`)."""
    return [int(p) + (2 if lines else 1) for p in positions]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, pd.Timestamp) else value


def bad_values(source: str, column: str, rule: str, positions: np.ndarray,
               values: Sequence[Any], lines: bool, error: type[Exception] = TableError
               ) -> Exception:
    """The error for the rows at `positions` breaking `rule` in `column`: the first one in
    full, then how many rows break it and (shortened) which ones and their values."""
    nums = row_numbers(positions, lines)
    msg = f"{source}: {position(lines)} {nums[0]}, column {column!r}: {rule}, got {values[0]!r}"
    if len(nums) > 1:
        msg += (f" ({len(nums)} rows break this rule: {position(lines).split(' (')[0]}s "
                f"{reprlib.repr(nums)}, values {reprlib.repr([_plain(v) for v in values])})")
    return error(msg)


def parse_column_map(text: str | Sequence[str] | None, valid: Sequence[str], *,
                     option: str = "--columns", error: type[Exception] = TableError
                     ) -> dict[str, str]:
    """`"queue=skill_name,arrived_at=created"` (or several such strings) -> {our name:
    the file's name}; our names must be among `valid`. `option` names the setting in
    errors."""
    if not text:
        return {}
    parts = [text] if isinstance(text, str) else list(text)
    out: dict[str, str] = {}
    for part in parts:
        for item in str(part).split(","):
            item = item.strip()
            if not item:
                continue
            ours, sep, theirs = item.partition("=")
            ours, theirs = ours.strip(), theirs.strip()
            if not sep or not theirs:
                raise error(f"{option}: each mapping must look like "
                            f"{valid[0]}=their_name, got {item!r}")
            if ours not in valid:
                raise error(f"{option}: unknown column {ours!r}; valid: {', '.join(valid)}")
            out[ours] = theirs
    return out


def _read_csv(path: Path, error: type[Exception], text: bool, header_hint: str
              ) -> pd.DataFrame:
    options: dict[str, Any] = (dict(dtype=str, keep_default_na=False, skipinitialspace=True)
                               if text else {})
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **options)
    except pd.errors.EmptyDataError as exc:
        raise error(f"{path}: empty file; expected a {header_hint or 'CSV header'}") from exc
    except pd.errors.ParserError as exc:
        raise error(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the "
                    "file as UTF-8") from exc


def require_columns(frame: pd.DataFrame, source: str, columns: Sequence[str],
                    error: type[Exception] = TableError, hint: str = "") -> None:
    """`error` naming the columns of `columns` that `frame` lacks, then `hint` (what the
    table should hold), then the columns it has."""
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise error(f"{source}: missing column(s) {', '.join(missing)}{hint}; found "
                    f"{', '.join(map(str, frame.columns)) or 'none'}")


def read_table(path: str | Path, what: str, *, error: type[Exception] = TableError,
               required: Sequence[str] = (), hint: str = "",
               columns: Mapping[str, str] | None = None, parquet: bool = False,
               text: bool = True, header_hint: str = "", not_found: str = "") -> Table:
    """Read the table file at `path` (`what` names it in errors: "history file").

    CSV cells are text ("" for a blank) unless `text` is False (pandas' own types and
    NaN for blanks, for files staffcast wrote itself); `parquet` also accepts .parquet/.pq
    files. `columns` maps contract names to the file's (vendor) names: those columns are
    renamed to ours, and a mapped name the file lacks is an error. `header_hint` says what
    the header of an empty file should hold; `not_found` is added to a missing file's
    message. The `required` columns must be there (after renaming; `hint` is added to
    the error, see `require_columns`). Errors are raised as `error`.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {what} not found{not_found}")
    if parquet and path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            frame, lines = pd.read_parquet(path), False
        except (OSError, ValueError) as exc:
            raise error(f"{path}: cannot read as Parquet: {exc}") from exc
    else:
        frame, lines = _read_csv(path, error, text, header_hint), True
    renamed = dict(columns or {})
    if renamed:
        absent = {ours: theirs for ours, theirs in renamed.items() if theirs not in frame.columns}
        if absent:
            ours, theirs = next(iter(absent.items()))
            raise error(f"{path}: no column {theirs!r} (mapped to {ours}); found "
                        f"{', '.join(map(str, frame.columns)) or 'none'}")
        clash = [ours for ours, theirs in renamed.items()
                 if ours in frame.columns and theirs != ours]
        if clash:
            raise error(f"{path}: has a column {clash[0]!r} of its own and {renamed[clash[0]]!r} "
                        f"mapped to it; map only one of them")
        frame = frame.rename(columns={theirs: ours for ours, theirs in renamed.items()})
    require_columns(frame, str(path), required, error, hint)
    return Table(frame, str(path), lines, renamed)


def check_timezone(name: Any, where: str = "timezone", error: type[Exception] = TableError
                   ) -> zoneinfo.ZoneInfo | None:
    """The IANA zone `name` (e.g. "Asia/Shanghai"), None for None/""; an unknown name is
    `error`."""
    if name is None or str(name).strip() == "":
        return None
    try:
        return zoneinfo.ZoneInfo(str(name).strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise error(f"{where}: unknown time zone {name!r}; use an IANA name such as "
                    "'Asia/Shanghai', 'Europe/Berlin' or 'UTC'") from None


# ---------------------------------------------------------------- timestamps

def check_day_first(text: pd.Series, source: str, column: str, row_label: str = "line",
                    first_number: int = 2, error: type[Exception] = TableError) -> None:
    """`error` when the timestamps in `text` are written day-first (a first field above
    12 in 'dd/mm/yyyy') or ambiguously (every first and second field 12 or less, so day
    and month cannot be told apart). Month-first text with a day above 12 somewhere is
    unambiguous and passes. `first_number` is the label of text's first row (2 = the
    first data line of a CSV with a header)."""
    # A file keeps one date style: when its first rows have no slashed date, skip the
    # regex over millions of rows.
    if not text.iloc[:1000].astype("string").str.contains(_SLASHED_ANY, na=False).any():
        return
    parts = text.astype("string").str.extract(_SLASHED)
    slashed = parts[0].notna().to_numpy(dtype=bool)
    if not slashed.any():
        return
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    second = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
    day_first = slashed & (first > 12)
    month_first = slashed & (second > 12)
    if day_first.any():
        i = int(np.flatnonzero(day_first)[0])
        raise error(
            f"{source}: column {column!r} holds day-first dates: {row_label} "
            f"{i + first_number} has {text.iloc[i]!r} (day {int(first[i])}); the parser "
            "would read the rest month-first and scramble the order; write dates as "
            "YYYY-MM-DD HH:MM")
    if not month_first.any():
        i = int(np.flatnonzero(slashed)[0])
        raise error(
            f"{source}: column {column!r} holds dates such as {text.iloc[i]!r} "
            f"({row_label} {i + first_number}) that read as day-first or month-first alike; "
            "write dates as YYYY-MM-DD HH:MM")


def parse_timestamps(values: pd.Series, source: str, column: str, lines: bool,
                     timezone: zoneinfo.ZoneInfo | None = None,
                     error: type[Exception] = TableError) -> pd.Series:
    """Naive local wall-clock timestamps from a text or datetime column.

    With `timezone`, offset-aware values (`...Z`, `+08:00`) are converted to that zone's
    wall clock, row by row (so a daylight-saving zone's two offsets are fine), and naive
    values are taken as already local. Without it, a column that is tz-aware in one zone
    (one UTC offset for text) is converted once to naive wall-clock time in that zone; rows
    with differing offsets, or with and without an offset, are an error naming the rows,
    since their wall-clock times cannot be lined up without knowing the queue's zone.
    Day-first dates are refused (`check_day_first`); errors are `error`, naming rows as
    `lines` says (see `position`).
    """
    zone_hint = "; or set timezone: in the config (--timezone) to convert them to one zone"
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = (values.dt.tz_convert(timezone) if timezone is not None else values)
        parsed = parsed.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
        if blank.any():
            pos = np.flatnonzero(blank)
            raise bad_values(source, column, "timestamp is empty", pos,
                             [values.iloc[p] for p in pos], lines, error)
        check_day_first(text, source, column, position(lines), row_numbers([0], lines)[0],
                        error)
        offsets = text.str.extract(_OFFSET, expand=False)
        offsets = offsets.str.replace("Z", "+00:00").str.replace(
            r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)
        aware = offsets.notna().to_numpy(dtype=bool)
        if timezone is not None:
            parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
            if aware.any():
                utc = pd.to_datetime(text[aware], format="mixed", utc=True, errors="coerce")
                parsed[aware] = utc.dt.tz_convert(timezone).dt.tz_localize(None).astype(
                    "datetime64[ns]")
            if (~aware).any():
                parsed[~aware] = pd.to_datetime(text[~aware], format="mixed",
                                                errors="coerce").astype("datetime64[ns]")
        else:
            if aware.any() and not aware.all():
                a, n = int(np.flatnonzero(aware)[0]), int(np.flatnonzero(~aware)[0])
                la, ln = row_numbers([a, n], lines)
                raise error(f"{source}: column {column!r} mixes time zones: "
                            f"{position(lines)} {la} has UTC offset {offsets.iloc[a]} "
                            f"({values.iloc[a]!r}) but {position(lines)} {ln} has none "
                            f"({values.iloc[n]!r}); give all timestamps in one zone"
                            + zone_hint)
            if aware.any():
                first = offsets.iloc[0]
                other = (offsets != first).to_numpy(dtype=bool)
                if other.any():
                    o = int(np.flatnonzero(other)[0])
                    l0, lo = row_numbers([0, o], lines)
                    raise error(f"{source}: column {column!r} mixes time zones: "
                                f"{position(lines)} {l0} has UTC offset {first} but "
                                f"{position(lines)} {lo} has {offsets.iloc[o]} "
                                f"({values.iloc[o]!r}); give all timestamps in one zone "
                                "(naive local time is best)" + zone_hint)
            parsed = pd.to_datetime(text, format="mixed", errors="coerce")
            if isinstance(parsed.dtype, pd.DatetimeTZDtype):
                parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise bad_values(source, column, "not a readable timestamp (e.g. 2025-11-11 08:00)",
                         pos, [values.iloc[p] for p in pos], lines, error)
    return parsed.astype("datetime64[ns]")


__all__ = ["PARQUET_SUFFIXES", "Table", "TableError", "bad_values", "check_day_first",
           "check_timezone", "parse_column_map", "parse_timestamps", "position", "read_table",
           "require_columns", "row_numbers"]

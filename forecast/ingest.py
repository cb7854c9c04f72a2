"""Raw contact logs -> the history contract, in bounded memory.

A contact log has one row per contact: `queue, arrived_at, answered_at, ended_at`
(`answered_at` blank when the contact abandoned; `ended_at` blank too, or the time the
customer hung up), rows in any order, one or several CSV or Parquet files. `ingest`
streams each file in blocks (pyarrow's streaming CSV reader or Parquet row groups), turns
every block into per-(queue, interval) sums and keeps only those sums, so a 10-million-row
log needs the memory of one block plus the (queues x intervals) totals.

Output (`IngestResult.history`): `unique_id, ds, y, answered, abandoned, aht_s, asa_s`, one
row per queue and interval of `interval_minutes` from the queue's first to its last
contact (intervals without contacts are zeros), counted by the interval of arrival in local
time; `aht_s` = mean of `ended_at - answered_at` and `asa_s` = mean of `answered_at -
arrived_at` over the answered contacts (blank when none). `IngestResult.patience`: each
queue's patience estimate for Erlang A (see `patience_table`).

Time zones: with `timezone` (IANA name), offset-aware timestamps (`...Z`, `+08:00`) are
converted to its wall clock and naive ones are taken as local; without it, any offset-aware
timestamp is an error (a UTC export read as local time shifts every contact by the
offset). Durations are measured between instants, so a contact spanning a daylight-saving
change has its true handle time. A wall-clock hour the zone skips has no contacts; the
hour it repeats is one wall-clock interval holding both hours' contacts (reported).

Bad rows (`on_bad="error"`, the default) raise `InputError` naming the file, the CSV line,
the column, the rule and the value; `on_bad="drop"` leaves them out and counts them per
rule in `IngestResult.dropped`, which the command prints.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..tableio.reader import parse_column_map as _parse_column_map

from .data import MAX_HANDLE_S, check_interval, check_timezone
from .errors import InputError

LOG_COLUMNS = ("queue", "arrived_at", "answered_at", "ended_at")
HISTORY_COLUMNS = ("unique_id", "ds", "y", "answered", "abandoned", "aht_s", "asa_s")
PATIENCE_COLUMNS = ("unique_id", "contacts", "answered", "abandoned", "abandon_rate",
                    "asa_s", "patience_s", "method")
OnBad = Literal["error", "drop"]
# Rules a contact row can break, in the order they are checked.
RULES = {
    "queue_empty": ("queue", "queue name is empty"),
    "arrived_empty": ("arrived_at", "arrival time is empty"),
    "unreadable": (None, "not a readable timestamp (e.g. 2025-11-11 08:00:00+08:00)"),
    "answered_before_arrival": ("answered_at", "answered before arrival"),
    "ended_before_start": ("ended_at", "contact ends before it starts"),
    "answered_without_end": ("ended_at", "answered contact has no end time"),
    "handle_over_24h": ("ended_at", "handle time over 24 h"),
    "wait_over_24h": ("answered_at", "wait over 24 h"),
}
_OFFSET_RE = r"(Z|[+-]\d{2}:?\d{2})$"
_NS_PER_S = 1_000_000_000
_PARQUET = (".parquet", ".pq")
_LOG_SUFFIXES = (".csv", ".txt", *_PARQUET)
_SUM_COLUMNS = ("y", "answered", "abandoned", "handle_s", "wait_s", "abandon_wait_s",
                "abandon_timed")


@dataclass(frozen=True)
class IngestResult:
    """What `ingest` read: the history frame, the patience table, how many rows it read
    (all files) and how many it dropped per rule (only with `on_bad="drop"`), the
    contacts that arrived in a repeated daylight-saving hour, and the files read."""

    history: pd.DataFrame
    patience: pd.DataFrame
    rows_read: int
    dropped: Mapping[str, int] = field(default_factory=dict)
    repeated_hour_contacts: int = 0
    files: tuple[str, ...] = ()


def parse_column_map(text: str | Sequence[str] | None) -> dict[str, str]:
    """`"queue=skill_name,arrived_at=created"` (or several such strings) -> {our name:
    the file's name}; our names must be among `LOG_COLUMNS` (`staffcast.tableio.parse_column_map`)."""
    return _parse_column_map(text, LOG_COLUMNS, error=InputError)


def log_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files to read: each path as given, a folder's CSV/Parquet files sorted by name."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not items:
        raise InputError("contact log: give at least one file or folder")
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in _LOG_SUFFIXES)
            if not found:
                raise InputError(f"{path}: folder holds no .csv or .parquet contact log")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"{path}: contact log file not found")
    return out


def _blocks(path: Path, names: Mapping[str, str], block_bytes: int
            ) -> Iterator[tuple[dict[str, Any], int]]:
    """(our column -> pyarrow string array, bytes read so far) per block of `path`."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    wanted = {ours: names.get(ours, ours) for ours in LOG_COLUMNS}
    if path.suffix.lower() in _PARQUET:
        try:
            file = pq.ParquetFile(path)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{path}: cannot read as Parquet: {exc}") from exc
        _check_header(path, file.schema_arrow.names, wanted)
        size = max(path.stat().st_size, 1)
        total = max(file.metadata.num_rows, 1)
        done = 0
        for batch in file.iter_batches(columns=list(wanted.values()), batch_size=500_000):
            done += batch.num_rows
            yield ({ours: _as_text(batch.column(theirs)) for ours, theirs in wanted.items()},
                   int(size * done / total))
        return
    try:
        with open(path, "rb") as handle:
            header = handle.readline().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    if not header.strip():
        raise InputError(f"{path}: empty file; expected a header with columns "
                         f"{', '.join(wanted.values())}")
    columns = [c.strip().strip('"') for c in header.rstrip("\r\n").split(",")]
    _check_header(path, columns, wanted)
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in columns}, include_columns=list(wanted.values()),
        strings_can_be_null=True, null_values=[""])
    read = pacsv.ReadOptions(block_size=block_bytes, encoding="utf8", use_threads=False)
    parse = pacsv.ParseOptions(newlines_in_values=False)
    try:
        # Through a Python file object: Arrow's own file reader keeps reading blocks ahead
        # in the background while a block is being counted (200+ MB on a 200 MB log).
        with open(path, "rb") as handle:
            reader = pacsv.open_csv(pa.PythonFile(handle, mode="r"), read_options=read,
                                    parse_options=parse, convert_options=convert)
            size, done = path.stat().st_size, 0
            for batch in reader:
                # Text bytes of the block, a close estimate of the file bytes it came from.
                done = min(size, done + batch.nbytes)
                yield {ours: batch.column(theirs) for ours, theirs in wanted.items()}, done
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from exc


def _as_text(array):
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pc.if_else(pc.equal(pc.utf8_trim_whitespace(array), ""), None, array)
    if pa.types.is_timestamp(array.type) and array.type.tz is not None:
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%S%z")
    return pc.cast(array, pa.string())


def _check_header(path: Path, found: Sequence[str], wanted: Mapping[str, str]) -> None:
    missing = [f"{theirs!r}" + (f" (for {ours})" if ours != theirs else "")
               for ours, theirs in wanted.items() if theirs not in found]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; found "
                         f"{', '.join(map(repr, found)) or 'none'}; map a vendor's names with "
                         "--columns queue=skill_name,arrived_at=created")


class _Block:
    """One block's columns as numpy: local arrival (naive ns), instants (ns) of arrival,
    answer and end (NaT-able via the `has_*` masks), and the checks over them."""

    def __init__(self, cols: Mapping[str, Any], zone: zoneinfo.ZoneInfo | None, source: str,
                 first_row: int, names: Mapping[str, str] | None = None):
        self.names = dict(names or {})
        import pyarrow.compute as pc

        self.source, self.first_row, self.zone = source, first_row, zone
        parquet = source.lower().endswith(_PARQUET)
        self.label, self.base = ("data row (1-based)", 1) if parquet else ("CSV line", 2)
        self.cols = cols
        n = len(cols["arrived_at"])
        self.bad = {rule: np.zeros(n, dtype=bool) for rule in RULES}
        # Queue names as dictionary codes: no Python string per row.
        queue = pc.utf8_trim_whitespace(cols["queue"]).dictionary_encode()
        self.queue_names = [str(q) for q in queue.dictionary.to_pylist()]
        codes = pc.fill_null(queue.indices, -1).to_numpy(zero_copy_only=False)
        empty = np.array([q == "" for q in self.queue_names] + [True], dtype=bool)
        self.queue_codes = np.asarray(codes, dtype=np.int64)
        self.bad["queue_empty"] = empty[self.queue_codes]
        self.local, self.arrive = self._times("arrived_at", required=True)
        _, self.answer = self._times("answered_at", required=False)
        _, self.end = self._times("ended_at", required=False)

    def _times(self, column: str, required: bool) -> tuple[np.ndarray, np.ndarray]:
        """(local wall-clock ns, instant ns) with NaT as int64 min; records rule breaks."""
        import pyarrow.compute as pc

        array = self.cols[column]
        n = len(array)
        nat = np.iinfo(np.int64).min
        blank = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if required:
            self.bad["arrived_empty"] |= blank
        aware = np.asarray(pc.fill_null(pc.match_substring_regex(array, _OFFSET_RE), False)
                           .to_numpy(zero_copy_only=False), dtype=bool)
        local = np.full(n, nat, dtype=np.int64)
        instant = np.full(n, nat, dtype=np.int64)
        if aware.any():
            if self.zone is None:
                row = int(np.flatnonzero(aware)[0])
                raise InputError(
                    f"{self.source}: {self.label} {self.first_row + row + self.base}, "
                    f"column {self.shown(column)}: "
                    "timestamp carries a UTC offset but no --timezone (config timezone:) was "
                    f"given to convert it to the queues' local time, got {array[row].as_py()!r}")
            utc = _parse(array, aware, utc=True)
            instant[aware] = utc.asi8
            ok = ~utc.isna()
            conv = utc[ok].tz_convert(self.zone).tz_localize(None).as_unit("ns").asi8
            vals = np.full(int(aware.sum()), nat, dtype=np.int64)
            vals[np.asarray(ok)] = conv
            local[aware] = vals
        naive = ~aware & ~blank
        if naive.any():
            parsed = _parse(array, naive, utc=False)
            local[naive] = parsed.asi8
            if self.zone is None:
                instant[naive] = parsed.asi8
            else:
                # Naive local times: their instants, for durations across a clock change.
                inst = parsed.tz_localize(self.zone, ambiguous=np.ones(len(parsed), bool),
                                          nonexistent="shift_forward")
                instant[naive] = inst.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8
        unreadable = ~blank & ((local == nat) | (instant == nat))
        if unreadable.any():
            self.unreadable_column = getattr(self, "unreadable_column", {})
            self.bad["unreadable"] |= unreadable
            for row in np.flatnonzero(unreadable)[:1]:
                self.unreadable_column.setdefault(int(row), column)
        return local, instant

    def shown(self, column: str) -> str:
        """The column as the file names it (and ours, when mapped)."""
        theirs = self.names.get(column, column)
        return repr(theirs) if theirs == column else f"{theirs!r} ({column})"

    def check(self) -> None:
        nat = np.iinfo(np.int64).min
        has_answer = self.answer != nat
        has_end = self.end != nat
        has_arrive = self.arrive != nat
        day = 86400 * _NS_PER_S
        self.bad["answered_before_arrival"] = has_answer & has_arrive & (self.answer < self.arrive)
        start = np.where(has_answer, self.answer, self.arrive)
        self.bad["ended_before_start"] = has_end & (start != nat) & (self.end < start)
        self.bad["answered_without_end"] = has_answer & ~has_end
        self.bad["handle_over_24h"] = has_answer & has_end & (self.end - self.answer > day)
        self.bad["wait_over_24h"] = has_answer & has_arrive & (self.answer - self.arrive > day)

    def first_error(self) -> InputError | None:
        for rule, (column, text) in RULES.items():
            rows = np.flatnonzero(self.bad[rule])
            if not len(rows):
                continue
            row = int(rows[0])
            if column is None:
                column = getattr(self, "unreadable_column", {}).get(row, "arrived_at")
            value = self.cols[column][row].as_py()
            more = f" ({len(rows)} rows in this block break it)" if len(rows) > 1 else ""
            return InputError(f"{self.source}: {self.label} {self.first_row + row + self.base}, column "
                              f"{self.shown(column)}: {text}, got {value!r}{more}; fix the rows or pass "
                              "--on-bad drop to leave them out (they are counted)")
        return None


def _parse(array, rows: np.ndarray, utc: bool) -> pd.DatetimeIndex:
    """The timestamps of `array` (pyarrow strings) at `rows` (bool mask): Arrow's ISO 8601
    cast, without a Python object per row; pandas for a block Arrow cannot read whole."""
    import pyarrow as pa

    subset = array.filter(pa.array(rows))
    try:
        cast = subset.cast(pa.timestamp("ns", tz="UTC") if utc else pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _to_datetime(np.asarray(subset.to_numpy(zero_copy_only=False), dtype=object),
                            utc)
    values = cast.cast(pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy()
    index = pd.DatetimeIndex(values.view("datetime64[ns]"))
    return index.tz_localize("UTC") if utc else index


def _to_datetime(text: np.ndarray, utc: bool) -> pd.DatetimeIndex:
    """ISO 8601 fast path, any readable format for what it cannot read."""
    parsed = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=utc,
                                             errors="coerce")).as_unit("ns")
    missing = np.asarray(parsed.isna())
    if missing.any():
        retry = pd.DatetimeIndex(pd.to_datetime(text[missing], format="mixed", utc=utc,
                                                errors="coerce")).as_unit("ns")
        values = parsed.asi8.copy()
        values[missing] = retry.asi8
        parsed = pd.DatetimeIndex(values.view("datetime64[ns]"))
        if utc:
            parsed = parsed.tz_localize("UTC")
    return pd.DatetimeIndex(parsed).as_unit("ns")


def ingest(paths: str | Path | Sequence[str | Path], *, interval_minutes: int = 60,
           timezone: str | None = None, columns: Mapping[str, str] | None = None,
           on_bad: OnBad = "error", block_bytes: int = 8 << 20,
           progress: Callable[[int, int, int], None] | None = None) -> IngestResult:
    """Aggregate contact logs to the history contract (see the module docstring).

    `paths`: files and/or folders (their .csv/.parquet files). `interval_minutes` must
    divide the day. `columns` maps our names (`LOG_COLUMNS`) to the file's. `progress(rows,
    bytes, total_bytes)` is called after each block.
    """
    interval_minutes = check_interval(interval_minutes)
    zone = check_timezone(timezone)
    if on_bad not in ("error", "drop"):
        raise InputError(f"on_bad must be 'error' or 'drop', got {on_bad!r}")
    files = log_files(paths)
    names = dict(columns or {})
    step_ns = interval_minutes * 60 * _NS_PER_S
    total_bytes = sum(p.stat().st_size for p in files)
    queue_codes: dict[str, int] = {}
    partials: list[pd.DataFrame] = []
    pending = 0
    dropped = dict.fromkeys(RULES, 0)
    rows_read, bytes_before = 0, 0
    for path in files:
        first_row = 0
        for cols, at in _blocks(path, names, block_bytes):
            block = _Block(cols, zone, str(path), first_row, names)
            block.check()
            n = len(block.local)
            bad = np.zeros(n, dtype=bool)
            for rule, mask in block.bad.items():
                new = mask & ~bad
                dropped[rule] += int(new.sum())
                bad |= mask
            if bad.any() and on_bad == "error":
                raise block.first_error()  # type: ignore[misc]
            keep = ~bad
            partials.append(_block_sums(block, keep, step_ns, queue_codes))
            pending += len(partials[-1])
            if pending > 2 * len(partials[0]) + 200_000:
                # Fold the blocks' sums into one frame as they come: memory stays at the
                # (queues x intervals) totals, not at a sum per block.
                partials = [_fold(partials)]
                pending = len(partials[0])
            first_row += n
            rows_read += n
            if progress is not None:
                progress(rows_read, bytes_before + at, total_bytes)
        bytes_before += path.stat().st_size
    if not rows_read:
        raise InputError(f"{files[0]}: the contact log has no rows")
    sums = _fold(partials)
    if sums.empty:
        raise InputError(f"{', '.join(map(str, files))}: no valid contact rows "
                         f"({rows_read} read, all dropped)")
    names_by_code = np.array(sorted(queue_codes, key=queue_codes.get), dtype=object)
    history = _history(sums, names_by_code, step_ns)
    repeated = _repeated_hour_contacts(history, zone)
    return IngestResult(history=history, patience=patience_table(sums, names_by_code),
                        rows_read=rows_read,
                        dropped={k: v for k, v in dropped.items() if v},
                        repeated_hour_contacts=repeated, files=tuple(map(str, files)))


def _fold(partials: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-(queue, interval) sums of several blocks' sums."""
    return (pd.concat(partials, ignore_index=True)
            .groupby(["queue", "slot"], sort=True).sum().reset_index())


def _block_sums(block: _Block, keep: np.ndarray, step_ns: int,
                queue_codes: dict[str, int]) -> pd.DataFrame:
    nat = np.iinfo(np.int64).min
    to_global = np.array([queue_codes.setdefault(q, len(queue_codes))
                          for q in block.queue_names] + [-1], dtype=np.int64)
    codes = to_global[block.queue_codes[keep]]
    local = block.local[keep]
    arrive, answer, end = block.arrive[keep], block.answer[keep], block.end[keep]
    answered = answer != nat
    abandoned = ~answered
    timed = abandoned & (end != nat)
    frame = pd.DataFrame({
        "queue": codes,
        "slot": local - np.mod(local, step_ns),
        "y": np.ones(len(local)),
        "answered": answered.astype(float),
        "abandoned": abandoned.astype(float),
        "handle_s": np.where(answered, (end - answer) / _NS_PER_S, 0.0),
        "wait_s": np.where(answered, (answer - arrive) / _NS_PER_S, 0.0),
        "abandon_wait_s": np.where(timed, (end - arrive) / _NS_PER_S, 0.0),
        "abandon_timed": timed.astype(float),
    })
    return frame.groupby(["queue", "slot"], sort=False).sum().reset_index()


def _history(sums: pd.DataFrame, names: np.ndarray, step_ns: int) -> pd.DataFrame:
    parts = []
    for code, sub in sums.groupby("queue", sort=False):
        slots = sub["slot"].to_numpy()
        grid = np.arange(slots.min(), slots.max() + step_ns, step_ns, dtype=np.int64)
        at = ((slots - grid[0]) // step_ns).astype(np.int64)
        cols = {}
        for name in _SUM_COLUMNS:
            values = np.zeros(len(grid))
            values[at] = sub[name].to_numpy()
            cols[name] = values
        answered = cols["answered"]
        with np.errstate(invalid="ignore", divide="ignore"):
            aht = np.where(answered > 0, cols["handle_s"] / answered, np.nan)
            asa = np.where(answered > 0, cols["wait_s"] / answered, np.nan)
        parts.append(pd.DataFrame({
            "unique_id": pd.array([names[code]] * len(grid), dtype="string"),
            "ds": grid.view("datetime64[ns]"),
            "y": cols["y"], "answered": answered, "abandoned": cols["abandoned"],
            "aht_s": aht, "asa_s": asa,
        }))
    history = pd.concat(parts, ignore_index=True)
    return history.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)


def patience_table(sums: pd.DataFrame, names: np.ndarray) -> pd.DataFrame:
    """Each queue's mean patience in seconds, for Erlang A (`patience_s` in the config).

    Patience is taken as exponential. When abandoned contacts carry the time they hung up
    (`ended_at`), its maximum-likelihood estimate is the total waiting time of all contacts
    (answered ones only show that their patience outlasted their wait) divided by the
    number of abandons (method "mle"). When they do not, the abandoned contacts' waits are
    unknown and taken as the answered contacts' mean wait: patience = mean wait /
    abandon rate (the estimate of Mandelbaum and Zeltyn for exponential patience, method
    "wait_over_abandon_rate", a rougher figure). No abandons: no estimate (blank).
    """
    per = sums.groupby("queue", sort=True)[list(_SUM_COLUMNS)].sum()
    rows = []
    for code, r in per.iterrows():
        contacts, answered, abandoned = r["y"], r["answered"], r["abandoned"]
        asa = r["wait_s"] / answered if answered else np.nan
        rate = abandoned / contacts if contacts else np.nan
        if abandoned == 0:
            patience, method = np.nan, "no_abandons"
        elif r["abandon_timed"] == abandoned:
            patience, method = (r["wait_s"] + r["abandon_wait_s"]) / abandoned, "mle"
        else:
            timed = r["abandon_timed"]
            # Abandons without a hang-up time are given the answered contacts' mean wait.
            guess = (0.0 if np.isnan(asa) else asa) * (abandoned - timed)
            patience = (r["wait_s"] + r["abandon_wait_s"] + guess) / abandoned
            method = "wait_over_abandon_rate"
        rows.append((names[code], contacts, answered, abandoned, rate, asa, patience, method))
    out = pd.DataFrame(rows, columns=list(PATIENCE_COLUMNS))
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def _repeated_hour_contacts(history: pd.DataFrame, zone: zoneinfo.ZoneInfo | None) -> int:
    if zone is None or history.empty:
        return 0
    idx = pd.DatetimeIndex(history["ds"])
    first = idx.tz_localize(zone, ambiguous=np.ones(len(idx), bool), nonexistent="NaT")
    second = idx.tz_localize(zone, ambiguous=np.zeros(len(idx), bool), nonexistent="NaT")
    repeated = np.asarray(first != second) & np.asarray(first.notna())
    return int(history["y"].to_numpy()[repeated].sum())


def ingest_summary(result: IngestResult) -> list[str]:
    """Lines for the user: rows read and kept, dropped rows per rule, merged DST contacts,
    and each queue's patience."""
    kept = int(result.history["y"].sum())
    lines = [f"read {result.rows_read} contact row(s) from {len(result.files)} file(s); "
             f"{kept} counted in {result.history['unique_id'].nunique()} queue(s)"]
    for rule, count in result.dropped.items():
        lines.append(f"dropped {count} row(s): {RULES[rule][1]}")
    if result.repeated_hour_contacts:
        lines.append(f"{result.repeated_hour_contacts} contact(s) arrived in the repeated hour "
                     "of a daylight-saving change; each such wall-clock interval holds both "
                     "hours' contacts")
    for row in result.patience.itertuples(index=False):
        est = ("no abandons, no estimate" if np.isnan(row.patience_s) else
               f"patience {row.patience_s:.0f} s ({row.method})")
        lines.append(f"queue {row.unique_id}: abandon rate {row.abandon_rate:.1%}, {est}")
    return lines


__all__ = ["HISTORY_COLUMNS", "IngestResult", "LOG_COLUMNS", "PATIENCE_COLUMNS", "RULES",
           "ingest", "ingest_summary", "log_files", "parse_column_map", "patience_table"]

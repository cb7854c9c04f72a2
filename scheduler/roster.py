"""Roster and activity tables: the plan in the shapes workforce tools import.

`roster_frame` gives one row per agent and worked day (`agent_id, date, shift_start,
shift_end, break_start, break_end, lunch_start, lunch_end, paid_hours, queue`). A shift
with several breaks keeps its first break in `break_start/break_end` and adds
`break2_start, break2_end, break3_start, ...` after `queue` (added only when some shift of
the plan has that many breaks, so a one-break plan keeps exactly the ten columns).
`activities_frame` cuts each agent's horizon into contiguous segments `agent_id, start,
end, activity` with activity WORK, BREAK, LUNCH or OFF: a shift becomes WORK pieces around
its breaks and lunch, and each day of the horizon without a shift start is one OFF segment
from 00:00 to the next 00:00 (starting later when the previous night's shift runs past
midnight, so that segments never overlap). `format_roster` / `format_activities` render
them as text for CSV (`YYYY-MM-DD HH:MM` timestamps, `YYYY-MM-DD` dates, empty when none).
`cover_slots` counts agents at work at the resolution of the activities (see there).

Everything here is column arithmetic on numpy arrays: no Python loop runs per agent or per
shift, so 100,000 shifts take seconds (benchmarks/output_speed.py).

All timestamps are naive local wall-clock time; hours are hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SchedulerError
from ..tableio.reader import read_table

ROSTER_COLUMNS = ("agent_id", "date", "shift_start", "shift_end", "break_start", "break_end",
                  "lunch_start", "lunch_end", "paid_hours", "queue")
ACTIVITY_COLUMNS = ("agent_id", "start", "end", "activity")
ACTIVITIES = ("WORK", "BREAK", "LUNCH", "OFF")
TIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"
_EXTRA_BREAK = re.compile(r"^break([2-9]|[1-9]\d+)_(start|end)$")
_NS_PER_MIN = 60 * 10**9


class RosterError(SchedulerError):
    """A roster row is inconsistent (a break outside its shift, two shifts overlapping...)."""


def break_name(number: int) -> str:
    """Column prefix of a shift's `number`-th break (1-based): break, break2, break3, ..."""
    return "break" if number == 1 else f"break{number}"


def pause_names(columns: Iterable[str]) -> list[str]:
    """The pauses a frame's columns describe, in column order of the roster: `break`,
    `break2`, ... then `lunch` (only those whose `_start` or `_end` column is present)."""
    cols = set(columns)
    extra = sorted({int(m.group(1)) for c in cols if (m := _EXTRA_BREAK.match(c))})
    names = ["break", *(break_name(n) for n in extra), "lunch"]
    return [n for n in names if f"{n}_start" in cols or f"{n}_end" in cols]


def roster_columns(columns: Iterable[str]) -> list[str]:
    """`ROSTER_COLUMNS` plus the `breakN_start, breakN_end` pairs present in `columns`."""
    extra = [n for n in pause_names(columns) if n not in ("break", "lunch")]
    return [*ROSTER_COLUMNS, *(f"{n}_{end}" for n in extra for end in ("start", "end"))]


def _activity(name: str) -> str:
    return "LUNCH" if name == "lunch" else "BREAK"


def _ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds of a datetime column (NaT = numpy's NaT integer)."""
    return pd.to_datetime(series).to_numpy(dtype="datetime64[ns]").view("int64")


_NAT = np.datetime64("NaT", "ns").view("int64")


def roster_frame(assigned: pd.DataFrame) -> pd.DataFrame:
    """The roster table from assigned tour rows (an `Assignment.roster`).

    Needs `agent_id, date, shift_start, shift_end, paid_hours, queue`; break and lunch
    columns are optional (missing = none), `break2_start/break2_end`, ... carry further
    breaks. Checks that each break lies inside its shift, that no two breaks (or a break and
    the lunch) overlap, that `date` is the day the shift starts and that an agent's shifts
    do not overlap. Returns a new frame with `roster_columns(...)`, sorted by agent then
    date.
    """
    needed = ("agent_id", "date", "shift_start", "shift_end", "paid_hours", "queue")
    missing = [c for c in needed if c not in assigned.columns]
    if missing:
        raise RosterError(f"roster: missing column(s) {', '.join(missing)}")
    columns = roster_columns(assigned.columns)
    out = pd.DataFrame({"agent_id": assigned["agent_id"].astype("string")})
    out["date"] = pd.to_datetime(assigned["date"]).dt.normalize()
    for col in columns:
        if col in ("agent_id", "date", "paid_hours", "queue"):
            continue
        out[col] = (pd.to_datetime(assigned[col]).astype("datetime64[ns]")
                    if col in assigned.columns
                    else pd.Series(pd.NaT, index=assigned.index, dtype="datetime64[ns]"))
    out["paid_hours"] = assigned["paid_hours"].astype(float)
    out["queue"] = assigned["queue"].astype("string")
    out = out.sort_values(["agent_id", "date"], kind="stable").reset_index(drop=True)
    _check_roster(out)
    return out[columns]


def _fail_first(roster: pd.DataFrame, bad: np.ndarray, message) -> None:
    """Raise for the first row flagged in `bad`; `message(row)` words the rule."""
    if bad.any():
        row = next(roster.iloc[[int(np.flatnonzero(bad)[0])]].itertuples(index=False))
        raise RosterError(f"roster: agent {row.agent_id} on {row.date:%Y-%m-%d}: {message(row)}")


def _check_roster(roster: pd.DataFrame) -> None:
    start, end = _ns(roster["shift_start"]), _ns(roster["shift_end"])
    _fail_first(roster, ~(end > start), lambda r: f"shift_end {r.shift_end} is not after "
                                                  f"shift_start {r.shift_start}")
    day = _ns(roster["shift_start"].dt.normalize())
    _fail_first(roster, day != _ns(roster["date"]),
                lambda r: "date must be the day the shift starts, shift starts "
                          f"{r.shift_start:{TIME_FORMAT}}")
    names = pause_names(roster.columns)
    spans = []
    for name in names:
        p_start, p_end = _ns(roster[f"{name}_start"]), _ns(roster[f"{name}_end"])
        unset_start, unset_end = p_start == _NAT, p_end == _NAT
        _fail_first(roster, unset_start != unset_end,
                    lambda r, n=name: f"{n}_start and {n}_end must be both set or both empty")
        outside = ~unset_start & ~((start <= p_start) & (p_start < p_end) & (p_end <= end))
        _fail_first(roster, outside, lambda r, n=name: (
            f"{n} {getattr(r, f'{n}_start'):{TIME_FORMAT}}-{getattr(r, f'{n}_end'):{TIME_FORMAT}}"
            f" must lie inside the shift {r.shift_start:{TIME_FORMAT}}-"
            f"{r.shift_end:{TIME_FORMAT}}"))
        spans.append((name, p_start, p_end, ~unset_start))
    for i, (a, a_start, a_end, a_set) in enumerate(spans):
        for b, b_start, b_end, b_set in spans[i + 1:]:
            clash = a_set & b_set & (a_start < b_end) & (b_start < a_end)
            _fail_first(roster, clash, lambda r, a=a, b=b: f"{a} and {b} overlap")
    dup = roster.duplicated(["agent_id", "date"]).to_numpy()
    _fail_first(roster, dup, lambda r: "two shifts start on the same day")
    same = roster["agent_id"].eq(roster["agent_id"].shift()).to_numpy()
    prev_end = np.concatenate([[np.iinfo(np.int64).min], end[:-1]])
    _fail_first(roster, same & (start < prev_end),
                lambda r: "shift starts before the agent's previous shift ends")


def _pause_matrix(roster: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, activity codes) of every shift's pauses as (n_shifts, n_pauses) int64
    nanoseconds sorted by start within each shift; a missing pause is an empty span at the
    shift's end, so it adds nothing anywhere."""
    names = pause_names(roster.columns)
    n = len(roster)
    shift_end = _ns(roster["shift_end"])
    if not names:
        return (np.empty((n, 0), np.int64), np.empty((n, 0), np.int64),
                np.empty((n, 0), np.int64))
    starts = np.column_stack([_ns(roster[f"{p}_start"]) for p in names])
    ends = np.column_stack([_ns(roster[f"{p}_end"]) for p in names])
    codes = np.tile([ACTIVITIES.index(_activity(p)) for p in names], (n, 1))
    unset = starts == _NAT
    starts = np.where(unset, shift_end[:, None], starts)
    ends = np.where(unset, shift_end[:, None], ends)
    order = np.argsort(starts, axis=1, kind="stable")
    return (np.take_along_axis(starts, order, 1), np.take_along_axis(ends, order, 1),
            np.take_along_axis(codes, order, 1))


def activities_frame(roster: pd.DataFrame, dates: Sequence | pd.DatetimeIndex,
                     idle_agents: Iterable[str] = ()) -> pd.DataFrame:
    """Contiguous activity segments for every rostered agent over the horizon `dates`.

    roster: a `roster_frame` result. dates: the planned calendar days (the OFF days are
    those among them on which the agent starts no shift). idle_agents: agents with no shift
    at all; they get OFF for every day. Returns `agent_id, start, end, activity` sorted by
    agent then start; an agent's segments never overlap and the WORK, BREAK and LUNCH
    segments of a shift tile it exactly (every break of the shift is one BREAK segment).
    """
    days = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize().unique().sort_values()
    agents = np.array(sorted(set(roster["agent_id"].astype(str)) | set(map(str, idle_agents))),
                      dtype=object)
    agent_of = pd.Index(agents).get_indexer(roster["agent_id"].astype(str))
    shift_start, shift_end = _ns(roster["shift_start"]), _ns(roster["shift_end"])
    p_start, p_end, p_code = _pause_matrix(roster)
    # Shift i is cut at [start, p1, p1', p2, p2', ..., end]: WORK between, pauses inside.
    bounds = np.column_stack([shift_start, np.stack([p_start, p_end], 2).reshape(len(roster), -1),
                              shift_end]) if len(roster) else np.empty((0, 2), np.int64)
    work_lo, work_hi = bounds[:, 0::2], bounds[:, 1::2]
    work = ACTIVITIES.index("WORK")
    seg_agent = [np.repeat(agent_of, work_lo.shape[1]), np.repeat(agent_of, p_start.shape[1])]
    seg_lo = [work_lo.ravel(), p_start.ravel()]
    seg_hi = [work_hi.ravel(), p_end.ravel()]
    seg_code = [np.full(work_lo.size, work), p_code.ravel()]
    if len(days):
        day_ns = days.to_numpy(dtype="datetime64[ns]").view("int64")
        one_day = 24 * 60 * _NS_PER_MIN
        worked = np.zeros((len(agents), len(days)), dtype=bool)
        start_day = np.searchsorted(day_ns, _ns(roster["date"]))
        in_days = (start_day < len(days)) & (day_ns[np.minimum(start_day, len(days) - 1)]
                                             == _ns(roster["date"]))
        worked[agent_of[in_days], start_day[in_days]] = True
        # A shift that started the evening before may still be running at 00:00.
        off_from = np.broadcast_to(day_ns, worked.shape).copy()
        end_day = np.searchsorted(day_ns, shift_end, side="right") - 1
        spills = (end_day >= 0) & (shift_end > day_ns[np.maximum(end_day, 0)])
        np.maximum.at(off_from, (agent_of[spills], end_day[spills]), shift_end[spills])
        off_to = day_ns[None, :] + one_day
        off = ~worked & (off_from < off_to)
        a_idx, d_idx = np.nonzero(off)
        seg_agent.append(a_idx)
        seg_lo.append(off_from[off])
        seg_hi.append(np.broadcast_to(off_to, off.shape)[off])
        seg_code.append(np.full(len(a_idx), ACTIVITIES.index("OFF")))
    agent = np.concatenate(seg_agent)
    lo, hi, code = np.concatenate(seg_lo), np.concatenate(seg_hi), np.concatenate(seg_code)
    keep = hi > lo
    agent, lo, hi, code = agent[keep], lo[keep], hi[keep], code[keep]
    order = np.lexsort((lo, agent))
    agent, lo, hi, code = agent[order], lo[order], hi[order], code[order]
    return pd.DataFrame({
        "agent_id": pd.array(agents[agent] if len(agents) else np.array([], dtype=object),
                             dtype="string"),
        "start": lo.view("datetime64[ns]"), "end": hi.view("datetime64[ns]"),
        "activity": np.array(ACTIVITIES, dtype=object)[code]})


def _fmt_times(series: pd.Series, fmt: str) -> pd.Series:
    """Timestamps as text ("" for NaT) through numpy's ISO writer: strftime per value is
    the slowest part of writing 100,000 shifts."""
    values = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")
    if not len(values):
        return pd.Series([], index=series.index, dtype=object)
    unit = {TIME_FORMAT: "m", DATE_FORMAT: "D"}[fmt]
    text = np.datetime_as_string(values, unit=unit)
    if unit == "m":
        text = np.char.replace(text, "T", " ")
    text = np.where(np.isnat(values), "", text)
    return pd.Series(text.astype(object), index=series.index)


def format_roster(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster as text cells for CSV: minutes-resolution timestamps, empty when none."""
    columns = roster_columns(roster.columns)
    out = pd.DataFrame({"agent_id": roster["agent_id"].astype(str),
                        "date": _fmt_times(roster["date"], DATE_FORMAT)})
    for col in columns:
        if col.endswith(("_start", "_end")):
            out[col] = (_fmt_times(roster[col], TIME_FORMAT) if col in roster.columns
                        else "")
    hours = roster["paid_hours"].astype(float).round(6).to_numpy()
    out["paid_hours"] = np.char.mod("%.10g", hours).astype(object) if len(hours) else []
    out["queue"] = roster["queue"].astype(str)
    return out[columns]


def format_activities(activities: pd.DataFrame) -> pd.DataFrame:
    """The activities as text cells for CSV."""
    return pd.DataFrame({"agent_id": activities["agent_id"].astype(str),
                         "start": _fmt_times(activities["start"], TIME_FORMAT),
                         "end": _fmt_times(activities["end"], TIME_FORMAT),
                         "activity": activities["activity"].astype(str)})


def cover_slots(roster: pd.DataFrame, grid: pd.DataFrame, interval_minutes: int, *,
                cyclic: bool = False, origin: pd.Timestamp | None = None,
                horizon_minutes: int | None = None) -> np.ndarray:
    """Agents at work (on shift, not on any break or lunch) in every sub-slot of every
    interval of `grid`: an array of shape (len(grid), k), k sub-slots per interval.

    grid: rows of `unique_id, ds` (interval starts); roster: rows with `queue, shift_start,
    shift_end` and any pause columns, `queue` naming the grid's `unique_id`. The sub-slot is
    the activity resolution: the largest number of minutes dividing the interval and every
    shift and pause boundary (15 minutes for quarter-hour breaks on a 30-minute grid), so
    the count is exact and constant inside each sub-slot.

    Time is absolute from `origin` (default: midnight of the grid's first day), so a shift
    past midnight covers the next morning. `horizon_minutes` (default: to the end of the
    grid's last interval, whole days when `cyclic`) ends the plan: the part of a shift past
    it is dropped, or when `cyclic` (a roster that repeats, as the model counts it) wraps
    onto the plan's start, so this week's Sunday-night shift covers Monday 00:00.
    """
    ds = pd.to_datetime(grid["ds"])
    n_rows = len(grid)
    if n_rows == 0:
        return np.zeros((0, 1))
    origin = ds.min().normalize() if origin is None else pd.Timestamp(origin)
    origin_ns = origin.value
    row_min = (_ns(ds) - origin_ns) // _NS_PER_MIN
    if horizon_minutes is None:
        horizon_minutes = int(row_min.max()) + interval_minutes
        if cyclic:
            horizon_minutes = math.ceil(horizon_minutes / 1440) * 1440
    lo = [(_ns(roster["shift_start"]) - origin_ns) // _NS_PER_MIN]
    hi = [(_ns(roster["shift_end"]) - origin_ns) // _NS_PER_MIN]
    p_start, p_end, _ = _pause_matrix(roster)
    lo.append((p_start.ravel() - origin_ns) // _NS_PER_MIN)
    hi.append((p_end.ravel() - origin_ns) // _NS_PER_MIN)
    step = int(np.gcd.reduce(np.concatenate(
        [[interval_minutes, horizon_minutes], *lo, *hi, row_min]).astype(np.int64)))
    step = max(step, 1)
    k = interval_minutes // step
    queues = pd.Index(pd.unique(grid["unique_id"].astype(str)))
    q_shift = queues.get_indexer(roster["queue"].astype(str))
    n_pauses = p_start.shape[1]
    q = np.concatenate([q_shift, np.repeat(q_shift, n_pauses)])
    sign = np.concatenate([np.ones(len(roster), np.int64), -np.ones(p_start.size, np.int64)])
    lo_slot, hi_slot = np.concatenate(lo) // step, np.concatenate(hi) // step
    n_slots = horizon_minutes // step
    if cyclic and len(hi_slot):
        # Shift everything into [0, n_slots) first; a span crossing the end wraps below.
        width = np.maximum(hi_slot - lo_slot, 0)
        lo_slot = lo_slot % n_slots
        hi_slot = lo_slot + width
    known = q >= 0
    q, sign, lo_slot, hi_slot = q[known], sign[known], lo_slot[known], hi_slot[known]
    length = max(n_slots, int(hi_slot.max()) if len(hi_slot) else 0) + 1
    diff = np.zeros((len(queues), length + 1), np.int64)
    np.add.at(diff, (q, np.clip(lo_slot, 0, length)), sign)
    np.add.at(diff, (q, np.clip(hi_slot, 0, length)), -sign)
    cover = np.cumsum(diff, axis=1)[:, :length]
    if cyclic:
        folded = cover[:, :n_slots].copy()
        for begin in range(n_slots, length, n_slots):
            part = cover[:, begin:begin + n_slots]
            folded[:, :part.shape[1]] += part
        cover = folded
    else:
        cover = cover[:, :n_slots]
    cover = np.concatenate([cover, np.zeros((len(queues), k), np.int64)], axis=1)
    first = np.clip(row_min // step, 0, n_slots)
    cols = first[:, None] + np.arange(k)[None, :]
    rows = queues.get_indexer(grid["unique_id"].astype(str))
    out = cover[rows[:, None], cols].astype(float)
    out[(row_min < 0) | (row_min >= horizon_minutes)] = 0.0
    return out


def roster_coverage(roster: pd.DataFrame, grid: pd.DataFrame, interval_minutes: int, *,
                    cyclic: bool = False, statistic: str = "mean") -> pd.Series:
    """Agents at work in each interval of `grid` (see `cover_slots` for the arguments):
    `statistic` "mean" is the interval average (an agent at work for part of an interval
    counts for that share, as the shift model counts), "min" the fewest agents at work at
    any moment of the interval (what coverage.csv reports as `scheduled`). Returns a float
    Series aligned with `grid`'s index."""
    if statistic not in ("mean", "min"):
        raise ValueError(f"statistic must be 'mean' or 'min', got {statistic!r}")
    slots = cover_slots(roster, grid, interval_minutes, cyclic=cyclic)
    values = slots.mean(axis=1) if statistic == "mean" else slots.min(axis=1)
    return pd.Series(values, index=grid.index, dtype=float)


def read_roster(path: str | Path) -> pd.DataFrame:
    """Read a roster.csv written earlier (e.g. last week's, as assignment history),
    including any `break2_start, break2_end, ...` columns of further breaks."""
    path = Path(path)
    raw = read_table(path, "roster file", error=RosterError, required=ROSTER_COLUMNS,
                     hint=f"; a roster has {', '.join(ROSTER_COLUMNS)}").frame
    columns = roster_columns(raw.columns)
    absent = [c for c in columns if c not in raw.columns]
    if absent:
        raise RosterError(f"{path}: column(s) {', '.join(absent)} missing beside their pair")
    frame = raw[columns].copy()
    for col in ("date", *(c for c in columns if c.endswith(("_start", "_end")))):
        parsed = pd.to_datetime(frame[col].replace("", None), errors="coerce", format="mixed")
        bad = parsed.isna() & (frame[col] != "")
        if col in ("date", "shift_start", "shift_end"):
            bad |= frame[col] == ""
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RosterError(f"{path}: data row {i + 1} (line {i + 2}), column {col!r}: "
                              f"cannot read {frame[col].iloc[i]!r} as a timestamp")
        frame[col] = parsed
    paid = pd.to_numeric(frame["paid_hours"], errors="coerce")
    if paid.isna().any():
        i = int(np.flatnonzero(paid.isna())[0])
        raise RosterError(f"{path}: data row {i + 1} (line {i + 2}), column 'paid_hours': "
                          f"must be a number, got {frame['paid_hours'].iloc[i]!r}")
    frame["paid_hours"] = paid.astype(float)
    return roster_frame(frame)

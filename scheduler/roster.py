"""Roster and activity tables: the plan in the shapes workforce tools import.

`roster_frame` gives one row per agent and worked day (`agent_id, date, shift_start,
shift_end, break_start, break_end, lunch_start, lunch_end, paid_hours, queue`).
`activities_frame` cuts each agent's horizon into contiguous segments `agent_id, start,
end, activity` with activity WORK, BREAK, LUNCH or OFF: a shift becomes WORK pieces around
its break and lunch, and each day of the horizon without a shift start is one OFF segment
from 00:00 to the next 00:00 (starting later when the previous night's shift runs past
midnight, so that segments never overlap). `format_roster` / `format_activities` render
them as text for CSV (`YYYY-MM-DD HH:MM` timestamps, `YYYY-MM-DD` dates, empty when none).

All timestamps are naive local wall-clock time; hours are hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scheduler.errors import SchedulerError

ROSTER_COLUMNS = ("agent_id", "date", "shift_start", "shift_end", "break_start", "break_end",
                  "lunch_start", "lunch_end", "paid_hours", "queue")
ACTIVITY_COLUMNS = ("agent_id", "start", "end", "activity")
ACTIVITIES = ("WORK", "BREAK", "LUNCH", "OFF")
_TIMES = ("shift_start", "shift_end", "break_start", "break_end", "lunch_start", "lunch_end")
TIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"


class RosterError(SchedulerError):
    """A roster row is inconsistent (a break outside its shift, two shifts overlapping...)."""


def roster_frame(assigned: pd.DataFrame) -> pd.DataFrame:
    """The roster table from assigned tour rows (an `Assignment.roster`).

    Needs `agent_id, date, shift_start, shift_end, paid_hours, queue`; break and lunch
    columns are optional (missing = none). Checks that each break lies inside its shift,
    that break and lunch do not overlap, that `date` is the day the shift starts and that
    an agent's shifts do not overlap. Returns a new frame with exactly `ROSTER_COLUMNS`,
    sorted by agent then date.
    """
    needed = ("agent_id", "date", "shift_start", "shift_end", "paid_hours", "queue")
    missing = [c for c in needed if c not in assigned.columns]
    if missing:
        raise RosterError(f"roster: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame({"agent_id": assigned["agent_id"].astype("string")})
    out["date"] = pd.to_datetime(assigned["date"]).dt.normalize()
    for col in _TIMES:
        out[col] = (pd.to_datetime(assigned[col]) if col in assigned.columns
                    else pd.Series(pd.NaT, index=assigned.index, dtype="datetime64[ns]"))
    out["paid_hours"] = assigned["paid_hours"].astype(float)
    out["queue"] = assigned["queue"].astype("string")
    out = out.sort_values(["agent_id", "date"], kind="stable").reset_index(drop=True)
    _check_roster(out)
    return out[list(ROSTER_COLUMNS)]


def _where(row) -> str:
    return f"roster: agent {row.agent_id} on {row.date:%Y-%m-%d}"


def _check_roster(roster: pd.DataFrame) -> None:
    for row in roster.itertuples(index=False):
        if not row.shift_end > row.shift_start:
            raise RosterError(f"{_where(row)}: shift_end {row.shift_end} is not after "
                              f"shift_start {row.shift_start}")
        if row.shift_start.normalize() != row.date:
            raise RosterError(f"{_where(row)}: date must be the day the shift starts, shift "
                              f"starts {row.shift_start:{TIME_FORMAT}}")
        pieces = []
        for kind in ("break", "lunch"):
            start, end = getattr(row, f"{kind}_start"), getattr(row, f"{kind}_end")
            if pd.isna(start) != pd.isna(end):
                raise RosterError(f"{_where(row)}: {kind}_start and {kind}_end must be both "
                                  "set or both empty")
            if pd.isna(start):
                continue
            if not (row.shift_start <= start < end <= row.shift_end):
                raise RosterError(f"{_where(row)}: {kind} {start:{TIME_FORMAT}}-"
                                  f"{end:{TIME_FORMAT}} must lie inside the shift "
                                  f"{row.shift_start:{TIME_FORMAT}}-{row.shift_end:{TIME_FORMAT}}")
            pieces.append((start, end))
        if len(pieces) == 2 and pieces[0][0] < pieces[1][1] and pieces[1][0] < pieces[0][1]:
            raise RosterError(f"{_where(row)}: break and lunch overlap")
    dup = roster.duplicated(["agent_id", "date"])
    if dup.any():
        row = next(roster[dup].itertuples(index=False))
        raise RosterError(f"{_where(row)}: two shifts start on the same day")
    same = roster["agent_id"].eq(roster["agent_id"].shift())
    overlap = same & (roster["shift_start"] < roster["shift_end"].shift())
    if overlap.any():
        row = next(roster[overlap].itertuples(index=False))
        raise RosterError(f"{_where(row)}: shift starts before the agent's previous shift ends")


def activities_frame(roster: pd.DataFrame, dates: Sequence | pd.DatetimeIndex,
                     idle_agents: Iterable[str] = ()) -> pd.DataFrame:
    """Contiguous activity segments for every rostered agent over the horizon `dates`.

    roster: a `roster_frame` result. dates: the planned calendar days (the OFF days are
    those among them on which the agent starts no shift). idle_agents: agents with no shift
    at all; they get OFF for every day. Returns `agent_id, start, end, activity` sorted by
    agent then start; an agent's segments never overlap and the WORK, BREAK and LUNCH
    segments of a shift tile it exactly.
    """
    days = pd.DatetimeIndex(pd.to_datetime(list(dates))).normalize().unique().sort_values()
    one_day = pd.Timedelta(days=1)
    records: list[tuple[str, pd.Timestamp, pd.Timestamp, str]] = []
    by_agent = {a: g for a, g in roster.groupby("agent_id", sort=True)}
    agents = sorted(set(by_agent) | set(map(str, idle_agents)))
    for agent in agents:
        shifts = by_agent.get(agent, roster.iloc[:0])
        worked = set(shifts["date"])
        ends = shifts["shift_end"].to_numpy(dtype="datetime64[ns]")
        for row in shifts.itertuples(index=False):
            cursor = row.shift_start
            pauses = sorted(
                (getattr(row, f"{k}_start"), getattr(row, f"{k}_end"), k.upper())
                for k in ("break", "lunch") if pd.notna(getattr(row, f"{k}_start")))
            for start, end, kind in pauses:
                if start > cursor:
                    records.append((agent, cursor, start, "WORK"))
                records.append((agent, start, end, kind))
                cursor = end
            if row.shift_end > cursor:
                records.append((agent, cursor, row.shift_end, "WORK"))
        for day in days:
            if day in worked:
                continue
            # A shift that started the evening before may still be running at 00:00.
            spill = ends[(ends > np.datetime64(day)) & (ends < np.datetime64(day + one_day))]
            start = max([day, *map(pd.Timestamp, spill)])
            if start < day + one_day:
                records.append((agent, start, day + one_day, "OFF"))
    out = pd.DataFrame.from_records(records, columns=list(ACTIVITY_COLUMNS))
    out["agent_id"] = out["agent_id"].astype("string")
    out["start"] = pd.to_datetime(out["start"])
    out["end"] = pd.to_datetime(out["end"])
    return out.sort_values(["agent_id", "start"], kind="stable").reset_index(drop=True)


def _fmt_times(series: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(series).dt.strftime(fmt).fillna("")


def format_roster(roster: pd.DataFrame) -> pd.DataFrame:
    """The roster as text cells for CSV: minutes-resolution timestamps, empty when none."""
    out = pd.DataFrame({"agent_id": roster["agent_id"].astype(str),
                        "date": _fmt_times(roster["date"], DATE_FORMAT)})
    for col in _TIMES:
        out[col] = _fmt_times(roster[col], TIME_FORMAT)
    out["paid_hours"] = [f"{h:.10g}" for h in roster["paid_hours"].astype(float).round(6)]
    out["queue"] = roster["queue"].astype(str)
    return out[list(ROSTER_COLUMNS)]


def format_activities(activities: pd.DataFrame) -> pd.DataFrame:
    """The activities as text cells for CSV."""
    return pd.DataFrame({"agent_id": activities["agent_id"].astype(str),
                         "start": _fmt_times(activities["start"], TIME_FORMAT),
                         "end": _fmt_times(activities["end"], TIME_FORMAT),
                         "activity": activities["activity"].astype(str)})


def roster_coverage(roster: pd.DataFrame, grid: pd.DataFrame, interval_minutes: int) -> pd.Series:
    """Agents at work (on shift and not on break or lunch) in each interval of `grid`.

    grid: rows of `unique_id, ds` (interval starts); roster: a `roster_frame` result whose
    `queue` names the grid's `unique_id`. An agent at work for part of an interval counts
    for that share of it. Time is absolute, so a shift past midnight covers the next
    morning. Returns a float Series aligned with `grid`'s index.
    """
    width = pd.Timedelta(minutes=interval_minutes)
    ds = pd.to_datetime(grid["ds"])
    origin = ds.min().normalize() if len(ds) else pd.Timestamp(0)
    keys = pd.MultiIndex.from_arrays([grid["unique_id"].astype(str),
                                      ((ds - origin) // width).astype(int)])
    cover: dict[tuple[str, int], float] = {}
    for row in roster.itertuples(index=False):
        pauses = sorted((getattr(row, f"{k}_start"), getattr(row, f"{k}_end"))
                        for k in ("break", "lunch") if pd.notna(getattr(row, f"{k}_start")))
        cursor, pieces = row.shift_start, []
        for start, end in pauses:
            pieces.append((cursor, start))
            cursor = end
        pieces.append((cursor, row.shift_end))
        for start, end in pieces:
            first = (start - origin) // width
            last = -((origin - end) // width)  # ceiling division on Timedeltas
            for cell in range(first, last):
                lo = max(start, origin + cell * width)
                hi = min(end, origin + (cell + 1) * width)
                if hi > lo:
                    key = (str(row.queue), cell)
                    cover[key] = cover.get(key, 0.0) + (hi - lo) / width
    values = [cover.get(k, 0.0) for k in keys]
    return pd.Series(values, index=grid.index, dtype=float)


def read_roster(path: str | Path) -> pd.DataFrame:
    """Read a roster.csv written earlier (e.g. last week's, as assignment history)."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: roster file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from exc
    missing = [c for c in ROSTER_COLUMNS if c not in raw.columns]
    if missing:
        raise RosterError(f"{path}: missing column(s) {', '.join(missing)}; a roster has "
                          f"{', '.join(ROSTER_COLUMNS)}")
    frame = raw[list(ROSTER_COLUMNS)].copy()
    for col in ("date", *_TIMES):
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

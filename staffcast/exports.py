"""Files planners import elsewhere, written beside roster.csv by `plan` and `schedule`.

- `roster.xlsx`: one sheet per week (agents down, days across; each cell the shift with
  its break and lunch, blank on a day off) and a `coverage` sheet (coverage.csv's rows).
- `agents/<agent_id>.ics`: one iCalendar file per agent, one event per shift (breaks in
  the description), in floating local time as the roster is (RFC 5545 section 3.3.5).
- `wfm_import.csv`: the long interval table WFM suites import: `interval_start, queue,
  interval_minutes, volume, aht_s, required_agents`.

Times are the roster's naive local wall-clock times; volumes are contacts per interval,
AHT in seconds, required agents at work (after shrinkage) per interval.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from staffcast.errors import StaffcastError
from staffcast.outputs import atomic_write_bytes, atomic_write_text

WORKBOOK = "roster.xlsx"
CALENDAR_FOLDER = "agents"
WFM_IMPORT = "wfm_import.csv"
WFM_COLUMNS = ("interval_start", "queue", "interval_minutes", "volume", "aht_s",
               "required_agents")
EXPORT_FILES = (WORKBOOK, CALENDAR_FOLDER, WFM_IMPORT)
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ExportError(StaffcastError):
    """An export cannot be written from the given plan (e.g. two agent ids that map to
    one calendar file name)."""


def _hm(start: pd.Timestamp, end: pd.Timestamp, day: pd.Timestamp) -> str:
    """'08:00-16:30', with '+1' when the end falls on the next day."""
    later = (end.normalize() - day.normalize()).days
    return f"{start:%H:%M}-{end:%H:%M}" + (f"+{later}" if later > 0 else "")


def shift_cell(row) -> str:
    """A roster row as one grid cell: the shift, then its break and lunch on new lines."""
    lines = [_hm(row.shift_start, row.shift_end, row.date)]
    for kind in ("break", "lunch"):
        start, end = getattr(row, f"{kind}_start"), getattr(row, f"{kind}_end")
        if pd.notna(start):
            lines.append(f"{kind} {_hm(start, end, row.date)}")
    return "\n".join(lines)


def week_grids(roster: pd.DataFrame, first_day: pd.Timestamp | None = None
               ) -> dict[pd.Timestamp, pd.DataFrame]:
    """{first day of week: grid}; a grid has one row per agent of that week (index
    agent_id), the columns `queue`, `paid_hours` and one per day (`Mon 2026-11-09`) holding
    `shift_cell` text or '' on a day off. Weeks run seven days from `first_day` (default:
    the roster's first date)."""
    frame = roster.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    origin = (frame["date"].min() if first_day is None else pd.Timestamp(first_day)).normalize()
    week_no = (frame["date"] - origin).dt.days // 7
    grids = {}
    for week, rows in frame.groupby(week_no, sort=True):
        start = origin + pd.Timedelta(days=7 * int(week))
        days = [start + pd.Timedelta(days=i) for i in range(7)]
        labels = [f"{_DAYS[d.weekday()]} {d:%Y-%m-%d}" for d in days]
        agents = sorted(rows["agent_id"].astype(str).unique())
        grid = pd.DataFrame("", index=pd.Index(agents, name="agent_id"), columns=labels)
        queues = rows.groupby(rows["agent_id"].astype(str))["queue"].agg(
            lambda q: ";".join(sorted(set(map(str, q)))))
        grid.insert(0, "queue", queues.reindex(agents).to_numpy())
        grid.insert(1, "paid_hours", rows.groupby(rows["agent_id"].astype(str))["paid_hours"]
                    .sum().reindex(agents).to_numpy(dtype=float))
        for row in rows.itertuples(index=False):
            label = labels[(row.date - start).days]
            cell = grid.at[str(row.agent_id), label]
            grid.at[str(row.agent_id), label] = (f"{cell}\n" if cell else "") + shift_cell(row)
        grids[start] = grid
    return grids


def roster_workbook(roster: pd.DataFrame, coverage: pd.DataFrame,
                    first_day: pd.Timestamp | None = None) -> bytes:
    """The bytes of roster.xlsx: a sheet `Week YYYY-MM-DD` per week of `week_grids`, and
    a `coverage` sheet with coverage.csv's columns (ds as a date-time cell)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.active)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for start, grid in week_grids(roster, first_day).items():
        sheet = book.create_sheet(f"Week {start:%Y-%m-%d}")
        sheet.append(["agent_id", *grid.columns])
        for agent, values in grid.iterrows():
            sheet.append([agent, *[v.item() if hasattr(v, "item") else v for v in values]])
        for cell in sheet[1]:
            cell.font = bold
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = wrap
        sheet.freeze_panes = "B2"
        for letter, width in zip("ABCDEFGHIJ", (14, 12, 11, *[20] * 7)):
            sheet.column_dimensions[letter].width = width
    sheet = book.create_sheet("coverage")
    columns = ["unique_id", "ds", "required", "scheduled", "shortfall", "service_level"]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = bold
    cov = coverage[columns].copy()
    cov["ds"] = pd.to_datetime(cov["ds"])
    for row in cov.itertuples(index=False):
        values = [str(row.unique_id), row.ds.to_pydatetime(),
                  *[None if pd.isna(v) else float(v) for v in row[2:]]]
        sheet.append(values)
    for cell in sheet["B"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.column_dimensions["B"].width = 17
    sheet.freeze_panes = "A2"
    # Fixed document times keep the bytes a function of the plan alone.
    stamp = dt.datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def calendar_file_name(agent_id: str) -> str:
    """`<agent_id>.ics` with any character other than letters, digits, '.', '_', '-'
    replaced by '_' (an id must not reach outside the agents/ folder)."""
    name = _SAFE_ID.sub("_", str(agent_id)).lstrip(".") or "_"
    return f"{name}.ics"


def agent_calendars(roster: pd.DataFrame, *, stamp: dt.datetime | None = None,
                    plan_name: str = "staffcast roster") -> dict[str, bytes]:
    """{file name: iCalendar bytes}, one calendar per agent with one VEVENT per shift:
    SUMMARY `Shift <queue>`, DTSTART/DTEND the shift in floating local time, DESCRIPTION
    the break and lunch times and paid hours, UID `<agent>-<shift start>@staffcast`.
    `stamp` (UTC) is every event's DTSTAMP (default: now)."""
    from icalendar import Calendar, Event

    stamp = stamp or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    files: dict[str, bytes] = {}
    owners: dict[str, str] = {}
    for agent, rows in roster.groupby(roster["agent_id"].astype(str), sort=True):
        name = calendar_file_name(agent)
        if name in owners:
            raise ExportError(f"agents {owners[name]!r} and {agent!r} would share the calendar "
                              f"file {CALENDAR_FOLDER}/{name}; make the agent ids differ in "
                              "letters, digits, '.', '_' or '-'")
        owners[name] = agent
        cal = Calendar()
        cal.add("prodid", "-//staffcast//roster export//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", f"{plan_name}: {agent}")
        for row in rows.sort_values("shift_start").itertuples(index=False):
            event = Event()
            event.add("uid", f"{agent}-{row.shift_start:%Y%m%dT%H%M}@staffcast")
            event.add("dtstamp", stamp)
            event.add("dtstart", row.shift_start.to_pydatetime())
            event.add("dtend", row.shift_end.to_pydatetime())
            event.add("summary", f"Shift {row.queue}")
            notes = [f"paid hours: {float(row.paid_hours):g}"]
            for kind in ("break", "lunch"):
                start, end = getattr(row, f"{kind}_start"), getattr(row, f"{kind}_end")
                if pd.notna(start):
                    notes.append(f"{kind}: {start:%H:%M}-{end:%H:%M}")
            event.add("description", "\n".join(notes))
            event.add("categories", ["WORK"])
            cal.add_component(event)
        files[name] = cal.to_ical()
    return files


def wfm_import_frame(requirement: pd.DataFrame, interval_minutes: int) -> pd.DataFrame:
    """The requirement in WFM import columns (`WFM_COLUMNS`), sorted by interval then
    queue: volume in contacts per interval, aht_s in seconds, required_agents the agents
    at work the interval needs (`agents_required`). A requirement without volume or
    aht_s (a hand-made file given to `schedule`) leaves those cells empty."""
    def column(name: str, digits: int) -> pd.Series:
        if name not in requirement:
            return pd.Series(float("nan"), index=requirement.index)
        return pd.to_numeric(requirement[name], errors="coerce").astype(float).round(digits)

    out = pd.DataFrame({
        "interval_start": pd.to_datetime(requirement["ds"]).dt.strftime("%Y-%m-%d %H:%M"),
        "queue": requirement["unique_id"].astype(str),
        "interval_minutes": int(interval_minutes),
        "volume": column("volume", 4),
        "aht_s": column("aht_s", 2),
        "required_agents": requirement["agents_required"].astype(float),
    })
    return out.sort_values(["interval_start", "queue"], kind="stable").reset_index(drop=True)


def write_exports(folder: str | Path, *, roster: pd.DataFrame, coverage: pd.DataFrame,
                  requirement: pd.DataFrame, interval_minutes: int,
                  first_day: pd.Timestamp | None = None) -> Mapping[str, Path]:
    """Write roster.xlsx, agents/<id>.ics and wfm_import.csv into `folder`, each file
    atomically; returns {relative name: path}."""
    folder = Path(folder)
    written = {WORKBOOK: atomic_write_bytes(folder / WORKBOOK,
                                            roster_workbook(roster, coverage, first_day))}
    for name, data in agent_calendars(roster).items():
        written[f"{CALENDAR_FOLDER}/{name}"] = atomic_write_bytes(
            folder / CALENDAR_FOLDER / name, data)
    frame = wfm_import_frame(requirement, interval_minutes)
    written[WFM_IMPORT] = atomic_write_text(folder / WFM_IMPORT, frame.to_csv(index=False))
    return written

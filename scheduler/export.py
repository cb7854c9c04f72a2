"""Atomic file output: a reader never sees a half-written file.

Every file is written to a temporary sibling in the same directory and renamed into place,
so a crash leaves either the old file or the new one, never a truncated one.
`write_schedule_outputs` writes a schedule's whole set of files that way.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _new_temp(folder: Path, name: str) -> tuple[int, str]:
    """(fd, path) of a new temporary sibling `.name.<random>.tmp`, created mode 0666 minus
    the umask like any `open()`ed file (mkstemp would make it 0600)."""
    while True:
        tmp = str(folder / f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, creating parent folders; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temp(target.parent, target.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write `frame` as CSV (no index, ISO timestamps) to `path` atomically."""
    return atomic_write_text(path, frame.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S"))


SCHEDULE_FILES = ("roster.csv", "activities.csv", "coverage.csv", "summary.json")
PLAN_FILES = ("roster.csv", "activities.csv", "coverage.csv", "unassigned_tours.csv")
"""Files that describe a plan: a run leaves none of them behind from an earlier run unless
it wrote them itself."""
SUMMARY_KEYS = ("status", "objective", "lp_bound", "mip_gap", "solve_seconds", "solver",
                "paid_hours", "labour_cost", "shortfall_agent_hours", "service_level_by_day")
SUMMARY_STATUSES = ("optimal", "feasible", "infeasible", "error")
COVERAGE_COLUMNS = ("unique_id", "ds", "required", "scheduled", "shortfall", "service_level")


def _plain(value: Any) -> Any:
    """JSON-ready copy of `value`: numpy scalars to Python, NaN/inf to None, dates to ISO."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    if value is pd.NaT or value is None:
        return None
    return value


def _text_csv(cells: pd.DataFrame, chunk_rows: int = 100_000) -> str:
    """CSV of a frame of text cells, as `to_csv(index=False)` writes it. Cells needing no
    quoting (the usual case) are joined directly, chunk by chunk to bound memory, several
    times faster than pandas' writer on a million activity rows; a frame with any cell that
    needs quoting goes through pandas."""
    header = [str(c) for c in cells.columns]
    parts = [",".join(header) + "\n"]
    for lo in range(0, len(cells), chunk_rows):
        columns = [cells[c].iloc[lo:lo + chunk_rows].astype(str).tolist() for c in cells.columns]
        if any(ch in "".join(col) for col in (header, *columns) for ch in ',"\n\r'):
            return cells.to_csv(index=False)
        parts.append("\n".join(map(",".join, zip(*columns))) + "\n")
    return "".join(parts)


def _coverage_text(coverage: pd.DataFrame) -> str:
    missing = [c for c in COVERAGE_COLUMNS if c not in coverage.columns]
    if missing:
        raise ValueError(f"coverage: missing column(s) {', '.join(missing)}")
    # The contract's six columns first, then any added ones (scheduled_mean, ...).
    frame = coverage[[*COVERAGE_COLUMNS,
                      *(c for c in coverage.columns if c not in COVERAGE_COLUMNS)]].copy()
    frame["ds"] = pd.to_datetime(frame["ds"]).dt.strftime("%Y-%m-%d %H:%M")
    return frame.to_csv(index=False)



def write_schedule_outputs(out_dir: str | os.PathLike[str], *, summary: Mapping[str, Any],
                           roster: pd.DataFrame | None = None,
                           activities: pd.DataFrame | None = None,
                           coverage: pd.DataFrame | None = None,
                           extra_files: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write a schedule's outputs into `out_dir`; return {file name: path}.

    roster / activities: `staffcast.scheduler.roster` frames, written with minute timestamps and empty
    cells where there is no break. coverage: `unique_id, ds, required, scheduled, shortfall,
    service_level` first, then any further columns it has (`scheduled_mean`,
    `shortfall_agent_hours` from `staffcast.scheduler.plan.written_plan`). summary: must hold `SUMMARY_KEYS`; written as indented JSON with NaN as
    null. extra_files: more {file name: text} to write alongside (e.g. the resolved config).

    Every file is first written to a temporary name in `out_dir`; only when all of them were
    written are they renamed into place, so a failure leaves no half-written file and no
    mix of old and new outputs from a partial write. A plan-less run (status infeasible or
    error) passes no roster, activities or coverage. Any of `PLAN_FILES` this call does not
    write is removed from `out_dir`, so an earlier run's plan cannot pass for this one's.
    """
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise ValueError(f"summary: missing key(s) {', '.join(missing)}")
    if summary["status"] not in SUMMARY_STATUSES:
        raise ValueError(f"summary: status must be one of {', '.join(SUMMARY_STATUSES)}, "
                         f"got {summary['status']!r}")
    has_plan = summary["status"] in ("optimal", "feasible")
    frames = {"roster.csv": roster, "activities.csv": activities, "coverage.csv": coverage}
    if has_plan and any(f is None for f in frames.values()):
        raise ValueError(f"status {summary['status']!r} needs roster, activities and coverage")
    if not has_plan and any(f is not None for f in frames.values()):
        raise ValueError(f"status {summary['status']!r} has no plan: pass no roster, "
                         "activities or coverage")
    from .roster import format_activities, format_roster

    texts: dict[str, str] = {}
    if has_plan:
        texts["roster.csv"] = _text_csv(format_roster(roster))
        texts["activities.csv"] = _text_csv(format_activities(activities))
        texts["coverage.csv"] = _coverage_text(coverage)
    texts["summary.json"] = json.dumps(_plain(summary), indent=2, allow_nan=False) + "\n"
    for name, text in (extra_files or {}).items():
        if name in texts or Path(name).name != name or name.startswith("."):
            raise ValueError(f"extra_files: {name!r} must be a plain file name other than "
                             f"{', '.join(SCHEDULE_FILES)}")
        texts[name] = text

    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, str]] = []
    try:
        for name, text in texts.items():
            fd, tmp = _new_temp(target, name)
            staged.append((tmp, name))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for name in PLAN_FILES:
            if name not in texts:
                (target / name).unlink(missing_ok=True)
        for tmp, name in staged:
            os.replace(tmp, target / name)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    return {name: target / name for name in texts}

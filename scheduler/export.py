"""Atomic file output: a reader never sees a half-written file.

Every file is written to a temporary sibling in the same directory and renamed into place,
so a crash leaves either the old file or the new one, never a truncated one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, creating parent folders; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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

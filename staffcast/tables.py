"""Checking the long CSV tables the step commands exchange (forecast, requirement).

Files are read by the one table reader (`staffcast.tableio.read_table`); this module checks what
every `unique_id, ds, ...` table shares, so a bad file gets the same kind of error
whichever command reads it: the file, the data row (1 = first row under the header, with
its line number), the column, the rule and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from staffcast.errors import StaffcastError
from staffcast.tableio.reader import read_table


class TableError(StaffcastError):
    """A CSV table breaks its contract; the message names file, row, column and value."""


def row_at(path: Path, label: int, column: str) -> str:
    """'<file>: data row N (line N+1), column <c>' for the row with index `label`."""
    return f"{path}: data row {label + 1} (line {label + 2}), column {column!r}"


def _first(mask: pd.Series) -> int:
    return int(mask.index[mask.to_numpy()][0])


def read_keyed_csv(path: str | Path, what: str, required: Sequence[str],
                   hint: str = "") -> pd.DataFrame:
    """Read a `unique_id, ds, ...` CSV as text and check the shared rules.

    Returns the rows with `unique_id` stripped (pandas string), `ds` parsed as naive local
    time, every other column still text, and the index = data row number - 1. `what` names
    the table in errors ("forecast file"); `hint` is added to a missing-column error.
    """
    path = Path(path)
    raw = read_table(path, what, error=TableError, required=("unique_id", "ds", *required),
                     hint=hint).frame
    if raw.empty:
        raise TableError(f"{path}: no data rows")
    frame = raw.copy()
    frame["unique_id"] = frame["unique_id"].str.strip()
    blank = frame["unique_id"] == ""
    if blank.any():
        raise TableError(f"{row_at(path, _first(blank), 'unique_id')}: must not be blank")
    ds = pd.to_datetime(frame["ds"], errors="coerce", format="mixed")
    if ds.isna().any():
        i = _first(ds.isna())
        raise TableError(f"{row_at(path, i, 'ds')}: cannot read {frame['ds'].loc[i]!r} as a "
                         "timestamp (use YYYY-MM-DD HH:MM, naive local time)")
    if ds.dt.tz is not None:
        raise TableError(f"{path}: column 'ds' must be naive local time, got "
                         f"{frame['ds'].iloc[0]!r} with a UTC offset")
    frame["ds"] = ds
    frame["unique_id"] = frame["unique_id"].astype("string")
    return frame


def numeric_column(frame: pd.DataFrame, path: Path, column: str, *, required: bool = True,
                   min_value: float | None = None) -> pd.Series:
    """Column `column` of a `read_keyed_csv` frame as float64; blank cells are NaN unless
    `required`. A non-number, a non-finite value or one below `min_value` is an error."""
    text = frame[column].str.strip()
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce").astype(float)
    bad = (values.isna() & (text != "")) | np.isinf(values)
    rule = "a finite number"
    if required:
        bad |= values.isna()
    if min_value is not None:
        bad |= values < min_value
        rule = f"a number >= {min_value:g}"
    if bad.any():
        i = _first(bad)
        raise TableError(f"{row_at(path, i, column)}: must be {rule}, got "
                         f"{frame[column].loc[i]!r}")
    return values


def check_unique_keys(frame: pd.DataFrame, path: Path) -> None:
    """Each (unique_id, ds) may appear once."""
    dup = frame.duplicated(["unique_id", "ds"])
    if dup.any():
        i = _first(dup)
        raise TableError(f"{row_at(path, i, 'ds')}: queue {frame['unique_id'].loc[i]!r} has "
                         f"{frame['ds'].loc[i]:%Y-%m-%d %H:%M} twice")

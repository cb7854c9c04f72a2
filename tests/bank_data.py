"""The real bank call-centre data of ../shared/data as the tests load it: hourly calls,
weekdays 07:00-21:05, six absent weekdays as closures (see ../shared/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from staffcast.forecasting.calendar import Calendar, load_calendar
from staffcast.forecasting.core import QueueSettings
from staffcast.forecasting.data import validate_history

HOURLY = "bank_calls_hourly_2003.csv"
CLOSED_DAYS = ("2003-04-04", "2003-04-07", "2003-05-26", "2003-07-04", "2003-09-01",
               "2003-10-14")
WEEKDAYS_7_TO_21_05 = tuple([((7 * 60, 21 * 60 + 5),)] * 5 + [()] * 2)
QUEUE_SETTINGS = {"default": QueueSettings(opening_hours=WEEKDAYS_7_TO_21_05)}
CONFIG_YAML = "queues:\n  default:\n    opening_hours: {mon-fri: '07:00-21:05'}\n"
CALENDAR_CSV = "event,start,end,kind,unique_id\n" + "".join(
    f"closed,{day},{day},closure,\n" for day in CLOSED_DAYS)


def raw_rows(folder: Path) -> pd.DataFrame:
    """The published rows as `ds, y` (calls per hour), open hours of open days only."""
    return pd.read_csv(folder / HOURLY, parse_dates=["DateTime"]).rename(
        columns={"DateTime": "ds", "Calls": "y"})


def bank_history(folder: Path, tmp: Path) -> tuple[pd.DataFrame, Calendar]:
    """(history on the full hourly grid, closed hours zero; the closure calendar)."""
    calendar_path = tmp / "bank_closures.csv"
    calendar_path.write_text(CALENDAR_CSV)
    calendar = load_calendar(calendar_path, country=None)
    history = validate_history(raw_rows(folder), str(folder / HOURLY),
                               opening_hours={"default": WEEKDAYS_7_TO_21_05},
                               closed_dates=calendar.closed_hours)
    return history, calendar

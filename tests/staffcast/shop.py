"""A tiny shop for CLI round trips: four weeks of one chat queue open 08:00-20:00."""

from pathlib import Path

import numpy as np
import pandas as pd


# One chat queue, histavg forecasts (fast), hourly intervals, one 6 h shift family.
SMALL_SHOP_CONFIG = """
queues:
  chat:
    opening_hours: "08:00-20:00"
    aht_s: 300
    sl_target: 0.8
    sl_seconds: 20
    min_agents: 1
forecast: {model: histavg, country: none}
schedule:
  interval_minutes: 60
  shortfall_penalty: 500
  headcount: {full_time: 30}
  families:
    - {name: day, contract: full_time, paid_hours: 6, earliest_start: "08:00",
       latest_start: "14:00", start_step_minutes: 60, cost_per_hour: 20, days_per_week: 5,
       breaks: [{name: break, length_minutes: 60, earliest_offset_minutes: 120,
                 latest_offset_minutes: 240, paid: true}]}
"""


def write_small_shop(folder: Path, config_text: str) -> Path:
    """Write `history.csv` (fixed daily shape, quieter weekends; ends Sunday 2026-11-08
    23:00) and `config.yaml` into `folder`; return the folder."""
    ds = pd.date_range("2026-10-12", "2026-11-08 23:00", freq="h")
    hour, weekday = ds.hour.to_numpy(), ds.day_of_week.to_numpy()
    y = np.where((hour >= 8) & (hour < 20), 20 + 10 * np.sin((hour - 8) / 12 * np.pi), 0.0)
    y = y * np.where(weekday >= 5, 0.5, 1.0)
    pd.DataFrame({"unique_id": "chat", "ds": ds, "y": y.round()}).to_csv(
        folder / "history.csv", index=False)
    (folder / "config.yaml").write_text(config_text)
    return folder

"""A tiny shop for CLI round trips: four weeks of one chat queue open 08:00-20:00."""

from pathlib import Path

import numpy as np
import pandas as pd


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

"""`staffcast reforecast` on half-hourly history: rows from a half-hour --as-of, every
30 minutes, rescaled by the half hours seen."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

from staffcast.cli import main

DAY = pd.Timestamp("2026-11-11")


def test_half_hourly_reforecast(tmp_path):
    ds = pd.date_range("2026-10-19", "2026-11-11 13:30", freq="30min")
    hour = ds.hour.to_numpy()
    usual = np.where((hour >= 8) & (hour < 20), 10.0, 0.0)
    y = usual * np.where(ds >= DAY, 1.5, 1.0)
    pd.DataFrame({"unique_id": "chat", "ds": ds, "y": y}).to_csv(tmp_path / "h.csv",
                                                                  index=False)
    (tmp_path / "c.yaml").write_text("queues:\n  chat:\n    opening_hours: '08:00-20:00'\n"
                                     "forecast:\n  model: histavg\n  country: none\n")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["reforecast", "--history", str(tmp_path / "h.csv"),
                                       "--as-of", "2026-11-11 10:30", "--config",
                                       str(tmp_path / "c.yaml"), "--no-store",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, parse_dates=["ds"])
    assert list(frame["ds"]) == list(pd.date_range("2026-11-11 10:30", "2026-11-11 23:30",
                                                   freq="30min"))
    # Five half hours seen (08:00-10:00) at 15 against 10 forecast; the day holds 240.
    weight = 50 / (50 + 0.4 * 240)
    np.testing.assert_allclose(frame["scale_factor"], 1 + weight * 0.5)
    bad = CliRunner().invoke(main, ["reforecast", "--history", str(tmp_path / "h.csv"),
                                    "--as-of", "2026-11-11 10:15", "--config",
                                    str(tmp_path / "c.yaml"), "--no-store", "--out", str(out)])
    assert bad.exit_code != 0
    assert "at the start of a 30-minute interval" in bad.output

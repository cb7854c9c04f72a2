"""Staffing accuracy re-staffs the actuals at their own interval."""

import pandas as pd

from staffcast.accuracy import _hourly_volume


def _rows(minutes: int, periods: int) -> pd.DataFrame:
    ds = pd.date_range("2026-11-09 08:00", periods=periods, freq=f"{minutes}min")
    return pd.DataFrame({"unique_id": "chat", "ds": ds, "interval_minutes": minutes})


def test_half_hourly_actuals_are_kept_per_half_hour():
    ds = pd.date_range("2026-11-09 08:00", periods=4, freq="30min")
    actuals = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": [5.0, 7.0, 9.0, 11.0]})
    out = _hourly_volume(actuals, _rows(30, 4))
    assert out["ds"].tolist() == list(ds) and out["volume"].tolist() == [5.0, 7.0, 9.0, 11.0]


def test_quarter_hour_actuals_are_summed_onto_the_requirement_interval():
    ds = pd.date_range("2026-11-09 08:00", periods=4, freq="15min")
    actuals = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0]})
    out = _hourly_volume(actuals, _rows(30, 2))
    assert out["volume"].tolist() == [3.0, 7.0]


def test_hourly_actuals_stay_hourly_for_half_hour_requirements():
    ds = pd.date_range("2026-11-09 08:00", periods=2, freq="h")
    actuals = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": [10.0, 20.0]})
    out = _hourly_volume(actuals, _rows(30, 4))
    assert out["ds"].tolist() == list(ds) and out["volume"].tolist() == [10.0, 20.0]

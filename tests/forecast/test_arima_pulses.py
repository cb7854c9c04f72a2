"""Festival pulses: the first hours of a promotion window get their own shape in `arima`,
learned from past occurrences; checked on a hand-made series and on the demo's Double 11."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import forecast
from staffcast.forecasting.data import load_history

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"


def pulse_history(minutes: int):
    """Ten weeks of a noiseless night decline (100 at 00:00 falling to 10 by 03:00) with
    a 'payday' event every other Wednesday 00:00-01:59 at a flat 400 per hour."""
    ds = pd.date_range("2025-01-06", periods=10 * 7 * 1440 // minutes, freq=f"{minutes}min")
    hour = ds.hour + ds.minute / 60
    per_hour = np.where(hour < 3, 100 - 30 * hour, 10 + 5 * np.sin(hour / 24 * np.pi))
    paydays = [d for d in pd.date_range("2025-01-08", periods=5, freq="14D")]
    promo = np.isin(ds.normalize(), pd.DatetimeIndex(paydays)) & (hour < 2)
    per_hour = np.where(promo, 400.0, per_hour)
    return pd.DataFrame({"unique_id": "q", "ds": ds, "y": per_hour * minutes / 60}), paydays


@pytest.mark.parametrize("minutes", [60, 30])
def test_a_pulse_window_keeps_its_own_flat_shape(tmp_path, minutes):
    frame, paydays = pulse_history(minutes)
    path = tmp_path / "cal.csv"
    future_payday = paydays[-1] + pd.Timedelta(days=14)
    path.write_text("event,start,end,kind,unique_id\n" + "".join(
        f"payday,{d:%Y-%m-%d} 00:00,{d:%Y-%m-%d} 01:59,promotion,\n"
        for d in [*paydays, future_payday]))
    calendar = load_calendar(path, country=None)
    history = frame[frame["ds"] < future_payday - pd.Timedelta(days=2)]
    out = forecast(history, horizon=96, models=["arima"], calendar=calendar)
    window = out[(out["ds"] >= future_payday) & (out["ds"] < future_payday + pd.Timedelta(hours=2))]
    expected = 400.0 * minutes / 60
    # Every interval of the window near the flat 400/hour; a proportional effect on the
    # 100 -> 40 decline would put the first interval well above the last.
    assert window["yhat"].to_numpy() == pytest.approx(expected, rel=0.1)
    after = out[out["ds"] == future_payday + pd.Timedelta(hours=2)]["yhat"].iloc[0]
    assert after == pytest.approx(40 * minutes / 60, rel=0.15)


@pytest.mark.skipif(not (DATA / "truth_double11_week.csv").is_file(), reason="demo data absent")
def test_demo_final_payment_hours_within_a_quarter_of_the_truth():
    from staffcast.config import load_config

    config = load_config(ROOT / "configs" / "example.yaml")
    calendar = load_calendar(DATA / "calendar.csv", country=config.forecast.country)
    history = load_history(DATA / "history.csv", closed_dates=calendar.closed_hours,
                           opening_hours={n: q.opening_hours for n, q in config.queues.items()
                                          if q.opening_hours})
    presales = history[history["unique_id"] == "presales"]
    out = forecast(presales, horizon=72, models=["auto"], calendar=calendar,
                   queue_settings=config.queue)
    truth = pd.read_csv(DATA / "truth_double11_week.csv", parse_dates=["ds"])
    truth = truth[truth["unique_id"] == "presales"].set_index("ds")["y"]
    got = out.set_index("ds")["yhat"]
    for hour in ("2026-11-11 00:00", "2026-11-11 01:00"):
        assert got[hour] == pytest.approx(truth[hour], rel=0.25)

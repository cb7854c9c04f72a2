"""The intraday re-forecast at the morning forecast's own interval (30 minutes here)."""

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.errors import InputError
from staffcast.forecasting.intraday import reforecast_day, scale_factor

DAY = pd.Timestamp("2026-11-11")


def morning(minutes: int = 30) -> pd.DataFrame:
    ds = pd.date_range(DAY, periods=1440 // minutes, freq=f"{minutes}min")
    yhat = np.where((ds.hour >= 8) & (ds.hour < 22), 10.0, 0.0)
    return pd.DataFrame({"unique_id": "chat", "ds": ds, "model": "arima", "yhat": yhat,
                         "yhat_lo_80": yhat * 0.8, "yhat_hi_80": yhat * 1.2,
                         "yhat_lo_95": yhat * 0.7, "yhat_hi_95": yhat * 1.3})


def test_half_hourly_reforecast_rescales_from_the_half_hours_seen():
    fc = morning()
    seen = fc[(fc["ds"] >= DAY + pd.Timedelta(hours=8))
              & (fc["ds"] < DAY + pd.Timedelta(hours=10, minutes=30))]
    actuals = pd.DataFrame({"unique_id": "chat", "ds": seen["ds"], "y": 15.0})
    result = reforecast_day(fc, actuals, DAY + pd.Timedelta(hours=10, minutes=30))
    # Five half hours seen, 50 forecast and 75 actual; the day holds 28 x 10 = 280.
    weight, factor = scale_factor(75.0, 50.0, 280.0)
    assert result.scales[0].forecast_so_far == 50.0 and result.scales[0].actual_so_far == 75.0
    assert result.scales[0].factor == pytest.approx(factor)
    assert result.frame["ds"].iloc[0] == DAY + pd.Timedelta(hours=10, minutes=30)
    assert len(result.frame) == 48 - 21
    assert result.frame["yhat"].max() == pytest.approx(10.0 * factor)


def test_as_of_must_start_an_interval_of_the_forecast():
    with pytest.raises(InputError, match="as_of must be the start of a 30-minute interval"):
        reforecast_day(morning(), morning().iloc[:0].rename(columns={"yhat": "y"}),
                       DAY + pd.Timedelta(hours=10, minutes=15))


def test_a_half_hourly_morning_forecast_must_cover_the_day():
    with pytest.raises(InputError, match=r"lacks 1 30-minute interval\(s\) of 2026-11-11, "
                                         r"first 23:30"):
        reforecast_day(morning().iloc[:-1], pd.DataFrame(columns=["unique_id", "ds", "y"]),
                       DAY + pd.Timedelta(hours=10))

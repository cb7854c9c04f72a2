"""Interval-native history: detection, coarsening, mixed or indivisible intervals, time
zones and daylight saving, and every stage of a forecast at 30 and 15 minutes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.forecasting.backtest import backtest
from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import forecast
from staffcast.forecasting.data import load_history, open_hours_mask, validate_history
from staffcast.forecasting.errors import InputError, InputNote
from staffcast.forecasting.features import span_features

START = pd.Timestamp("2025-03-03")  # a Monday


def regular(minutes: int, days: int = 21, queue: str = "q", seed: int = 0,
            aht: bool = False) -> pd.DataFrame:
    """A daily-cycle Poisson history at `minutes` intervals (contacts per interval)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=days * 1440 // minutes, freq=f"{minutes}min")
    hour = ds.hour + ds.minute / 60
    rate = (20 + 15 * np.sin((hour - 6) / 24 * 2 * np.pi)) * minutes / 60
    frame = pd.DataFrame({"unique_id": queue, "ds": ds, "y": rng.poisson(rate).astype(float)})
    if aht:
        frame["aht_s"] = 200.0 + 5 * hour
    return frame


def test_interval_is_detected_and_kept():
    out = validate_history(regular(30))
    assert len(out) == 21 * 48
    assert (out["ds"].diff().dropna() == pd.Timedelta(minutes=30)).all()


def test_coarsening_sums_counts_and_weights_handle_time():
    frame = pd.DataFrame({"ds": pd.date_range(START, periods=4 * 24 * 14, freq="15min")})
    frame["y"] = np.tile([1.0, 3.0, 0.0, 4.0], len(frame) // 4)
    frame["aht_s"] = np.tile([100.0, 200.0, np.nan, 300.0], len(frame) // 4)
    out = validate_history(frame, interval_minutes=30)
    assert len(out) == 2 * 24 * 14
    assert out["y"].iloc[0] == 4.0 and out["y"].iloc[1] == 4.0
    # volume-weighted: (1*100 + 3*200) / 4 and the blank interval carries no weight
    assert out["aht_s"].iloc[0] == pytest.approx(175.0)
    assert out["aht_s"].iloc[1] == pytest.approx(300.0)


def test_coarsening_drops_partial_intervals_at_the_ends():
    frame = regular(15).iloc[1:-1]          # starts at 00:15, ends at 23:30
    out = validate_history(frame, interval_minutes=60)
    assert out["ds"].iloc[0] == START + pd.Timedelta(hours=1)
    assert out["ds"].iloc[-1] == START + pd.Timedelta(days=21) - pd.Timedelta(hours=2)


def test_a_finer_interval_than_the_history_is_an_error():
    with pytest.raises(InputError, match=r"history is at 60-minute intervals; "
                                         r"interval_minutes=30 must be a multiple of it"):
        validate_history(regular(60), interval_minutes=30)


def test_an_interval_that_does_not_divide_the_day_is_an_error(tmp_path):
    frame = pd.DataFrame({"ds": pd.date_range(START, periods=5000, freq="7min"), "y": 1.0})
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"h.csv: CSV line 3, column 'ds': rows are 7 minutes "
                                         r"apart, an interval that does not divide the day"):
        load_history(path)
    with pytest.raises(InputError, match=r"interval_minutes: .*divides the day.*got 50"):
        validate_history(regular(10), interval_minutes=50)


def test_mixed_intervals_in_one_file_name_the_row(tmp_path):
    frame = regular(30)
    frame["ds"] = frame["ds"].astype(str)
    frame.loc[100, "ds"] = "2025-03-05 02:15:00"
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"CSV line 102, column 'ds': mixed intervals: most "
                                         r"rows are 30 minutes apart.*'2025-03-05 02:15:00'"):
        load_history(path)


def test_handle_time_over_a_day_is_an_error(tmp_path):
    frame = regular(60, aht=True)
    frame.loc[7, "aht_s"] = 90000.0
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"CSV line 9, column 'aht_s': handle time in seconds "
                                         r"must be <= 86400 \(24 hours\), got '90000.0'"):
        load_history(path)


def test_utc_history_is_converted_to_the_configured_zone():
    frame = regular(60)
    local = frame["ds"]
    frame["ds"] = (local - pd.Timedelta(hours=8)).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = validate_history(frame, timezone="Asia/Shanghai")
    assert out["ds"].iloc[0] == START and out["y"].tolist() == frame["y"].tolist()
    # Without the zone, one offset is still read as that zone's wall clock: 8 hours off,
    # which is why the zone belongs in the config.
    assert validate_history(frame)["ds"].iloc[0] == START - pd.Timedelta(hours=8)


def test_unknown_time_zone_is_one_line():
    with pytest.raises(InputError, match=r"timezone: unknown time zone 'Asia/Shanghia'"):
        validate_history(regular(60), timezone="Asia/Shanghia")


def test_daylight_saving_history_loads_with_23_and_25_hour_days():
    # Berlin: 2025-03-30 02:00 -> 03:00, 2025-10-26 03:00 -> 02:00. Hourly UTC rows.
    utc = pd.date_range("2025-03-20", "2025-11-05", freq="h", tz="UTC", inclusive="left")
    berlin = utc.tz_convert("Europe/Berlin")   # as an export writes it: +01:00 / +02:00
    frame = pd.DataFrame({"ds": berlin.strftime("%Y-%m-%dT%H:%M:%S%z"), "y": 1.0})
    with pytest.raises(InputError, match="mixes time zones.*set timezone: in the config"):
        validate_history(frame)
    with pytest.warns(InputNote, match=r"2 rows fall in the repeated hour .*Europe/Berlin"):
        out = validate_history(frame, timezone="Europe/Berlin").set_index("ds")["y"]
    spring = out.loc["2025-03-30"]
    autumn = out.loc["2025-10-26"]
    assert len(spring) == 24 and spring.sum() == 23 and spring["2025-03-30 02:00"] == 0
    assert len(autumn) == 24 and autumn.sum() == 25 and autumn["2025-10-26 02:00"] == 2
    assert out.sum() == len(frame)


def test_open_hours_mask_cuts_at_the_minute():
    ds = pd.date_range("2025-03-03 21:00", periods=3, freq="5min")
    hours = tuple([((420, 1265),)] * 7)     # open until 21:05
    assert open_hours_mask(ds, hours, 5).tolist() == [True, False, False]
    assert open_hours_mask(ds[:1], hours, 60).tolist() == [True]


def test_promotion_windows_cut_at_minutes(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("event,start,end,kind,unique_id\n"
                    "final,2025-03-05 00:00,2025-03-05 00:29,promotion,\n")
    cal = load_calendar(path, country=None)
    ds = pd.date_range("2025-03-04 23:30", periods=4, freq="30min")
    assert cal.promotion_hours(ds, "q")["final"].tolist() == [0, 1, 0, 0]
    hourly = pd.date_range("2025-03-04 23:00", periods=3, freq="h")
    assert cal.promotion_hours(hourly, "q")["final"].tolist() == [0, 1, 0]


@settings(max_examples=200, deadline=None)
@given(minutes=st.sampled_from([5, 6, 10, 15, 20, 30, 60]), days=st.integers(1, 3),
       offset=st.integers(0, 200))
def test_features_slots_cover_the_day(minutes, days, offset):
    per_day = 1440 // minutes
    ds = pd.date_range(START + pd.Timedelta(minutes=minutes * offset), periods=days * per_day,
                       freq=f"{minutes}min")
    X, _ = span_features(ds, np.ones(len(ds)), "q", rest_day=6)
    assert X.step_minutes == minutes and X.steps_per_day == per_day
    assert X.steps_per_week == 7 * per_day
    assert (X.slot == (ds.hour * 60 + ds.minute) // minutes).all()
    assert X.slot.min() >= 0 and X.slot.max() < per_day
    assert (X.hour == ds.hour).all()


@pytest.mark.parametrize("minutes", [30, 15])
@pytest.mark.parametrize("model", ["snaive", "histavg", "arima", "auto"])
def test_forecast_rows_are_at_the_history_interval(minutes, model):
    history = validate_history(regular(minutes))
    out = forecast(history, horizon=24, models=[model])
    assert len(out) == 24 * 60 // minutes
    assert out["ds"].iloc[0] == history["ds"].iloc[-1] + pd.Timedelta(minutes=minutes)
    assert (out["ds"].diff().dropna() == pd.Timedelta(minutes=minutes)).all()
    # The daily cycle is learned at the interval: the forecast peaks in the afternoon and
    # is quietest at night, as the simulated rate does.
    by_hour = out.groupby(out["ds"].dt.hour)["yhat"].mean()
    assert by_hour.idxmax() in range(10, 15) and by_hour.idxmin() in (22, 23, 0, 1, 2, 3)


def test_week_horizon_gives_336_half_hours():
    history = validate_history(regular(30))
    assert len(forecast(history, horizon=168, models=["snaive"])) == 336


def test_snaive_at_30_minutes_copies_the_same_half_hour_last_week():
    history = validate_history(regular(30))
    out = forecast(history, horizon=168, models=["snaive"])
    last_week = history["y"].to_numpy()[-336:]
    assert np.allclose(out["yhat"].to_numpy(), last_week)


def test_backtest_horizon_and_step_stay_in_hours():
    history = validate_history(regular(30))
    forecasts, metrics = backtest(history, models=["snaive"], horizon=24, windows=3)
    assert len(forecasts) == 3 * 48
    assert forecasts["cutoff"].nunique() == 3
    gaps = forecasts["cutoff"].drop_duplicates().diff().dropna()
    assert (gaps == pd.Timedelta(hours=24)).all()


def test_queues_at_different_intervals_are_an_error():
    history = pd.concat([validate_history(regular(30, queue="a")),
                         validate_history(regular(60, queue="b"))], ignore_index=True)
    with pytest.raises(InputError, match="one interval per run"):
        forecast(history, horizon=24, models=["snaive"])

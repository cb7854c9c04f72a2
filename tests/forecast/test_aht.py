"""Handle-time forecast: volume weighting, hour and promotion effects on simulated contacts
whose true mean handle time is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.forecasting.aht import HandleTimeModel, add_aht_forecast
from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import forecast
from staffcast.forecasting.features import span_features

START = pd.Timestamp("2025-09-01")  # a Monday


def true_aht(ds: pd.DatetimeIndex, promo: np.ndarray) -> np.ndarray:
    """Mean handle seconds: 240 s at night rising to 420 s at 14:00, +50% in a promotion."""
    hour = ds.hour + ds.minute / 60
    return (330 - 90 * np.cos((hour - 2) / 24 * 2 * np.pi)) * np.where(promo, 1.5, 1.0)


def simulate(days: int, minutes: int, promo_days: tuple[str, ...], seed: int = 1):
    """History with `aht_s` the mean of exponential handle times of the interval's
    contacts (so busy intervals are precise, quiet ones noisy)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=days * 1440 // minutes, freq=f"{minutes}min")
    promo = np.isin(ds.normalize(), pd.DatetimeIndex(promo_days))
    hour = ds.hour + ds.minute / 60
    rate = (30 + 25 * np.sin((hour - 8) / 24 * 2 * np.pi)) * minutes / 60 * (1 + promo)
    y = rng.poisson(rate)
    mean = true_aht(ds, promo)
    aht = np.array([rng.exponential(m, n).mean() if n else np.nan for m, n in zip(mean, y)])
    return pd.DataFrame({"unique_id": "q", "ds": ds, "y": y.astype(float),
                         "answered": y.astype(float), "aht_s": aht})


@pytest.fixture
def promo_calendar(tmp_path):
    path = tmp_path / "cal.csv"
    days = ["2025-09-10", "2025-09-24", "2025-10-08"]
    path.write_text("event,start,end,kind,unique_id\n" +
                    "".join(f"flash,{d},{d},promotion,\n" for d in days))
    return load_calendar(path, country=None), tuple(days)


def test_forecast_tracks_hour_and_promotion_effects(promo_calendar):
    calendar, days = promo_calendar
    full = simulate(42, 30, days)
    history = full[full["ds"] < "2025-10-06"]
    future = full[full["ds"] >= "2025-10-06"]
    out = forecast(history, horizon=7 * 24, models=["snaive"], calendar=calendar)
    assert len(out) == len(future) and out["aht_s"].notna().all()
    truth = true_aht(pd.DatetimeIndex(out["ds"]),
                     np.isin(pd.DatetimeIndex(out["ds"]).normalize(), pd.DatetimeIndex(days)))
    error = np.abs(out["aht_s"].to_numpy() / np.asarray(truth) - 1)
    flat = np.average(history["aht_s"].fillna(0), weights=history["answered"])
    flat_error = np.abs(flat / np.asarray(truth) - 1)
    assert error.mean() < 0.05 and flat_error.mean() > 0.15
    promo_day = out["ds"].dt.normalize() == pd.Timestamp("2025-10-08")
    ratio = out.loc[promo_day, "aht_s"].mean() / out.loc[~promo_day, "aht_s"].mean()
    assert 1.35 < ratio < 1.65


def test_volume_weighting_on_a_hand_case():
    # Same weekday and slot in two weeks: 1 contact of 1000 s, then 99 of 100 s each.
    ds = pd.date_range(START, periods=14 * 24, freq="h")
    aht = np.full(len(ds), 300.0)
    weight = np.full(len(ds), 10.0)
    aht[0], weight[0] = 1000.0, 1.0
    aht[7 * 24], weight[7 * 24] = 100.0, 99.0
    X, _ = span_features(ds.append(pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=24,
                                                 freq="h")), np.ones(len(ds)), "q", rest_day=6)
    model = HandleTimeModel(shrink=0.0, day_type_shrink=0.0, smooth=0.0).fit(
        aht, weight, X[:len(ds)])
    assert model.predict(X[len(ds):])[0] == pytest.approx((1000 + 99 * 100) / 100)
    assert model.predict(X[len(ds):])[5] == pytest.approx(300.0)


@settings(max_examples=200, deadline=None)
@given(level=st.floats(5, 5000), minutes=st.sampled_from([15, 30, 60]),
       seed=st.integers(0, 2**16))
def test_constant_handle_time_is_forecast_exactly(level, minutes, seed):
    rng = np.random.default_rng(seed)
    n = 14 * 1440 // minutes
    ds = pd.date_range(START, periods=n + 1440 // minutes, freq=f"{minutes}min")
    X, _ = span_features(ds, np.ones(n), "q", rest_day=6)
    weight = rng.integers(0, 20, n).astype(float)
    weight[0] = 1.0
    aht = np.where(weight > 0, level, np.nan)
    pred = HandleTimeModel().fit(aht, weight, X[:n]).predict(X[n:])
    assert np.allclose(pred, level, rtol=1e-6)


def test_history_without_handle_time_adds_no_column():
    history = simulate(21, 60, ()).drop(columns=["aht_s"])
    out = forecast(history, horizon=24, models=["snaive"])
    assert "aht_s" not in out.columns
    predicted = out.assign(aht_s=1.0).drop(columns="aht_s")
    assert add_aht_forecast(history, predicted).equals(predicted)


def test_predict_before_fit_is_an_error():
    with pytest.raises(ValueError, match="call fit"):
        HandleTimeModel().predict(None)

"""The holiday_eve option: the day before a holiday is an event of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import QueueSettings, forecast
from staffcast.forecasting.features import HOLIDAY_EVE, span_features

HOLIDAYS = [pd.Timestamp("2025-01-09") + pd.Timedelta(weeks=2 * k) for k in range(6)]  # Thursdays


@pytest.fixture
def calendar(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text("event,start,end,kind,unique_id\n" + "".join(
        f"break,{d:%Y-%m-%d},{d:%Y-%m-%d},holiday,\n" for d in HOLIDAYS))
    return load_calendar(path, country=None)


def test_eve_column_marks_the_day_before_each_holiday(calendar):
    span = pd.date_range("2025-01-06", periods=14 * 48, freq="30min")
    X, _ = span_features(span, np.ones(7 * 48), "q", calendar=calendar, rest_day=6,
                         holiday_eve=True)
    eve = X.events[:, X.event_names.index(HOLIDAY_EVE)]
    eve_dates = sorted(set(span[eve > 0].normalize()))
    assert eve_dates == [pd.Timestamp("2025-01-08")]
    assert eve.sum() == 48
    plain, _ = span_features(span, np.ones(7 * 48), "q", calendar=calendar, rest_day=6)
    assert HOLIDAY_EVE not in plain.event_names


def test_eves_are_learned_when_the_option_is_on(calendar):
    ds = pd.date_range("2025-01-06", periods=12 * 7 * 24, freq="h")
    hour = ds.hour.to_numpy()
    y = 50 + 30 * np.sin((hour - 6) / 24 * 2 * np.pi)
    eves = np.isin(ds.normalize(), [d - pd.Timedelta(days=1) for d in HOLIDAYS])
    y = np.where(eves & (hour >= 16), y * 0.4, y)      # eves empty out in the evening
    history = pd.DataFrame({"unique_id": "q", "ds": ds, "y": y})
    cut = HOLIDAYS[-1] - pd.Timedelta(days=2)
    train = history[history["ds"] < cut]
    target = (history["ds"] >= HOLIDAYS[-1] - pd.Timedelta(days=1)) & \
        (history["ds"] < HOLIDAYS[-1]) & (history["ds"].dt.hour >= 16)
    truth = history.loc[target, "y"].to_numpy()
    errors = {}
    for option in (False, True):
        out = forecast(train, horizon=72, models=["arima"], calendar=calendar,
                       queue_settings={"default": QueueSettings(holiday_eve=option)})
        got = out.set_index("ds").loc[history.loc[target, "ds"], "yhat"].to_numpy()
        errors[option] = np.abs(got / truth - 1).mean()
    assert errors[True] < 0.1 < errors[False]

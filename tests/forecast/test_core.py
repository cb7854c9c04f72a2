"""`forecast()`: the long-frame contract over several queues and models."""

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import (
    FALLBACK_MODEL,
    FORECAST_COLUMNS,
    Fallback,
    QueueForecastError,
    QueueSettings,
    forecast,
    forecast_queue,
    split_queues,
)
from tests.forecast.test_models import synthetic_history


@pytest.fixture
def history():
    return pd.concat([synthetic_history(3, seed=11, queue="chat"),
                      synthetic_history(3, seed=12, queue="phone")], ignore_index=True)


def test_forecast_contract_two_queues_two_models(history, tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("event,start,end,kind,unique_id\n"
                    "office_move,2026-03-24,2026-03-24,closure,phone\n")
    calendar = load_calendar(path, country=None)
    weekdays_9_to_17 = tuple([((540, 1020),)] * 5 + [()] * 2)
    settings = {"phone": QueueSettings(opening_hours=weekdays_9_to_17)}
    before = history.copy()
    result = forecast(history, horizon=168, models=["snaive", "arima"], calendar=calendar,
                      queue_settings=settings)
    pd.testing.assert_frame_equal(history, before)  # the caller's frame is untouched
    assert list(result.columns) == list(FORECAST_COLUMNS)
    assert len(result) == 2 * 2 * 168
    for (uid, model), sub in result.groupby(["unique_id", "model"]):
        assert len(sub) == 168 and sub["ds"].is_monotonic_increasing
        assert sub["ds"].iloc[0] == pd.Timestamp("2026-03-23")
    values = result[["yhat_lo_95", "yhat_lo_80", "yhat", "yhat_hi_80", "yhat_hi_95"]].to_numpy()
    assert (values >= 0).all() and (np.diff(values, axis=1) >= 0).all()
    phone = result[result["unique_id"] == "phone"]
    closed = ((phone["ds"].dt.hour < 9) | (phone["ds"].dt.hour >= 17)
              | (phone["ds"].dt.day_of_week >= 5)
              | (phone["ds"].dt.normalize() == pd.Timestamp("2026-03-24")))
    assert (phone.loc[closed, "yhat_hi_95"] == 0).all()
    assert (phone.loc[~closed, "yhat"] > 0).all()
    chat = result[result["unique_id"] == "chat"]
    assert (chat.groupby(chat["ds"].dt.normalize())["yhat"].sum() > 0).all()


def test_history_without_unique_id_is_the_default_queue(history):
    plain = history[history["unique_id"] == "chat"][["ds", "y"]]
    result = forecast(plain, horizon=5, models=["histavg"])
    assert set(result["unique_id"]) == {"default"} and len(result) == 5


@pytest.mark.parametrize("horizon", [0, -1, 2.5, True])
def test_bad_horizon_is_rejected(history, horizon):
    with pytest.raises(ValueError, match="horizon"):
        forecast(history, horizon=horizon, models=["snaive"])


def test_gappy_history_is_rejected(history):
    with pytest.raises(ValueError, match="queue 'chat' must be a complete regular grid"):
        forecast(history.drop(index=[4]), horizon=24, models=["snaive"])


# A new queue open three hours a day for nine days: 27 open hours are too few for arima's
# regression (it needs 48), while snaive has two days of each weekday type to copy.
_MORNINGS = QueueSettings(opening_hours=tuple([((480, 660),)] * 7))


def _queue(history, uid, hours):
    frame = history[history["unique_id"] == uid].iloc[:hours]
    return next(split_queues(frame))


def test_failing_model_falls_back_to_snaive_and_says_so(history):
    uid, ds, y = _queue(history, "chat", 9 * 24)
    with pytest.raises(ValueError, match="arima: needs at least 48 open hours"):
        forecast_queue(uid, ds, y, horizon=24, models=["arima"], settings=_MORNINGS)
    result = forecast_queue(uid, ds, y, horizon=24, models=["arima"], settings=_MORNINGS,
                            fallback=FALLBACK_MODEL)
    assert result.fallbacks == (Fallback("chat", "arima", "snaive",
                                         "ValueError: arima: needs at least 48 open hours of "
                                         "history, got 27"),)
    direct = forecast_queue(uid, ds, y, horizon=24, models=["snaive"], settings=_MORNINGS)
    assert direct.fallbacks == ()
    pd.testing.assert_frame_equal(result.frame, direct.frame)
    assert set(result.frame["model"]) == {"snaive"} and len(result.frame) == 24


def test_fallback_already_requested_is_not_repeated(history):
    uid, ds, y = _queue(history, "chat", 9 * 24)
    result = forecast_queue(uid, ds, y, horizon=24, models=["snaive", "arima"],
                            settings=_MORNINGS, fallback=FALLBACK_MODEL)
    assert [(f.requested_model, f.used_model) for f in result.fallbacks] == [("arima",
                                                                               "snaive")]
    assert len(result.frame) == 24 and not result.frame.duplicated(["ds", "model"]).any()


def test_queue_fails_when_the_fallback_fails_too(history):
    # 40 hours: under two days, so no weekday type is seen twice and snaive cannot fit.
    uid, ds, y = _queue(history, "phone", 40)
    with pytest.raises(QueueForecastError) as caught:
        forecast_queue(uid, ds, y, horizon=24, models=["arima"], fallback=FALLBACK_MODEL)
    message = str(caught.value)
    assert message.startswith("queue 'phone': arima: ValueError: arima: needs at least 48")
    assert "fallback snaive: ValueError: snaive: needs at least two days" in message


def test_forecast_uses_the_per_queue_function(history):
    queues = {uid: (ds, y) for uid, ds, y in split_queues(history)}
    whole = forecast(history, horizon=24, models=["histavg"])
    for uid, (ds, y) in queues.items():
        part = forecast_queue(uid, ds, y, horizon=24, models=["histavg"]).frame
        pd.testing.assert_frame_equal(
            whole[whole["unique_id"] == uid].reset_index(drop=True), part)

"""Rolling-origin backtest: windows, the long metrics table and a hand computation."""

import io

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.backtest import backtest
from staffcast.forecasting.core import FORECAST_COLUMNS
from tests.forecast.test_models import synthetic_history


def test_backtest_metrics_match_a_hand_computation():
    history = synthetic_history(weeks=3, seed=1, queue="q1")
    y = history["y"].to_numpy()
    forecasts, metrics = backtest(history, models=["snaive"], horizon=24, windows=2, step=24)
    assert list(forecasts.columns) == [*FORECAST_COLUMNS[:2], "cutoff", *FORECAST_COLUMNS[2:], "y"]
    cutoffs = sorted(forecasts["cutoff"].unique())
    assert cutoffs == [history["ds"].iloc[len(y) - 49], history["ds"].iloc[len(y) - 25]]
    # By hand: with no calendar every day is its own weekday and every day is complete,
    # so snaive is y one week earlier; the last 48 hours are the two windows.
    actual = y[-48:]
    naive = y[-48 - 168:-168]
    first = len(y) - 48
    scale = np.mean(np.abs(y[168:first] - y[:first - 168]))
    got = metrics.set_index("metric")["value"]
    assert got["wape"] == pytest.approx(np.abs(actual - naive).sum() / actual.sum())
    assert got["bias"] == pytest.approx((naive - actual).sum() / actual.sum())
    assert got["mase"] == pytest.approx(np.mean(np.abs(actual - naive)) / scale)
    inside = (forecasts["y"] >= forecasts["yhat_lo_80"]) & (forecasts["y"] <= forecasts["yhat_hi_80"])
    assert got["coverage_80"] == pytest.approx(inside.mean())
    assert got["fit_seconds"] >= 0
    assert np.allclose(forecasts["yhat"], naive)
    assert np.allclose(forecasts["y"], actual)


def test_backtest_long_table_per_queue_and_model_with_progress():
    history = pd.concat([synthetic_history(4, seed=2, queue="a"),
                         synthetic_history(4, seed=3, queue="b")], ignore_index=True)
    stream = io.StringIO()
    forecasts, metrics = backtest(history, models=["snaive", "histavg"], horizon=48, windows=2,
                                  step=24, progress=stream)
    assert list(metrics.columns) == ["unique_id", "model", "metric", "value"]
    assert len(metrics) == 2 * 2 * 8
    assert set(metrics["metric"]) == {"mase", "wape", "bias", "coverage_80", "coverage_95",
                                      "interval_score_80", "interval_score_95", "fit_seconds"}
    assert len(forecasts) == 2 * 2 * 2 * 48
    assert "4/4" in stream.getvalue()


def test_backtest_too_short_history_names_the_queue():
    with pytest.raises(ValueError, match="queue 'q1' has 336 hours"):
        backtest(synthetic_history(2, queue="q1"), models=["snaive"], horizon=168, windows=2)


def test_backtest_unknown_model_fails_before_fitting():
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        backtest(synthetic_history(3), models=["snaive", "nope"], horizon=24, windows=1)

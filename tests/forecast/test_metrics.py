"""Accuracy metrics against hand computations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffcast.forecasting.metrics import METRICS, get_metric, seasonal_naive_scale

Y = np.array([10.0, 20.0, 30.0, 40.0])
YHAT = np.array([12.0, 18.0, 30.0, 36.0])


def test_wape_bias_mase_coverage_by_hand():
    assert METRICS["wape"](Y, YHAT) == pytest.approx(8 / 100)
    assert METRICS["bias"](Y, YHAT) == pytest.approx(-4 / 100)
    assert METRICS["mase"](Y, YHAT, scale=4.0) == pytest.approx(2.0 / 4.0)
    lo, hi = YHAT - 3, YHAT + 3
    assert METRICS["coverage_80"](Y, YHAT, lo_80=lo, hi_80=hi) == pytest.approx(0.75)


def test_coverage_95_and_interval_scores_by_hand():
    lo, hi = YHAT - 3, YHAT + 3  # [9, 15], [15, 21], [27, 33], [33, 39]
    assert METRICS["coverage_95"](Y, YHAT, lo_95=lo, hi_95=hi) == pytest.approx(0.75)
    # Width 6 everywhere; only 40 misses, by 1 above 39: 80% adds 2 / 0.2 x 1 = 10.
    assert METRICS["interval_score_80"](Y, YHAT, lo_80=lo, hi_80=hi) == pytest.approx(
        (4 * 6 + 10) / 4)
    assert METRICS["interval_score_95"](Y, YHAT, lo_95=lo, hi_95=hi) == pytest.approx(
        (4 * 6 + 2 / 0.05 * 1) / 4)
    # Below the band counts the same as above it: [11, 12] misses 10 by 1.
    assert METRICS["interval_score_80"](np.array([10.0]), np.array([11.0]),
                                        lo_80=np.array([11.0]), hi_80=np.array([12.0])) == \
        pytest.approx(1 + 10)


@given(st.lists(st.floats(0, 1e3), min_size=1, max_size=30), st.floats(0.1, 50))
def test_interval_score_of_a_covering_band_is_its_width(values, half):
    y = np.array(values)
    assert METRICS["interval_score_95"](y, y, lo_95=y - half, hi_95=y + half) == \
        pytest.approx(2 * half)


def test_seasonal_naive_scale_by_hand():
    y = np.array([1.0, 2.0, 4.0, 8.0, 3.0])
    open_ = np.array([True, True, True, True, False])
    # season 2: |4-1|, |8-2| on open hours 2, 3; hour 4 is closed
    assert seasonal_naive_scale(y, open_, 2) == pytest.approx(4.5)


def test_unknown_metric_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown metric 'mape'; valid metrics: mase, wape"):
        get_metric("mape")


def test_wape_of_zero_volume_is_an_error():
    with pytest.raises(ValueError, match="wape"):
        METRICS["wape"](np.zeros(3), np.ones(3))


@given(st.lists(st.floats(0.1, 1e4), min_size=2, max_size=30), st.floats(0.5, 2.0))
def test_wape_of_a_scaled_forecast_is_the_scale_error(values, factor):
    y = np.array(values)
    assert METRICS["wape"](y, factor * y) == pytest.approx(abs(factor - 1))
    assert METRICS["bias"](y, factor * y) == pytest.approx(factor - 1)

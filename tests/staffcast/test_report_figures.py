"""The report's charts plot the right columns: each trace's data is read back from the
figure (not searched for in the page) and compared with the column it must show. Every
column holds distinct values, so a swapped column cannot pass."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffcast.report import PlanFolder, coverage_figure, forecast_figure, service_level_figure

T0 = pd.Timestamp("2026-11-09 00:00")


def plan() -> PlanFolder:
    hours = pd.date_range(T0, periods=48, freq="h")
    i = np.arange(48, dtype=float)
    forecast = pd.DataFrame({"unique_id": "chat", "ds": hours, "model": "arima",
                             "yhat": 100 + i, "yhat_lo_80": 80 + i, "yhat_hi_80": 120 + i,
                             "yhat_lo_95": 70 + i, "yhat_hi_95": 130 + i})
    history = pd.DataFrame({"unique_id": "chat", "ds": hours - pd.Timedelta(days=2),
                            "y": 50 + i})
    half = pd.date_range(T0, periods=96, freq="30min")
    j = np.arange(96, dtype=float)
    coverage = pd.DataFrame({"unique_id": "chat", "ds": half, "required": 10 + j % 7,
                             "scheduled": 12 - j % 5})
    coverage["shortfall"] = (coverage["required"] - coverage["scheduled"]).clip(lower=0)
    coverage["service_level"] = (j % 10) / 10
    empty = pd.DataFrame()
    return PlanFolder(path=Path("."), summary={}, forecast=forecast, history=history,
                      calendar=pd.DataFrame(columns=["event", "start", "end", "kind",
                                                     "unique_id"]),
                      coverage=coverage, roster=empty, activities=empty)


def traces(fig, name):
    return [t for t in fig.data if t.name == name]


def test_forecast_chart_draws_history_forecast_and_both_bands():
    p = plan()
    fig = forecast_figure(p)
    (fc,) = traces(fig, "forecast")
    (hist,) = traces(fig, "history")
    assert list(fc.y) == p.forecast["yhat"].tolist()
    assert list(hist.y) == p.history["y"].tolist()
    assert pd.to_datetime(list(hist.x)).equals(pd.DatetimeIndex(p.history["ds"]))
    # Each band is an upper edge followed by its lower edge filled up to it.
    for level in ("80", "95"):
        (lower,) = traces(fig, f"{level}% interval")
        upper = fig.data[list(fig.data).index(lower) - 1]
        assert list(lower.y) == p.forecast[f"yhat_lo_{level}"].tolist()
        assert list(upper.y) == p.forecast[f"yhat_hi_{level}"].tolist()
        assert lower.fill == "tonexty"


def test_coverage_chart_draws_required_scheduled_and_positive_shortfall():
    p = plan()
    fig = coverage_figure(p)
    (required,) = traces(fig, "required")
    (scheduled,) = traces(fig, "scheduled")
    (short,) = traces(fig, "shortfall")
    assert list(required.y) == p.coverage["required"].tolist()
    assert list(scheduled.y) == p.coverage["scheduled"].tolist()
    expected = p.coverage["shortfall"].where(p.coverage["shortfall"] > 0)
    np.testing.assert_array_equal(np.array(short.y, dtype=float), expected.to_numpy())
    assert np.nanmin(np.array(short.y, dtype=float)) > 0  # drawn upwards, never negative


def test_service_level_heat_map_is_the_mean_by_day_and_hour():
    p = plan()
    (heat,) = service_level_figure(p).data
    z = np.array(heat.z, dtype=float)
    assert z.shape == (2, 24) and list(heat.x) == list(range(24))
    cov = p.coverage
    for d, day in enumerate(sorted(cov["ds"].dt.normalize().unique())):
        for hour in (0, 7, 23):
            rows = cov[(cov["ds"].dt.normalize() == day) & (cov["ds"].dt.hour == hour)]
            assert z[d, hour] == pytest.approx(rows["service_level"].mean())

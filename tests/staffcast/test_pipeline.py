"""The pipeline: week selection, forecast-to-volume and a real `staffcast plan` round trip."""

import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main
from staffcast.pipeline import forecast_volume, plan_week
from staffcast.store import RunStore
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop


@pytest.mark.parametrize(
    ("end", "week", "start", "horizon"),
    [
        # History ends Sunday 23:00: the plan is the very next week, 168 hours.
        ("2026-11-08 23:00", None, "2026-11-09", 168),
        # Ends Wednesday 10:00: skip the rest of that week (the first FULL week).
        ("2026-11-04 10:00", None, "2026-11-09", 13 + 4 * 24 + 168),
        # Ends Sunday 22:00: Monday is still the next week start; one hour more to forecast.
        ("2026-11-08 22:00", None, "2026-11-09", 169),
        ("2026-11-08 23:00", dt.date(2026, 11, 16), "2026-11-16", 336),
    ],
)
def test_plan_week(end, week, start, horizon):
    got_start, got_horizon = plan_week(pd.Timestamp(end), week)
    assert got_start == pd.Timestamp(start) and got_horizon == horizon


def test_plan_week_before_history_end_is_an_error():
    with pytest.raises(ValueError, match="--week 2026-11-02: the plan must start after the "
                                         "history ends \\(last hour 2026-11-08 23:00\\)"):
        plan_week(pd.Timestamp("2026-11-08 23:00"), dt.date(2026, 11, 2))


def test_forecast_volume_picks_the_quantile_column_and_clips_negatives():
    fc = pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2026-01-01 00:00", "2026-01-01 01:00"],
                       "model": ["arima", "arima"], "yhat": [-1.0, 5.0],
                       "yhat_lo_80": [0, 4], "yhat_hi_80": [2.0, 7.0], "yhat_lo_95": [0, 3],
                       "yhat_hi_95": [3.0, 9.0]})
    assert forecast_volume(fc)["volume"].tolist() == [0.0, 5.0]
    assert forecast_volume(fc, "80")["volume"].tolist() == [2.0, 7.0]
    with pytest.raises(ValueError, match="volume_quantile must be one of mean, 80, 95"):
        forecast_volume(fc, "99")
    two = pd.concat([fc, fc.assign(model="snaive")])
    with pytest.raises(ValueError, match="several models \\(arima, snaive\\)"):
        forecast_volume(two)
    assert len(forecast_volume(two, model="snaive")) == 2


CONFIG = SMALL_SHOP_CONFIG


@pytest.fixture
def small_shop(tmp_path):
    write_small_shop(tmp_path, CONFIG)
    return tmp_path


def test_plan_round_trip_writes_every_output(small_shop):
    out = small_shop / "out"
    result = CliRunner().invoke(main, [
        "plan", "--history", str(small_shop / "history.csv"), "--config",
        str(small_shop / "config.yaml"), "--out-dir", str(out), "--solver", "cbc",
        "--time-limit", "30", "--store", str(small_shop / "runs.duckdb")])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"forecast.csv", "requirements.csv", "roster.csv", "activities.csv", "coverage.csv",
            "summary.json", "config.resolved.yaml", "history.csv", "calendar.csv"} <= names
    shown = pd.read_csv(out / "history.csv", parse_dates=["ds"])
    assert shown["ds"].min() == pd.Timestamp("2026-10-12") and len(shown) == 28 * 24
    fc = pd.read_csv(out / "forecast.csv", parse_dates=["ds"])
    assert fc["ds"].min() == pd.Timestamp("2026-11-09") and len(fc) == 168
    # Closed hours forecast zero; histavg reproduces the noiseless weekly shape exactly.
    assert (fc.loc[~fc["ds"].dt.hour.between(8, 19), "yhat"] == 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible") and summary["week_start"] == "2026-11-09"
    assert summary["mip_gap"] is not None and summary["shortfall_agent_hours"] == 0
    cov = pd.read_csv(out / "coverage.csv")
    assert (cov["scheduled"] + cov["shortfall"] >= cov["required"] - 1e-9).all()
    req = pd.read_csv(out / "requirements.csv")
    # Coverage is checked against the very requirement the plan staffed.
    assert cov["required"].sum() == pytest.approx(req["agents_required"].sum())
    # The run store holds the same plan as the folder.
    with RunStore(small_shop / "runs.duckdb", read_only=True) as store:
        recorded = store.run(1)
        stored_req = store.table("requirements", 1)
        schedule = store.table("schedules", 1).iloc[0]
        stored_cov = store.table("coverage", 1)
    assert recorded["kind"] == "plan" and recorded["status"] == "ok"
    assert recorded["config_yaml"] == (out / "config.resolved.yaml").read_text()
    assert stored_req["agents_required"].sum() == pytest.approx(req["agents_required"].sum())
    assert schedule["status"] == summary["status"]
    assert schedule["labour_cost"] == pytest.approx(summary["labour_cost"])
    assert stored_cov["scheduled"].sum() == pytest.approx(cov["scheduled"].sum())


def test_plan_needs_a_config(small_shop):
    result = CliRunner().invoke(main, ["plan", "--history", str(small_shop / "history.csv"),
                                       "--out-dir", str(small_shop / "o")])
    assert result.exit_code != 0 and "plan needs --config" in result.output


def test_plan_with_simulate_writes_the_simulation_next_to_the_plan(small_shop):
    out = small_shop / "sim"
    result = CliRunner().invoke(main, [
        "plan", "--history", str(small_shop / "history.csv"), "--config",
        str(small_shop / "config.yaml"), "--out-dir", str(out), "--solver", "highs",
        "--time-limit", "30", "--simulate", "3"])
    assert result.exit_code == 0, result.output
    days = pd.read_csv(out / "simulation_days.csv")
    assert sorted(days["day"].unique()) == [f"2026-11-{d:02d}" for d in range(9, 16)]
    assert json.loads((out / "simulation.json").read_text())["replications"] == 3
    # Simulated offered contacts match the planned volume within Poisson noise (7 days).
    req = pd.read_csv(out / "requirements.csv")
    assert days["offered"].sum() == pytest.approx(req["volume"].sum(), rel=0.05)

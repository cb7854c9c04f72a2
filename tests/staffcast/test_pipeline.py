"""The pipeline: week selection, forecast-to-volume and a real `staffcast plan` round trip."""

import datetime as dt
import json

import numpy as np
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


def test_plan_week_of_half_hourly_history():
    # Ends Sunday 23:30: the next Monday starts the week, 168 hours of 30-minute rows.
    assert plan_week(pd.Timestamp("2026-11-08 23:30"), None, pd.Timedelta(minutes=30)) == (
        pd.Timestamp("2026-11-09"), 168)


def test_volume_on_grid_sums_finer_rows_and_weights_handle_time():
    from staffcast.pipeline import volume_on_grid

    volume = pd.DataFrame({"unique_id": pd.array(["a"] * 4, dtype="string"),
                           "ds": pd.date_range("2026-11-09", periods=4, freq="15min"),
                           "volume": [10.0, 30.0, 0.0, 0.0],
                           "aht_s": [100.0, 300.0, 200.0, np.nan]})
    out = volume_on_grid(volume, 30)
    assert out["volume"].tolist() == [40.0, 0.0]
    assert out["aht_s"].tolist() == pytest.approx([(10 * 100 + 30 * 300) / 40, 200.0])
    hourly = volume_on_grid(volume, 15)
    assert hourly.equals(volume)


LOG_CONFIG = SMALL_SHOP_CONFIG.replace("interval_minutes: 60", "interval_minutes: 30").replace(
    "start_step_minutes: 60", "start_step_minutes: 30") + "timezone: Asia/Shanghai\n"


def test_contact_log_to_a_half_hourly_plan_with_handle_times(tmp_path):
    """ingest a UTC contact log, then plan: 30-minute forecast rows with aht_s, staffed
    with that handle time on the 30-minute schedule grid."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-10-12", "2026-11-08", freq="D")
    rows = []
    for day in days:
        for hour in range(8, 20):
            n = rng.poisson(12 if day.weekday() < 5 else 6)
            arrive = day + pd.Timedelta(hours=hour) + pd.to_timedelta(
                rng.uniform(0, 3600, n), unit="s")
            handle = 240 + 20 * (hour - 8)          # handle time grows through the day
            for t in arrive:
                utc = (t - pd.Timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
                ans = (t - pd.Timedelta(hours=8) + pd.Timedelta(seconds=20))
                end = ans + pd.Timedelta(seconds=handle)
                rows.append(("chat", utc, ans.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             end.strftime("%Y-%m-%dT%H:%M:%SZ")))
    log = pd.DataFrame(rows, columns=["queue", "arrived_at", "answered_at", "ended_at"])
    log.sample(frac=1.0, random_state=0).to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "config.yaml").write_text(LOG_CONFIG)
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--contacts", str(tmp_path / "log.csv"),
                                  "--interval-minutes", "30", "--config",
                                  str(tmp_path / "config.yaml"),
                                  "--out", str(tmp_path / "history.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "history.patience.csv").is_file()
    history = pd.read_csv(tmp_path / "history.csv", parse_dates=["ds"])
    assert history["ds"].min() == pd.Timestamp("2026-10-12 08:00")   # local, not UTC
    assert history["y"].sum() == len(log)
    out = tmp_path / "plan"
    result = runner.invoke(main, [
        "plan", "--history", str(tmp_path / "history.csv"), "--config",
        str(tmp_path / "config.yaml"), "--out-dir", str(out), "--solver", "cbc",
        "--time-limit", "30", "--no-store"])
    assert result.exit_code == 0, result.output
    fc = pd.read_csv(out / "forecast.csv", parse_dates=["ds"])
    assert len(fc) == 336 and (fc["ds"].diff().dropna() == pd.Timedelta(minutes=30)).all()
    open_rows = fc["ds"].dt.hour.between(8, 19)
    hour = fc.loc[open_rows, "ds"].dt.hour
    # Within 5% of the true handle time (slot smoothing rounds the hourly steps), where one
    # constant would be 30% off at either end of the day.
    assert fc.loc[open_rows, "aht_s"].to_numpy() == pytest.approx(240 + 20 * (hour - 8),
                                                                  rel=0.05)
    req = pd.read_csv(out / "requirements.csv", parse_dates=["ds"])
    assert len(req) == 336
    busy = req[req["volume"] > 0]
    assert busy["erlangs"].to_numpy() == pytest.approx(
        busy["volume"] * busy["aht_s"] / 1800)
    assert busy["aht_s"].to_numpy() == pytest.approx(
        fc.set_index("ds").loc[busy["ds"], "aht_s"].to_numpy())


def test_a_spring_forward_hour_is_forecast_zero_in_the_queues_zone():
    from staffcast.pipeline import skipped_hours_zero

    ds = pd.date_range("2026-03-29 00:00", periods=5, freq="h")   # Berlin skips 02:00
    fc = pd.DataFrame({"unique_id": "q", "ds": ds, "model": "m", "yhat": 5.0,
                       "yhat_lo_80": 4.0, "yhat_hi_80": 6.0, "yhat_lo_95": 3.0,
                       "yhat_hi_95": 7.0, "aht_s": 300.0})
    out = skipped_hours_zero(fc, "Europe/Berlin")
    assert out["yhat"].tolist() == [5.0, 5.0, 0.0, 5.0, 5.0]
    assert out["yhat_hi_95"].tolist() == [7.0, 7.0, 0.0, 7.0, 7.0]
    assert out["aht_s"].tolist() == [300.0] * 5
    assert skipped_hours_zero(fc, "Asia/Shanghai").equals(fc)
    assert skipped_hours_zero(fc, None).equals(fc)

"""`staffcast accuracy` and `staffcast reforecast` on small files: outputs, printed
summaries, the morning forecast's three sources, and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.forecasting.intraday import REFORECAST_COLUMNS
from staffcast.cli import main
from staffcast.store import RunRecord, RunStore

CONFIG = ("queues:\n  chat:\n    opening_hours: '08:00-20:00'\n"
          "forecast:\n  model: histavg\n  country: none\n")
DAY = pd.Timestamp("2026-11-11")  # a Wednesday
HALF_SHARE = 0.4  # the documented default of staffcast.forecasting.intraday.IntradayParams


def shape(hours: np.ndarray) -> np.ndarray:
    """Calls per hour of an ordinary day: open 08:00-20:00, a midday hump."""
    return np.where((hours >= 8) & (hours < 20), np.round(20 + 10 * np.sin((hours - 8) / 12
                                                                           * np.pi)), 0.0)


@pytest.fixture
def shop(tmp_path):
    """history.csv: three weeks of ordinary days, then 2026-11-11 running at 1.5 times the
    usual volume up to 13:00; config.yaml opens the queue 08:00-20:00."""
    ds = pd.date_range("2026-10-19", "2026-11-11 13:00", freq="h")
    y = shape(ds.hour.to_numpy()) * np.where(ds >= DAY, 1.5, 1.0)
    pd.DataFrame({"unique_id": "chat", "ds": ds, "y": y}).to_csv(tmp_path / "history.csv",
                                                                  index=False)
    (tmp_path / "config.yaml").write_text(CONFIG)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_reforecast_fits_the_morning_forecast_when_nothing_is_recorded(shop):
    out = shop / "reforecast.csv"
    store = shop / "runs.duckdb"
    result = run("reforecast", "--history", shop / "history.csv", "--as-of", "2026-11-11 10:00",
                 "--config", shop / "config.yaml", "--store", store, "--out", out)
    assert result.exit_code == 0, result.output
    assert "fitting histavg on the history before it" in result.stderr
    assert "4 history hour(s) from 2026-11-11 10:00 on are ignored" in result.stderr
    frame = pd.read_csv(out, parse_dates=["ds"])
    assert list(frame.columns) == list(REFORECAST_COLUMNS)
    assert list(frame["ds"]) == list(pd.date_range("2026-11-11 10:00", periods=14, freq="h"))
    # Every ordinary day is the same, so histavg's morning forecast is the shape itself.
    hours = np.arange(24)
    so_far, day = shape(hours[:10]).sum(), shape(hours).sum()
    weight = so_far / (so_far + HALF_SHARE * day)
    factor = 1 + weight * (1.5 - 1)
    np.testing.assert_allclose(frame["yhat_morning"], shape(hours[10:]), atol=1e-9)
    np.testing.assert_allclose(frame["yhat"], factor * shape(hours[10:]), atol=1e-9)
    np.testing.assert_allclose(frame["scale_factor"], factor)
    assert (f"queue chat: actual {1.5 * so_far:,.0f} vs morning forecast {so_far:,.0f} "
            f"before 10:00 (ratio 1.500, weight {weight:.2f}) -> scale factor "
            f"{factor:.3f}") in result.stdout
    assert (shop / "reforecast.csv.config.yaml").is_file()
    with RunStore(store, read_only=True) as opened:
        runs = opened.runs()
        recorded = opened.table("forecasts", 1)
    assert list(runs["kind"]) == ["reforecast"]
    assert (recorded["origin"] == pd.Timestamp("2026-11-11 09:00")).all()
    np.testing.assert_allclose(recorded["yhat"], frame["yhat"])


def test_reforecast_takes_the_newest_recorded_forecast_made_before_the_day(shop):
    store = shop / "runs.duckdb"
    hours = pd.date_range(DAY, periods=24, freq="h")
    with RunStore(store) as opened:
        for level, origin in ((10.0, "2026-11-10 23:00"), (12.0, "2026-11-10 23:00"),
                              (99.0, "2026-11-11 05:00")):  # the last one saw the day
            opened.record(RunRecord(kind="forecast", command="t", model="histavg",
                                    forecasts=pd.DataFrame({
                                        "unique_id": "chat", "ds": hours, "model": "histavg",
                                        "yhat": level, "yhat_lo_80": level - 1,
                                        "yhat_hi_80": level + 1, "yhat_lo_95": level - 2,
                                        "yhat_hi_95": level + 2,
                                        "origin": pd.Timestamp(origin)})))
    out = shop / "re.csv"
    result = run("reforecast", "--history", shop / "history.csv", "--as-of", "2026-11-11 10:00",
                 "--config", shop / "config.yaml", "--store", store, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"morning forecast: run 2 in {store}" in result.stdout
    # 12 per hour forecast for 00:00-09:00 (120), 1.5 x (shape 08:00 + 09:00) seen.
    actual = 1.5 * shape(np.array([8, 9])).sum()
    weight = 120 / (120 + HALF_SHARE * 288)
    frame = pd.read_csv(out)
    np.testing.assert_allclose(frame["scale_factor"], 1 + weight * (actual / 120 - 1))
    np.testing.assert_allclose(frame["yhat_hi_95"], 14 * frame["scale_factor"])


def test_reforecast_takes_only_todays_actuals_when_the_morning_forecast_is_recorded(shop):
    # Intraday the planner exports just today so far; the morning forecast is in the store.
    history = pd.read_csv(shop / "history.csv", parse_dates=["ds"])
    history[history["ds"] >= DAY].to_csv(shop / "today.csv", index=False)
    store = shop / "runs.duckdb"
    hours = pd.date_range(DAY, periods=24, freq="h")
    morning = pd.DataFrame({"unique_id": "chat", "ds": hours, "model": "histavg",
                            "yhat": shape(hours.hour.to_numpy()), "yhat_lo_80": 0.0,
                            "yhat_hi_80": 50.0, "yhat_lo_95": 0.0, "yhat_hi_95": 60.0,
                            "origin": DAY - pd.Timedelta(hours=1)})
    with RunStore(store) as opened:
        opened.record(RunRecord(kind="forecast", command="t", model="histavg",
                                forecasts=morning))
    result = run("reforecast", "--history", shop / "today.csv", "--as-of", "2026-11-11 10:00",
                 "--config", shop / "config.yaml", "--store", store, "--out", shop / "r.csv")
    assert result.exit_code == 0, result.output
    so_far, day = shape(np.arange(10)).sum(), shape(np.arange(24)).sum()
    weight = so_far / (so_far + HALF_SHARE * day)
    np.testing.assert_allclose(pd.read_csv(shop / "r.csv")["scale_factor"],
                               1 + weight * 0.5)
    # Without a recorded forecast, today alone is too short to fit one: one clear line.
    bare = run("reforecast", "--history", shop / "today.csv", "--as-of", "2026-11-11 10:00",
               "--config", shop / "config.yaml", "--no-store", "--out", shop / "r2.csv")
    assert bare.exit_code == 1
    assert ("queue 'chat' has 0 hour(s) before 2026-11-11; fitting a morning forecast "
            "needs at least 336") in bare.output
    assert not (shop / "r2.csv").exists()


def test_reforecast_from_a_forecast_file(shop):
    hours = pd.date_range(DAY - pd.Timedelta(days=1), periods=48, freq="h")
    forecast = pd.DataFrame({"unique_id": "chat", "ds": hours, "model": "arima", "yhat": 20.0,
                             "yhat_lo_80": 15.0, "yhat_hi_80": 25.0, "yhat_lo_95": 10.0,
                             "yhat_hi_95": 30.0})
    forecast.to_csv(shop / "forecast.csv", index=False)
    out = shop / "re.csv"
    result = run("reforecast", "--history", shop / "history.csv", "--as-of", "2026-11-11 12:00",
                 "--forecast", shop / "forecast.csv", "--no-store", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 12 and set(frame["model"]) == {"arima"}
    assert f"morning forecast: {shop / 'forecast.csv'}" in result.stdout
    assert not (shop / "runs.duckdb").exists()


@pytest.mark.parametrize("as_of, message", [
    ("2026-11-11 10:30", "Invalid value for --as-of: must be a local time on the hour"),
    ("tomorrow-ish", "Invalid value for --as-of: must be a time like '2026-11-11 10:00'"),
    ("2026-11-12 10:00", ("--as-of 2026-11-12 10:00 is outside the history of queue 'chat' "
                         "(2026-10-19 00:00 to 2026-11-11 13:00)")),
    ("2026-10-19 00:00", "outside the history"),
])
def test_reforecast_as_of_errors(shop, as_of, message):
    result = run("reforecast", "--history", shop / "history.csv", "--as-of", as_of,
                 "--no-store", "--out", shop / "re.csv")
    assert result.exit_code != 0
    assert message in result.output
    assert not (shop / "re.csv").exists()


def test_reforecast_forecast_file_must_cover_the_day(shop):
    pd.DataFrame({"unique_id": ["chat"], "ds": ["2026-11-09 10:00"], "model": ["arima"],
                  "yhat": [1.0], "yhat_lo_80": [1.0], "yhat_hi_80": [1.0],
                  "yhat_lo_95": [1.0], "yhat_hi_95": [1.0]}).to_csv(shop / "f.csv", index=False)
    result = run("reforecast", "--history", shop / "history.csv", "--as-of", "2026-11-11 10:00",
                 "--forecast", shop / "f.csv", "--no-store", "--out", shop / "re.csv")
    assert result.exit_code == 1
    assert f"Error: {shop / 'f.csv'}: no forecast covers 2026-11-11" in result.output


def _store_with_one_run(path, actual_days=1):
    hours = pd.date_range(DAY, periods=48, freq="h")
    yhat = shape(hours.hour.to_numpy())
    with RunStore(path) as store:
        store.record(RunRecord(kind="forecast", command="t", model="histavg",
                               forecasts=pd.DataFrame({
                                   "unique_id": "chat", "ds": hours, "model": "histavg",
                                   "yhat": yhat, "yhat_lo_80": 0.9 * yhat,
                                   "yhat_hi_80": 1.1 * yhat, "yhat_lo_95": 0.8 * yhat,
                                   "yhat_hi_95": 1.2 * yhat,
                                   "origin": DAY - pd.Timedelta(hours=1)})))
        store.record(RunRecord(kind="forecast", command="t", model="histavg",
                               forecasts=pd.DataFrame({
                                   "unique_id": "chat", "ds": hours + pd.Timedelta(days=7),
                                   "model": "histavg", "yhat": 1.0, "yhat_lo_80": 0.0,
                                   "yhat_hi_80": 2.0, "yhat_lo_95": 0.0, "yhat_hi_95": 3.0})))
        if actual_days:
            seen = hours[:24 * actual_days]
            store.add_actuals(pd.DataFrame({"unique_id": "chat", "ds": seen,
                                            "y": 1.2 * shape(seen.hour.to_numpy())}))


def test_accuracy_writes_both_files_and_prints_the_tables(tmp_path):
    store = tmp_path / "runs.duckdb"
    _store_with_one_run(store)
    out, detail = tmp_path / "acc.csv", tmp_path / "detail.csv"
    result = run("accuracy", "--store", store, "--out", out, "--detail-out", detail)
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(out)
    assert list(metrics.columns) == ["run_id", "unique_id", "model", "metric", "value"]
    wape = metrics.set_index("metric")["value"]
    # The actuals run at 1.2 times the forecast: |y - yhat| / y = 0.2 / 1.2 every hour.
    assert wape["wape"] == pytest.approx(0.2 / 1.2)
    assert wape["bias"] == pytest.approx(-0.2 / 1.2)
    assert wape["coverage_80"] == 0 and wape["coverage_95"] == 1
    assert wape["hours"] == 12
    # By hand: the 80% band [0.9, 1.1] yhat misses y = 1.2 yhat by 0.1 yhat, so the score is
    # 0.2 yhat + 2 / 0.2 x 0.1 yhat = 1.2 yhat = y; the 95% band [0.8, 1.2] yhat holds y.
    mean_y = wape["actual_total"] / 12
    assert wape["interval_score_80"] == pytest.approx(mean_y)
    assert wape["interval_score_95"] == pytest.approx(0.4 / 1.2 * mean_y)
    details = pd.read_csv(detail)
    assert list(details.columns) == ["run_id", "unique_id", "model", "week", "horizon_day",
                                     "metric", "value"]
    assert set(details["week"]) == {"2026-11-09"} and set(details["horizon_day"]) == {1}
    lines = result.stdout.splitlines()
    assert lines[0] == ("accuracy: 1 run(s) compared, 1 waiting for actuals; actuals up to "
                        "2026-11-11 23:00; runs whose horizon starts from 2026-09-16 23:00")
    row = next(line for line in lines if line.startswith("2026-11-09"))
    assert row.split() == ["2026-11-09", "chat", "histavg", "1", "12", "16.67", "-16.67",
                           "0.00", "100.00", f"{mean_y:,.1f}"]
    assert ("waiting: run 2 (forecast, 2026-11-18 00:00 to 2026-11-19 23:00) has no actuals "
            "yet") in lines
    assert f"wrote {len(metrics)} metric rows to {out}" in lines


def test_accuracy_weeks_limits_the_runs(tmp_path):
    store = tmp_path / "runs.duckdb"
    _store_with_one_run(store)
    with RunStore(store) as opened:
        later = pd.date_range(DAY + pd.Timedelta(days=70), periods=2, freq="h")
        opened.add_actuals(pd.DataFrame({"unique_id": "chat", "ds": later, "y": 1.0}))
    result = run("accuracy", "--store", store, "--weeks", 2)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("accuracy: 0 run(s) compared, 0 waiting")


def test_accuracy_errors(tmp_path):
    missing = run("accuracy", "--store", tmp_path / "none.duckdb")
    assert missing.exit_code == 1
    assert f"Error: run store {tmp_path / 'none.duckdb'}: no such file" in missing.output
    _store_with_one_run(tmp_path / "empty.duckdb", actual_days=0)
    empty = run("accuracy", "--store", tmp_path / "empty.duckdb")
    assert empty.exit_code == 1
    assert "holds no actuals yet; load them with `staffcast actuals --history H`" in empty.output
    bad = run("accuracy", "--store", tmp_path / "empty.duckdb", "--weeks", 0)
    assert bad.exit_code == 2 and "--weeks" in bad.output


def test_accuracy_json_holds_the_weekly_table(tmp_path):
    store = tmp_path / "runs.duckdb"
    _store_with_one_run(store)
    out = tmp_path / "acc.csv"
    result = run("accuracy", "--store", store, "--json", "--out", out)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout is the JSON object alone
    assert summary["command"] == "accuracy"
    assert "compared" in [r["status"] for r in summary["runs"]]
    (week,) = summary["by_week"]
    assert week["wape"] == pytest.approx(0.2 / 1.2) and week["bias"] == pytest.approx(-0.2 / 1.2)
    assert "metric rows" not in result.stdout and str(out) in result.stderr

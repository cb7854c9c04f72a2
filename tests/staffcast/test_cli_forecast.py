"""`staffcast forecast` and `staffcast backtest` round trips on small files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.forecasting.core import FORECAST_COLUMNS
from staffcast.cli import main
from staffcast.config import load_config
from tests.forecast.test_models import synthetic_history


@pytest.fixture
def history_csv(tmp_path):
    path = tmp_path / "history.csv"
    synthetic_history(weeks=3, seed=5)[["ds", "y"]].to_csv(path, index=False)
    return path


@pytest.fixture
def config_yaml(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("queues:\n  default:\n    opening_hours: '08:00-20:00'\n"
                    "forecast:\n  model: histavg\n  country: none\n")
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_forecast_round_trip_with_config(tmp_path, history_csv, config_yaml):
    out = tmp_path / "out" / "forecast.csv"
    result = run("forecast", "--history", history_csv, "--config", config_yaml,
                 "--horizon", 48, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, parse_dates=["ds"])
    assert list(frame.columns) == list(FORECAST_COLUMNS)
    assert len(frame) == 48 and set(frame["unique_id"]) == {"default"}
    assert set(frame["model"]) == {"histavg"}  # from the config
    history_end = pd.read_csv(history_csv, parse_dates=["ds"])["ds"].max()
    assert frame["ds"].iloc[0] == history_end + pd.Timedelta(hours=1)
    closed = (frame["ds"].dt.hour < 8) | (frame["ds"].dt.hour >= 20)
    assert (frame.loc[closed, "yhat":"yhat_hi_95"] == 0).all().all()
    assert (frame.loc[~closed, "yhat"] > 0).all()
    assert np.all(frame["yhat_lo_95"] <= frame["yhat_lo_80"])
    assert np.all(frame["yhat_hi_80"] <= frame["yhat_hi_95"])
    resolved = load_config(tmp_path / "out" / "forecast.csv.config.yaml")
    assert resolved.forecast.horizon == 48 and resolved.forecast.model == "histavg"
    assert resolved.queue("default").opening_hours[0] == ((480, 1200),)


def test_forecast_from_a_contact_log(tmp_path):
    ds = synthetic_history(weeks=3, seed=6)
    log = pd.DataFrame({"ts": np.repeat(ds["ds"].to_numpy(), ds["y"].astype(int).to_numpy())})
    log["ts"] = log["ts"] + pd.Timedelta(minutes=7)
    log["q"] = "chat"
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    out = tmp_path / "f.csv"
    result = run("forecast", "--history", path, "--events", "--timestamp-col", "ts",
                 "--queue-col", "q", "--country", "none", "--model", "snaive", "--horizon", 24,
                 "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert set(frame["unique_id"]) == {"chat"} and len(frame) == 24


def test_backtest_round_trip_always_shows_the_baselines(tmp_path, history_csv):
    out = tmp_path / "metrics.csv"
    result = run("backtest", "--history", history_csv, "--country", "none", "--horizon", 24,
                 "--windows", 2, "--models", "arima", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = pd.read_csv(out)
    assert list(metrics.columns) == ["unique_id", "model", "metric", "value"]
    assert set(metrics["model"]) == {"snaive", "histavg", "arima"}
    for model in ("snaive", "histavg", "arima"):
        assert model in result.output
    assert "WAPE %" in result.output


def test_unknown_model_is_one_readable_line(tmp_path, history_csv):
    result = run("forecast", "--history", history_csv, "--country", "none", "--model", "ets",
                 "--out", tmp_path / "f.csv")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: unknown model 'ets'; valid models: snaive, histavg, trimavg, arima, prophet, auto"]


def test_missing_hours_error_names_them(tmp_path):
    frame = synthetic_history(weeks=3, seed=7)[["ds", "y"]].drop(index=[30, 31])
    path = tmp_path / "gappy.csv"
    frame.to_csv(path, index=False)
    result = run("forecast", "--history", path, "--country", "none", "--out", tmp_path / "f.csv")
    assert result.exit_code == 1 and "missing hour" in result.output
    result = run("forecast", "--history", path, "--country", "none", "--fill-missing", "zero",
                 "--model", "snaive", "--horizon", 24, "--out", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output


def test_warns_when_the_builtin_calendar_does_not_cover_the_horizon(tmp_path):
    ds = pd.date_range("2026-12-07", periods=21 * 24, freq="h")
    frame = pd.DataFrame({"ds": ds, "y": np.random.default_rng(8).poisson(20, len(ds))})
    path = tmp_path / "h.csv"
    frame.to_csv(path, index=False)
    result = run("forecast", "--history", path, "--country", "CN", "--model", "snaive",
                 "--horizon", 168, "--out", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    assert "Warning:" in result.stderr and "2027" in result.stderr


def test_forecast_is_recorded_in_the_store(tmp_path, history_csv, config_yaml):
    import hashlib

    from staffcast.store import RunStore

    store = tmp_path / "runs.duckdb"
    out = tmp_path / "forecast.csv"
    result = run("forecast", "--history", history_csv, "--config", config_yaml,
                 "--horizon", 48, "--out", out, "--store", store)
    assert result.exit_code == 0, result.output
    assert f"recorded run 1 in {store}" in result.output
    written = pd.read_csv(out, parse_dates=["ds"])
    with RunStore(store, read_only=True) as opened:
        runs = opened.runs()
        stored = opened.table("forecasts", 1)
        inputs = opened.table("run_inputs", 1).set_index("name")
        config_text = opened.run(1)["config_yaml"]
    assert runs[["kind", "status", "model", "n_queues"]].values.tolist() == [
        ["forecast", "ok", "histavg", 1]]
    np.testing.assert_allclose(stored["yhat"].to_numpy(), written["yhat"].to_numpy())
    assert (stored["ds"].to_numpy() == written["ds"].to_numpy()).all()
    history_end = pd.read_csv(history_csv, parse_dates=["ds"])["ds"].max()
    assert (stored["origin"] == history_end).all()
    assert inputs.loc["history", "sha256"] == hashlib.sha256(history_csv.read_bytes()
                                                             ).hexdigest()
    assert set(inputs.index) == {"history", "config"}
    assert config_text == (tmp_path / "forecast.csv.config.yaml").read_text()


def test_no_store_records_nothing(tmp_path, history_csv, config_yaml, monkeypatch):
    default = tmp_path / "default.duckdb"
    monkeypatch.setenv("STAFFCAST_STORE", str(default))
    result = run("forecast", "--history", history_csv, "--config", config_yaml,
                 "--horizon", 24, "--out", tmp_path / "f.csv", "--no-store")
    assert result.exit_code == 0, result.output
    assert not default.exists() and "recorded run" not in result.output
    result = run("forecast", "--history", history_csv, "--config", config_yaml,
                 "--horizon", 24, "--out", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    assert f"recorded run 1 in {default}" in result.output


def test_a_queue_with_too_little_history_fails_alone(tmp_path, config_yaml):
    long = synthetic_history(weeks=3, seed=5, queue="old")
    new = synthetic_history(weeks=1, seed=6, queue="new").iloc[-100:]
    pd.concat([long, new])[["unique_id", "ds", "y"]].to_csv(tmp_path / "h.csv", index=False)
    out = tmp_path / "f.csv"
    result = run("forecast", "--history", tmp_path / "h.csv", "--config", config_yaml,
                 "--horizon", 24, "--workers", 1, "--out", out, "--no-store")
    # The other queue's forecast is written, and the lost queue makes the exit status 3.
    assert result.exit_code == 3, result.output
    assert set(pd.read_csv(out)["unique_id"]) == {"old"}
    failures = pd.read_csv(tmp_path / "f.csv.failures.csv")
    assert failures["unique_id"].tolist() == ["new"]
    # 100 hours (Thursday to Monday) hold no two days of one type: histavg and its snaive
    # fallback both say so.
    assert failures["reason"].iloc[0].startswith("QueueForecastError: queue 'new': histavg: ")
    assert "fallback snaive: ValueError: snaive: needs at least two days of the same type" in (
        failures["reason"].iloc[0])
    # The same queue alone: nothing to forecast, one line naming it and the rule.
    new[["ds", "y"]].to_csv(tmp_path / "new.csv", index=False)
    alone = run("forecast", "--history", tmp_path / "new.csv", "--config", config_yaml,
                "--horizon", 24, "--out", tmp_path / "g.csv", "--no-store")
    assert alone.exit_code == 1 and alone.output.count("\n") <= 2
    assert "every queue failed (1): default: QueueForecastError" in alone.output
    assert not (tmp_path / "g.csv").exists()

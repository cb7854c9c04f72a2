"""The engine: inline without Dask for one task, a real local cluster for several."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.scheduler.requirements import QueueStaffing, compute_requirements
from staffcast.cli import main
from staffcast.parallel import EngineError, TaskFailure, batch_size, open_engine
from staffcast.pipeline import forecast_many, forecast_volume, requirements_many
from tests.forecast.test_models import synthetic_history


def _pid_and_scaled(item: int, *, factor: int) -> tuple[int, int, str | None]:
    if item < 0:
        raise ValueError(f"item must be >= 0, got {item}")
    return os.getpid(), item * factor, os.environ.get("OPENBLAS_NUM_THREADS")


def test_inline_path_imports_no_dask():
    # A fresh interpreter: this test process may already have imported distributed.
    code = ("import sys\n"
            "from staffcast.parallel import open_engine\n"
            "from tests.staffcast.test_parallel import _pid_and_scaled\n"
            "with open_engine(None, None, tasks=1) as engine:\n"
            "    out = engine.map(_pid_and_scaled, [2, -1], keys=['a', 'b'], stage='t',\n"
            "                     shared={'factor': 3})\n"
            "assert not engine.parallel\n"
            "print(out.values[0][1], out.failures[0].reason,\n"
            "      any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=os.getcwd())
    assert done.stdout.strip() == "6 ValueError: item must be >= 0, got -1 False"


def test_one_worker_runs_inline_in_this_process():
    with open_engine(1, None, tasks=3) as engine:
        out = engine.map(_pid_and_scaled, [1, 2], keys=["a", "b"], stage="t",
                         shared={"factor": 2})
    assert not engine.parallel and engine.describe() == "inline (no cluster)"
    assert [v[:2] for v in out.values] == [(os.getpid(), 2), (os.getpid(), 4)]


def test_two_worker_cluster_matches_the_serial_forecast_and_lists_a_failed_queue():
    history = pd.concat([synthetic_history(2, seed=s, queue=f"q{s}") for s in range(4)],
                        ignore_index=True)
    # q9 has 40 hours: under two days, so neither histavg nor its snaive fallback can fit.
    short = synthetic_history(1, seed=9, queue="q9").iloc[-40:]
    short = short.assign(ds=short["ds"] + (history["ds"].max() - short["ds"].max()))
    history = pd.concat([history, short], ignore_index=True)
    serial = forecast_many(history, horizon=24, models=["histavg"])
    with open_engine(2, None, tasks=5) as engine:
        assert engine.parallel and engine.workers == 2
        parallel = forecast_many(history, horizon=24, models=["histavg"], engine=engine)
        # 201 items: grouped three to a task (batch_size), one bad item in the middle.
        items = [*range(100), -5, *range(100, 200)]
        assert batch_size(len(items), 2) == 3
        pids = engine.map(_pid_and_scaled, items, keys=[f"k{i}" for i in range(201)],
                          stage="t", shared={"factor": 1})
    pd.testing.assert_frame_equal(parallel.predicted, serial.predicted)
    assert sorted(parallel.predicted["unique_id"].unique()) == ["q0", "q1", "q2", "q3"]
    assert len(parallel.failures) == 1
    failure = parallel.failures[0]
    assert (failure.key, failure.stage) == ("q9", "forecast")
    assert failure.reason.startswith("QueueForecastError: queue 'q9': histavg: ValueError:")
    assert parallel.failures == serial.failures
    assert [v[1] for v in pids.values] == list(range(200))  # input order kept
    assert pids.failures == (TaskFailure("k100", "t", "ValueError: item must be >= 0, got -5"),)
    assert {v[0] for v in pids.values} - {os.getpid()}  # ran in worker processes
    assert {v[2] for v in pids.values} == {"1"}  # single-threaded BLAS in the workers
    problems = parallel.problems
    assert problems.to_dict("records") == [{
        "unique_id": "q9", "stage": "forecast", "requested_model": "histavg",
        "used_model": "", "reason": failure.reason}]


def test_failures_keep_input_order_and_name_each_item():
    with open_engine(1, None, tasks=4) as engine:
        out = engine.map(_pid_and_scaled, [3, -2, 5, -7], keys=["a", "b", "c", "d"],
                         stage="demo", shared={"factor": 1})
    assert [key for key, _ in out.done] == ["a", "c"]
    assert out.failures == (TaskFailure("b", "demo", "ValueError: item must be >= 0, got -2"),
                            TaskFailure("d", "demo", "ValueError: item must be >= 0, got -7"))


def test_unreachable_scheduler_is_a_clear_error():
    expected = r"--scheduler tcp://127\.0\.0\.1:9: no Dask scheduler answered within 1 s"
    with (pytest.raises(EngineError, match=expected),
          open_engine(None, "tcp://127.0.0.1:9", tasks=3, connect_timeout_s=1.0)):
        pass


@pytest.mark.parametrize("address", ["localhost:8786", "http://host:8786", "tcp://"])
def test_malformed_scheduler_address_is_rejected(address):
    with (pytest.raises(EngineError, match="--scheduler must look like tcp://host:port"),
          open_engine(None, address, tasks=3)):
        pass


@pytest.mark.parametrize("workers", [0, -2, True, 1.5])
def test_bad_worker_count_is_rejected(workers):
    with (pytest.raises(EngineError, match="--workers must be a whole number >= 1"),
          open_engine(workers, None, tasks=3)):
        pass


def _shop(folder: Path) -> list[str]:
    """A small shop's files; returns the `forecast` options that read them. Three weeks
    of history for four queues: 'chat' and 'phone' are healthy; 'mornings' opens 08-11 for
    its last two weeks only (42 open hours: too few for arima, enough for snaive); 'refit'
    was closed for a refurbishment all along (a calendar closure: without one normal day
    its weekly rest day cannot be learned, so it fails before any model)."""
    history = pd.concat([synthetic_history(3, seed=s, queue=q) for s, q in
                         enumerate(["chat", "phone", "mornings", "refit"])], ignore_index=True)
    start, end = history["ds"].min(), history["ds"].max()
    history.to_csv(folder / "history.csv", index=False)
    (folder / "calendar.csv").write_text(
        "event,start,end,kind,unique_id\n"
        f"refurbishment,{start:%Y-%m-%d},{end:%Y-%m-%d},closure,refit\n"
        f"not_yet_open,{start:%Y-%m-%d},{start + pd.Timedelta(days=6):%Y-%m-%d},closure,"
        "mornings\n")
    (folder / "config.yaml").write_text(
        "queues:\n  mornings:\n    opening_hours: '08:00-11:00'\n"
        "forecast:\n  country: none\n")
    return ["--history", str(folder / "history.csv"), "--calendar",
            str(folder / "calendar.csv"), "--config", str(folder / "config.yaml")]


def test_cli_forecast_on_two_workers_lists_the_failed_queue_and_the_fallback(tmp_path):
    inputs = _shop(tmp_path)
    out = tmp_path / "forecast.csv"
    result = CliRunner().invoke(main, ["forecast", *inputs, "--model", "arima", "--horizon",
                                       "24", "--workers", "2", "--out", str(out)])
    # Outputs are written for the other queues, but a lost queue is not a success.
    assert result.exit_code == 3, result.output
    assert "Error: 1 lost: refit (listed in" in result.output
    frame = pd.read_csv(out)
    assert frame.groupby("unique_id")["model"].unique().map(list).to_dict() == {
        "chat": ["arima"], "mornings": ["snaive"], "phone": ["arima"]}
    assert (frame.groupby("unique_id").size() == 24).all()
    failures = pd.read_csv(tmp_path / "forecast.csv.failures.csv", keep_default_na=False)
    assert list(failures.columns) == ["unique_id", "stage", "requested_model", "used_model",
                                      "reason"]
    rows = failures.set_index("unique_id")
    assert rows.loc["mornings", ["stage", "requested_model", "used_model"]].tolist() == [
        "fallback", "arima", "snaive"]
    assert "needs at least 48 open hours of history, got 42" in rows.loc["mornings", "reason"]
    assert rows.loc["refit", ["stage", "requested_model", "used_model"]].tolist() == [
        "forecast", "arima", ""]
    assert rows.loc["refit", "reason"].startswith(
        "ForecastError: history too short: not one complete normal day")
    assert rows.loc["refit", "reason"].endswith("or set rest_day in the queue config")
    # No queue lost: every queue of the history is forecast or listed as failed.
    assert set(frame["unique_id"]) | {"refit"} == set(pd.read_csv(tmp_path / "history.csv")
                                                      ["unique_id"])
    assert "1 failed, 1 fell back to another model:" in result.stderr
    assert "  refit: forecast failed: ForecastError: history too short" in result.stderr


def test_cli_forecast_exits_1_when_every_queue_fails(tmp_path):
    inputs = _shop(tmp_path)
    frame = pd.read_csv(tmp_path / "history.csv")
    frame[frame["unique_id"] == "refit"].to_csv(tmp_path / "history.csv", index=False)
    out = tmp_path / "forecast.csv"
    result = CliRunner().invoke(main, ["forecast", *inputs, "--model", "snaive", "--horizon",
                                       "24", "--out", str(out)])
    assert result.exit_code == 1
    assert ("Error: every queue failed (1): refit: ForecastError: history too short"
            in result.output)
    assert not out.exists()


def test_requirements_per_queue_equal_one_call_over_all_queues():
    ds = pd.date_range("2026-11-09", periods=48, freq="h")
    volume = pd.DataFrame({
        "unique_id": pd.array(["voice"] * 48 + ["chat"] * 48, dtype="string"),
        "ds": ds.append(ds), "volume": [float(10 + i % 24) for i in range(96)]})
    queues = {"voice": QueueStaffing(aht_s=300, sl_target=0.8, sl_seconds=20, patience_s=180),
              "chat": QueueStaffing(aht_s=240, channel="chat", concurrency=2, sl_target=0.8,
                                    sl_seconds=30)}
    hours = {"voice": None, "chat": tuple([((480, 1200),)] * 7)}
    whole = compute_requirements(volume, queues, interval_minutes=30, opening_hours=hours)
    split, failures = requirements_many(volume, queues, interval_minutes=30,
                                        opening_hours=hours)
    assert failures == () and "abandon_rate" in split.columns
    pd.testing.assert_frame_equal(split, whole)
    with pytest.raises(ValueError, match=r"no staffing settings for queue \['chat'\]; "
                                         "configured queues: voice"):
        requirements_many(volume, {"voice": queues["voice"]}, interval_minutes=30)


def test_forecast_volume_takes_one_model_per_queue():
    ds = pd.date_range("2026-11-09", periods=2, freq="h")
    forecast = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": ds.append(ds),
                             "model": ["arima", "arima", "snaive", "snaive"],
                             "yhat": [1.0, 2.0, 3.0, -1.0]})
    assert forecast_volume(forecast)["volume"].tolist() == [1.0, 2.0, 3.0, 0.0]
    both = pd.concat([forecast, forecast.assign(model="histavg")], ignore_index=True)
    with pytest.raises(ValueError, match=r"holds several models \(arima, histavg, snaive\) "
                                         r"for queue\(s\) \['a', 'b'\]; pick one"):
        forecast_volume(both)


def test_cli_backtest_lists_the_queues_that_failed(tmp_path):
    inputs = _shop(tmp_path)
    out = tmp_path / "metrics.csv"
    result = CliRunner().invoke(main, ["backtest", *inputs, "--models", "arima", "--horizon",
                                       "24", "--windows", "2", "--workers", "1",
                                       "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert "Error: 2 lost: mornings, refit (listed in" in result.output
    metrics = pd.read_csv(out)
    assert set(metrics["unique_id"]) == {"chat", "phone"}
    failures = pd.read_csv(f"{out}.failures.csv", keep_default_na=False)
    # No fallback in a backtest: arima fails on 'mornings' and that queue is listed.
    assert failures[["unique_id", "stage", "requested_model", "used_model"]].values.tolist() \
        == [["mornings", "backtest", "snaive,histavg,arima", ""],
            ["refit", "backtest", "snaive,histavg,arima", ""]]
    assert "arima: needs at least 48 open hours" in failures["reason"].iloc[0]

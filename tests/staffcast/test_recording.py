"""Recording glue: a real plan and what-if of the small shop recorded into a store, the
--store/--no-store option, failures, and the error when the store is locked."""

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.core import Fallback
from staffcast.forecasting.data import load_history
from staffcast.scheduler.requirements import compute_requirements
from staffcast.config import load_config
from staffcast.parallel import TaskFailure, problems_frame
from staffcast.pipeline import (
    forecast_volume,
    forecast_week,
    run_schedule,
    schedule_rules,
    staffing_settings,
)
from staffcast.recording import (
    command_line,
    history_ends,
    record_forecast_run,
    record_plan_run,
    record_whatif_run,
    store_option,
)
from staffcast.store import RunStore, StoreError
from staffcast.scenarios import parse_scenarios, run_scenario, scenario_configs
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

LAST_HOUR = pd.Timestamp("2026-11-08 23:00")  # the small shop's history ends here


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    folder = write_small_shop(tmp_path_factory.mktemp("shop"), SMALL_SHOP_CONFIG)
    config = load_config(folder / "config.yaml")
    history = load_history(folder / "history.csv")
    week = forecast_week(config, history, load_calendar(None, country=None), week=None,
                         model="histavg")
    return folder, config, week


def plan(folder, config, week, name="plan"):
    queues, hours = staffing_settings(config, ["chat"])
    requirement = compute_requirements(forecast_volume(week.predicted), queues,
                                       interval_minutes=60, opening_hours=hours)
    run = run_schedule(requirement, schedule_rules(config), folder / name, solver="cbc",
                       time_limit_s=20, gap=0.0)
    return requirement, run


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_record_plan_run_stores_the_plan_as_solved(shop, tmp_path):
    folder, config, week = shop
    requirement, run = plan(folder, config, week)
    store = tmp_path / "runs.duckdb"
    run_id = record_plan_run(store, command="staffcast plan ...", week_forecast=week,
                             requirement=requirement, run=run, config_yaml="resolved: 1\n",
                             inputs={"history": folder / "history.csv",
                                     "config": folder / "config.yaml", "calendar": None})
    assert run_id == 1
    with RunStore(store, read_only=True) as opened:
        facts = opened.run(run_id)
        forecasts = opened.table("forecasts", run_id)
        requirements = opened.table("requirements", run_id)
        schedules = opened.table("schedules", run_id)
        coverage = opened.table("coverage", run_id)
        inputs = opened.table("run_inputs", run_id)
    assert (facts["kind"], facts["model"], facts["status"], facts["config_yaml"]) == (
        "plan", "histavg", "ok", "resolved: 1\n")
    assert facts["horizon_start"] == pd.Timestamp("2026-11-09")
    assert facts["horizon_end"] == pd.Timestamp("2026-11-15 23:00")
    assert json.loads(facts["summary_json"]) == {"outputs": str(folder / "plan"),
                                                 "week_start": "2026-11-09"}
    assert len(forecasts) == 168
    np.testing.assert_allclose(forecasts["yhat"], week.predicted.sort_values("ds")["yhat"])
    assert (forecasts["origin"] == LAST_HOUR).all()
    np.testing.assert_array_equal(requirements["agents_required"],
                                  requirement.sort_values("ds")["agents_required"])
    assert (requirements["scenario"] == "base").all()
    assert (requirements["interval_minutes"] == 60).all()
    row = schedules.iloc[0]
    assert row["scenario"] == "base" and row["status"] == run.summary["status"]
    assert row["labour_cost"] == run.summary["labour_cost"]
    assert row["paid_hours"] == run.summary["paid_hours"]
    assert row["config_yaml"] == "resolved: 1\n"
    assert len(coverage) == len(run.coverage)
    assert coverage["scheduled"].sum() == run.coverage["scheduled"].sum()
    assert dict(zip(inputs["name"], inputs["sha256"])) == {
        "config": sha(folder / "config.yaml"), "history": sha(folder / "history.csv")}


def test_record_forecast_run_with_fallbacks_and_failures(shop, tmp_path):
    folder, _, week = shop
    two = pd.concat([week.predicted, week.predicted.assign(unique_id="mail", model="snaive")],
                    ignore_index=True)
    failures = problems_frame([Fallback("mail", "arima", "snaive", "LinAlgError: singular")],
                              [TaskFailure("phone", "forecast", "ValueError: too short")],
                              requested_model="arima")
    store = tmp_path / "runs.duckdb"
    run_id = record_forecast_run(
        store, command="staffcast forecast", config_yaml="", model="arima",
        inputs={"history": folder / "history.csv"}, forecasts=two,
        origin={"chat": LAST_HOUR, "mail": LAST_HOUR - pd.Timedelta(hours=1)},
        outputs=tmp_path / "f.csv", failures=failures)
    with RunStore(store, read_only=True) as opened:
        facts = opened.run(run_id)
        stored = opened.table("failures", run_id)
        origins = opened.query("SELECT unique_id, min(origin) AS lo, max(origin) AS hi FROM "
                               "forecasts GROUP BY unique_id ORDER BY unique_id")
    assert (facts["status"], facts["n_queues"]) == ("partial", 2)
    assert stored.to_dict("records") == [
        {"unique_id": "mail", "stage": "fallback", "requested_model": "arima",
         "used_model": "snaive", "reason": "LinAlgError: singular"},
        {"unique_id": "phone", "stage": "forecast", "requested_model": "arima",
         "used_model": "", "reason": "ValueError: too short"}]
    assert origins.to_dict("records") == [
        {"unique_id": "chat", "lo": LAST_HOUR, "hi": LAST_HOUR},
        {"unique_id": "mail", "lo": LAST_HOUR - pd.Timedelta(hours=1),
         "hi": LAST_HOUR - pd.Timedelta(hours=1)}]
    with pytest.raises(StoreError, match=r"outputs are in .*f.csv but the run was not "
                                         r"recorded: forecast origin: no last history hour "
                                         r"for queue\(s\) mail"):
        record_forecast_run(store, command="x", config_yaml="", model="arima", inputs={},
                            forecasts=two, origin={"chat": LAST_HOUR},
                            outputs=tmp_path / "f.csv")


def test_failures_without_a_reason_are_refused_and_none_records_none(shop, tmp_path):
    folder, _, week = shop
    store = tmp_path / "runs.duckdb"
    with pytest.raises(StoreError, match="failures: missing column 'reason'"):
        record_forecast_run(store, command="x", config_yaml="", model="arima", inputs={},
                            forecasts=week.predicted, origin=LAST_HOUR,
                            outputs=tmp_path / "f.csv",
                            failures=pd.DataFrame({"unique_id": ["chat"], "stage": ["forecast"],
                                                   "requested_model": ["arima"],
                                                   "used_model": [""]}))
    run_id = record_forecast_run(store, command="x", config_yaml="", model="arima", inputs={},
                                 forecasts=week.predicted, origin=LAST_HOUR,
                                 outputs=tmp_path / "f.csv", failures=None)
    with RunStore(store, read_only=True) as opened:
        assert opened.table("failures", run_id).empty
        assert opened.run(run_id)["status"] == "ok"


def test_history_ends_gives_each_queues_last_hour():
    history = pd.DataFrame({"unique_id": ["a", "a", "b"], "ds": pd.to_datetime(
        ["2026-11-01 10:00", "2026-11-01 11:00", "2026-11-01 09:00"]), "y": [1.0, 2.0, 3.0]})
    assert history_ends(history) == {"a": pd.Timestamp("2026-11-01 11:00"),
                                     "b": pd.Timestamp("2026-11-01 09:00")}


def test_record_whatif_run_reads_each_scenarios_folder(shop, tmp_path):
    folder, config, week = shop
    spec = parse_scenarios({"base": {"history": "history.csv", "config": "config.yaml",
                                     "solver": "cbc", "time_limit_s": 20, "gap": 0.0},
                            "scenarios": {"busy": {"volume": 1.2}}}, folder / "s.yaml")
    out = tmp_path / "whatif"
    outcomes = [run_scenario(name, scenario_config, scenario, spec, week, out / name,
                             agents=None, agents_source="", volume_quantile="mean")
                for name, scenario_config, scenario in scenario_configs(spec, config)]
    store = tmp_path / "runs.duckdb"
    run_id = record_whatif_run(store, command="staffcast whatif", week_forecast=week,
                               outcomes=outcomes, out_dir=out,
                               inputs={"scenarios": None, "history": folder / "history.csv"})
    with RunStore(store, read_only=True) as opened:
        facts = opened.run(run_id)
        forecasts = opened.table("forecasts", run_id)
        requirements = opened.table("requirements", run_id)
        schedules = opened.table("schedules", run_id)
        coverage = opened.table("coverage", run_id)
    assert facts["kind"] == "whatif"
    assert facts["config_yaml"] == (out / "base" / "config.resolved.yaml").read_text()
    assert json.loads(facts["summary_json"])["scenarios"] == ["base", "busy"]
    assert len(forecasts) == len(week.predicted)  # the shared forecast, once, unscaled
    np.testing.assert_allclose(forecasts["yhat"].sum(), week.predicted["yhat"].sum())
    base = requirements[requirements["scenario"] == "base"]
    busy = requirements[requirements["scenario"] == "busy"]
    np.testing.assert_allclose(busy["volume"].to_numpy(), 1.2 * base["volume"].to_numpy())
    assert list(schedules["scenario"]) == ["base", "busy"]
    for outcome in outcomes:
        row = schedules[schedules["scenario"] == outcome.name].iloc[0]
        assert row["labour_cost"] == outcome.run.summary["labour_cost"]
        assert row["config_yaml"] == (out / outcome.name / "config.resolved.yaml").read_text()
        assert (coverage["scenario"] == outcome.name).sum() == len(outcome.run.coverage)


def test_a_locked_store_keeps_the_outputs_and_says_so(shop, tmp_path):
    week = shop[2]
    store = tmp_path / "runs.duckdb"
    script = textwrap.dedent(f"""
        import time
        from staffcast.store import RunStore
        store = RunStore({str(store)!r})
        print("HOLDING", flush=True)
        time.sleep(120)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[2])
    out = tmp_path / "forecast.csv"
    week.predicted.to_csv(out, index=False)
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        with pytest.raises(StoreError, match=rf"^outputs are in {out} but the run was not "
                                             rf"recorded: run store {store} is in use by "
                                             r"another process \(waited 0.3 s"):
            record_forecast_run(store, command="x", config_yaml="", model="histavg",
                                inputs={}, forecasts=week.predicted, origin=LAST_HOUR,
                                outputs=out, wait_s=0.3)
    finally:
        holder.kill()
        holder.wait()
    assert out.read_text() == week.predicted.to_csv(index=False)


@click.command()
@store_option
def _echo_store(store):
    click.echo(f"store={store}")


def test_store_option_gives_one_store_argument(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.delenv("STAFFCAST_STORE", raising=False)
    assert runner.invoke(_echo_store, []).output == "store=.staffcast/runs.duckdb\n"
    monkeypatch.setenv("STAFFCAST_STORE", str(tmp_path / "env.duckdb"))
    assert runner.invoke(_echo_store, []).output == f"store={tmp_path / 'env.duckdb'}\n"
    assert runner.invoke(_echo_store, ["--store", "a.duckdb"]).output == "store=a.duckdb\n"
    assert runner.invoke(_echo_store, ["--no-store"]).output == "store=None\n"
    both = runner.invoke(_echo_store, ["--no-store", "--store", "a.duckdb"])
    assert both.exit_code == 2
    assert "--store and --no-store contradict each other" in both.output
    assert "Run store (DuckDB) to record this run in" in runner.invoke(
        _echo_store, ["--help"]).output


def test_command_line_quotes_what_the_user_typed(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/staffcast", "plan", "--out-dir", "my plan"])
    assert command_line() == "staffcast plan --out-dir 'my plan'"


def test_the_engines_problems_frame_is_stored_as_is(shop, tmp_path):
    week = shop[2]
    problems = problems_frame([Fallback("chat", "arima", "snaive", "LinAlgError: singular")],
                              [TaskFailure("mail", "forecast", "ValueError: too short")],
                              requested_model="arima")
    requirement, run = plan(shop[0], shop[1], week, "p2")
    store = tmp_path / "runs.duckdb"
    run_id = record_plan_run(store, command="plan", week_forecast=week, requirement=requirement,
                             run=run, config_yaml="", inputs={}, failures=problems)
    with RunStore(store, read_only=True) as opened:
        assert opened.run(run_id)["status"] == "partial"
        stored = opened.table("failures", run_id)
    assert stored[["unique_id", "stage", "used_model"]].to_dict("records") == [
        {"unique_id": "chat", "stage": "fallback", "used_model": "snaive"},
        {"unique_id": "mail", "stage": "forecast", "used_model": ""}]

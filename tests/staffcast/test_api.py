"""`import staffcast`: the library API gives the plan the CLI writes, in memory."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import staffcast
from staffcast.scheduler.roster import read_roster
from staffcast.cli import main
from staffcast.exports import roster_workbook
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

# Same inputs for the library and the CLI: histavg (exact on the noiseless shop), HiGHS.
SOLVE = {"solver": "highs", "time_limit_s": 30.0}
PLAN_FILES = ("forecast.csv", "requirements.csv", "roster.csv", "activities.csv",
              "coverage.csv", "history.csv", "calendar.csv", "wfm_import.csv")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    return write_small_shop(tmp_path_factory.mktemp("shop"), SMALL_SHOP_CONFIG)


@pytest.fixture(scope="module")
def planned(shop):
    config = staffcast.load_config(shop / "config.yaml")
    history = staffcast.load_history(shop / "history.csv", config=config)
    return staffcast.plan(config, history, **SOLVE)


@pytest.fixture(scope="module")
def cli_folder(shop, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "plan"
    result = CliRunner().invoke(main, [
        "plan", "--history", str(shop / "history.csv"), "--config", str(shop / "config.yaml"),
        "--out-dir", str(out), "--solver", "highs", "--time-limit", "30", "--no-store"])
    assert result.exit_code == 0, result.output
    return out


def test_import_is_lazy_and_lists_the_surface():
    code = ("import sys, staffcast; assert 'pandas' not in sys.modules, 'pandas imported'; "
            "print(sorted(n for n in staffcast.API if n in dir(staffcast)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out.replace("'", '"')) == sorted(
        ["load_config", "load_history", "load_calendar", "forecast", "backtest",
         "requirements", "schedule", "plan", "simulate", "whatif", "Plan", "Simulation",
         "WhatIf", "QueuesLost"])
    import staffcast.scenarios  # noqa: F401  (a submodule must not shadow the function)

    assert callable(staffcast.whatif) and staffcast.whatif.__module__ == "staffcast.api"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        staffcast.nope  # noqa: B018


def test_plan_in_memory_is_the_plan_the_cli_writes(planned, cli_folder, tmp_path):
    assert planned.status in ("optimal", "feasible") and planned.has_plan
    written = planned.write(tmp_path / "api")
    for name in PLAN_FILES:
        assert (written / name).read_bytes() == (cli_folder / name).read_bytes(), name
    ours = json.loads((written / "summary.json").read_text())
    theirs = json.loads((cli_folder / "summary.json").read_text())
    timing = {"solve_seconds", "message"}
    assert {k: v for k, v in ours.items() if k not in timing} == {
        k: v for k, v in theirs.items() if k not in timing}
    # The frames in memory are the ones the CLI's files hold.
    cov = pd.read_csv(cli_folder / "coverage.csv")
    assert planned.coverage["scheduled"].tolist() == cov["scheduled"].tolist()
    req = pd.read_csv(cli_folder / "requirements.csv")
    assert planned.requirements["agents_required"].tolist() == req["agents_required"].tolist()
    assert planned.summary["labour_cost"] == theirs["labour_cost"]


def test_plan_write_round_trips_the_frames(planned, tmp_path):
    folder = planned.write(tmp_path / "week")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == planned.status and manifest["week_start"] == "2026-11-09"
    roster = read_roster(folder / "roster.csv")
    pd.testing.assert_frame_equal(roster, planned.roster[roster.columns], check_dtype=False)
    req = pd.read_csv(folder / "requirements.csv", parse_dates=["ds"],
                      dtype={"unique_id": "string"})
    pd.testing.assert_frame_equal(req, planned.requirements, check_dtype=False)
    fc = pd.read_csv(folder / "forecast.csv", parse_dates=["ds"],
                     dtype={"unique_id": "string"})
    pd.testing.assert_frame_equal(fc, planned.forecast, check_dtype=False)
    acts = pd.read_csv(folder / "activities.csv", parse_dates=["start", "end"],
                       dtype={"agent_id": "string"})
    pd.testing.assert_frame_equal(acts, planned.activities, check_dtype=False)
    cov = pd.read_csv(folder / "coverage.csv", parse_dates=["ds"],
                      dtype={"unique_id": "string"})
    pd.testing.assert_frame_equal(cov, planned.coverage[cov.columns], check_dtype=False)
    assert json.loads((folder / "summary.json").read_text())["paid_hours"] == pytest.approx(
        planned.summary["paid_hours"])
    # Exports come from the roster in memory: the same workbook as from roster.csv.
    first = planned.requirements["ds"].min().normalize()
    assert _cells(folder / "roster.xlsx") == _cells(
        io.BytesIO(roster_workbook(roster, planned.coverage, first)))


def _cells(source) -> dict:
    from openpyxl import load_workbook

    book = load_workbook(source)
    return {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()]
            for sheet in book.worksheets}


def test_simulation_in_memory_equals_the_simulation_of_the_written_folder(planned, tmp_path):
    folder = planned.write(tmp_path / "sim")
    in_memory = staffcast.simulate(planned, replications=2, seed=3)
    from_files = staffcast.simulate(folder, replications=2, seed=3)
    pd.testing.assert_frame_equal(in_memory.days, from_files.days)
    pd.testing.assert_frame_equal(in_memory.intervals, from_files.intervals)
    assert in_memory.settings["contacts_simulated"] == from_files.settings["contacts_simulated"]
    written = planned.write(tmp_path / "with_sim", simulation=in_memory)
    settings = json.loads((written / "simulation.json").read_text())
    assert settings["plan"] == str(written) and settings["replications"] == 2
    assert "simulation_days.csv" in json.loads((written / "manifest.json").read_text())["files"]


def test_schedule_needs_no_folder_and_matches_the_plan(planned, shop, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scheduled = staffcast.schedule(planned.requirements, shop / "config.yaml", **SOLVE)
    assert list(tmp_path.iterdir()) == []
    assert scheduled.forecast is None and scheduled.week is None
    # Same requirement, same rules, same solver: the same least cost.
    assert scheduled.summary["labour_cost"] == pytest.approx(planned.summary["labour_cost"])
    assert scheduled.coverage["scheduled"].tolist() == planned.coverage["scheduled"].tolist()
    folder = scheduled.write(tmp_path / "s")
    assert {p.name for p in folder.iterdir()} >= {"roster.csv", "summary.json",
                                                  "config.resolved.yaml", "manifest.json"}
    assert not (folder / "forecast.csv").exists()


def test_requirements_and_forecast_steps_give_the_plans_requirement(planned, shop):
    config = staffcast.load_config(shop / "config.yaml")
    history = staffcast.load_history(shop / "history.csv", config=config)
    fc = staffcast.forecast(history, config=config, horizon=168)
    assert len(fc) == 168 and set(fc["model"]) == {"histavg"}
    req = staffcast.requirements(fc, config)
    pd.testing.assert_frame_equal(req, planned.requirements)


def test_coverage_service_level_is_erlang_a_where_patience_is_set(tmp_path):
    """The issue's case: a queue staffed with Erlang A reported Erlang C in coverage.csv."""
    from staffcast.scheduler.measures import plan_measures

    config_text = SMALL_SHOP_CONFIG.replace("    min_agents: 1\n",
                                            "    patience_s: 60\n    min_agents: 1\n")
    shop = write_small_shop(tmp_path, config_text)
    config = staffcast.load_config(shop / "config.yaml")
    planned = staffcast.plan(config, staffcast.load_history(shop / "history.csv",
                                                            config=config), **SOLVE)
    cov, req = planned.coverage, planned.requirements
    assert req["patience_s"].eq(60).all()
    steady = (cov["scheduled_mean"] == cov["scheduled"]).to_numpy() & (req["volume"] > 0)
    assert steady.sum() > 50
    at_work = cov["scheduled"].to_numpy(dtype=float)
    erlang_a = plan_measures(req, at_work)["service_level"]
    erlang_c = plan_measures(req.drop(columns="patience_s"), at_work)["service_level"]
    np.testing.assert_allclose(cov["service_level"][steady], erlang_a[steady], rtol=1e-12)
    assert np.abs(erlang_a - erlang_c)[steady].max() > 1e-3


def test_a_lost_queue_is_an_error_unless_strict_is_off(shop):
    config = staffcast.load_config(shop / "config.yaml")
    history = staffcast.load_history(shop / "history.csv", config=config)
    # A second queue with three hours of history: too short for any model, fallback too.
    short = history.iloc[-3:].assign(unique_id="tiny", y=1.0)
    both = pd.concat([history, short], ignore_index=True)
    both["unique_id"] = both["unique_id"].astype("string")
    with pytest.raises(staffcast.QueuesLost, match="1 queue\\(s\\) failed: tiny: "):
        staffcast.forecast(both, config=config, horizon=24)
    with pytest.warns(UserWarning, match="1 queue\\(s\\) failed and are left out: tiny"):
        kept = staffcast.forecast(both, config=config, horizon=24, strict=False)
    assert set(kept["unique_id"]) == {"chat"} and len(kept) == 24

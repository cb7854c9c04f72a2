"""`staffcast simulate` on a small hand-made plan folder (the command is invoked directly,
so the test does not depend on its registration in staffcast/cli.py)."""

import json

import pandas as pd
from click.testing import CliRunner

from staffcast.commands.simulation import COMMANDS, simulate_command
from tests.scheduler.test_simulate import write_plan


def test_simulate_writes_interval_and_day_tables(tmp_path):
    write_plan(tmp_path, patience="60")
    out = tmp_path / "sim"
    result = CliRunner().invoke(simulate_command, ["--plan", str(tmp_path), "--replications",
                                                   "4", "--seed", "3", "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "sales" in result.output and "2026-11-11" in result.output
    intervals = pd.read_csv(out / "simulation_intervals.csv")
    days = pd.read_csv(out / "simulation_days.csv")
    assert intervals["ds"].tolist() == ["2026-11-11 08:00", "2026-11-11 08:30",
                                        "2026-11-11 09:00", "2026-11-11 09:30"]
    assert days["day"].tolist() == ["2026-11-11"]
    assert days["offered"].iloc[0] == intervals["offered"].sum()
    settings = json.loads((out / "simulation.json").read_text())
    assert settings["replications"] == 4 and settings["seed"] == 3
    # Same seed, same files.
    again = tmp_path / "again"
    CliRunner().invoke(simulate_command, ["--plan", str(tmp_path), "--replications", "4",
                                          "--seed", "3", "--out-dir", str(again)])
    assert (again / "simulation_days.csv").read_bytes() == \
        (out / "simulation_days.csv").read_bytes()


def test_simulate_missing_plan_file_is_a_value_error(tmp_path):
    write_plan(tmp_path)
    (tmp_path / "roster.csv").unlink()
    result = CliRunner().invoke(simulate_command, ["--plan", str(tmp_path)])
    assert isinstance(result.exception, ValueError)
    assert "roster.csv: file not found" in str(result.exception)


def test_command_is_exported_with_help():
    assert COMMANDS == (simulate_command,)
    assert all(p.help for p in simulate_command.params)


def test_simulate_with_a_forecast_band(tmp_path):
    write_plan(tmp_path)
    (tmp_path / "forecast.csv").write_text(
        "unique_id,ds,model,yhat,yhat_lo_80,yhat_hi_80\n"
        "sales,2026-11-11 08:00,arima,30,60,66\n"
        "sales,2026-11-11 09:00,arima,70,140,154\n")
    result = CliRunner().invoke(simulate_command, [
        "--plan", str(tmp_path), "--replications", "10", "--forecast",
        str(tmp_path / "forecast.csv"), "--volume-shock", "interval"])
    assert result.exit_code == 0, result.output
    days = pd.read_csv(tmp_path / "simulation_days.csv")
    assert 180 < days["offered"].iloc[0] < 240  # the band is about 2.1 x the plan's 100
    settings = json.loads((tmp_path / "simulation.json").read_text())
    assert settings["volume_shock"] == "interval"
    result = CliRunner().invoke(simulate_command, ["--plan", str(tmp_path), "--forecast",
                                                   str(tmp_path / "forecast.csv"),
                                                   "--model", "prophet"])
    assert "no rows for model 'prophet'" in str(result.exception)


def test_the_commands_handle_distributions_are_the_simulators():
    from staffcast.scheduler.simulate import HANDLE_DISTS
    from staffcast.commands import simulation

    assert simulation.HANDLE_DISTS == tuple(HANDLE_DISTS)

"""`staffcast capacity` end to end on the example shop, its bad-input lines, and the run
store record."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main
from staffcast.report import build_report
from staffcast.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "capacity.yaml"
HISTORY = ROOT / "examples" / "data" / "history.csv"
CALENDAR = ROOT / "examples" / "data" / "calendar.csv"
CAPACITY_COLUMNS = ["week", "queue", "required_hours", "productive_hours_regular",
                    "productive_hours_new_hire", "productive_hours_temp",
                    "productive_hours_outsourced", "productive_hours_cloud", "hires_new_hire",
                    "hires_temp", "overtime_hours", "shortfall_hours", "cost"]


def run(*args):
    return CliRunner().invoke(main, ["capacity", "--history", str(HISTORY), "--calendar",
                                     str(CALENDAR), *args])


@pytest.mark.slow
def test_double11_example_end_to_end_with_scenarios(tmp_path):
    out, store = tmp_path / "out", tmp_path / "runs.duckdb"
    result = run("--config", str(CONFIG), "--start", "2026-10-19", "--weeks", "9",
                 "--out-dir", str(out), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("hiring plan:")  # no solver banner on stdout
    capacity = pd.read_csv(out / "capacity.csv", parse_dates=["week"])
    assert list(capacity.columns[:len(CAPACITY_COLUMNS)]) == CAPACITY_COLUMNS
    assert sorted(capacity["queue"].unique()) == ["aftersales", "presales", "total"]
    assert capacity["week"].nunique() == 9
    assert (capacity["week"].dt.day_of_week == 0).all()
    total = capacity[capacity["queue"] == "total"].set_index("week")
    queues = capacity[capacity["queue"] != "total"]
    # The total row's requirement is the queues' sum; Double 11's week needs the most.
    assert total["required_hours"].to_numpy() == pytest.approx(
        queues.groupby("week")["required_hours"].sum().to_numpy())
    assert total["required_hours"].idxmax() == pd.Timestamp("2026-11-09")
    hiring = pd.read_csv(out / "hiring_plan.csv")
    assert list(hiring.columns[:5]) == ["cohort", "recruit_by", "start_training",
                                        "productive_from", "count"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["cost"] == pytest.approx(total["cost"].sum(), rel=1e-6)
    assert [w["week"] for w in summary["festival_weeks"]][:4] == [
        "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"]
    comparison = pd.read_csv(out / "comparison.csv")
    assert comparison["scenario"].tolist() == ["base", "attrition_plus_5pts",
                                               "containment_minus_5pts",
                                               "festival_volume_plus_20pct",
                                               "lead_time_plus_2wk"]
    by = comparison.set_index("scenario")
    # Demand knobs raise the requirement; the others leave it alone.
    assert by.loc["containment_minus_5pts", "required_hours"] > by.loc["base", "required_hours"]
    assert by.loc["festival_volume_plus_20pct", "required_hours"] > \
        by.loc["base", "required_hours"]
    assert by.loc["attrition_plus_5pts", "required_hours"] == by.loc["base", "required_hours"]
    # More demand or a later start of recruiting only take options away: the objective
    # (cost + shortfall penalty) cannot fall.
    for name in ("containment_minus_5pts", "festival_volume_plus_20pct", "lead_time_plus_2wk"):
        assert by.loc[name, "objective"] >= by.loc["base", "objective"] - 1e-6
    assert (by["objective"] >= by["cost"] - 1e-6).all()
    assert (out / "scenarios" / "lead_time_plus_2wk" / "capacity.csv").is_file()
    resolved = (out / "config.resolved.yaml").read_text()
    assert "start: '2026-10-19'" in resolved and "weeks: 9" in resolved
    assert re.search(r"recorded run 1 in", result.stderr)
    # The report of the folder is the capacity page.
    report = build_report(out)
    assert report.charts == ("chart-capacity",) and "Hiring plan" in report.html
    with RunStore(store, read_only=True) as db:
        runs = db.runs()
        assert runs["kind"].tolist() == ["capacity"]
        rows = db.table("capacity", 1)
        assert sorted(rows["scenario"].unique()) == sorted(comparison["scenario"])
        base = rows[(rows["scenario"] == "base") & (rows["queue"] == "total")]
        assert base["cost"].sum() == pytest.approx(summary["cost"], rel=1e-6)


def _edit(tmp_path, old, new):
    text = CONFIG.read_text()
    assert old in text
    path = tmp_path / "capacity.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("old, new, expected", [
    ("lead_time_weeks: 4 ", "lead_time_weeks: -2 ",
     "cohorts.new_hire: lead_time_weeks must be a whole number >= 0, got -2"),
    ("ramp: [0.6, 0.85, 1.0]", "ramp: [0.6, 0.85]",
     "cohorts.new_hire: ramp must be a rising list of productivity shares in [0, 1] ending "
     "at 1"),
    ("festivals: [double11_presale, double11_day, double11_aftersales, 1212_day]",
     "festivals: [618_day]",
     "plan.festivals: '618_day' (2024-06-18 to 2024-06-18; 2025-06-18 to 2025-06-18; "
     "2026-06-18 to 2026-06-18) lies outside the plan's horizon 2026-06-29 to 2026-12-27"),
    ("bot_containment: 0.30", "bot_containment: 1.0",
     "queues.presales: bot_containment must be in [0, 1)"),
    ("containment_minus_5pts: {bot_containment_points: -5}",
     "containment_minus_5pts: {bot_containment_points: 80}",
     "scenarios.containment_minus_5pts: bot_containment must be in [0, 1)"),
    ("min_class: 6", "min_klass: 6", "cohorts.new_hire: unknown key 'min_klass'; valid keys:"),
])
def test_bad_input_is_one_clear_line(tmp_path, old, new, expected):
    path = _edit(tmp_path, old, new)
    out = tmp_path / "out"
    result = run("--config", str(path), "--out-dir", str(out), "--no-store")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"Error: {path}: ")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing half-written


def _weeks_from(history, config, out, weeks):
    """`staffcast capacity` from 2026-10-19 for `weeks` weeks, no scenarios, no store."""
    return CliRunner().invoke(main, [
        "capacity", "--history", str(history), "--calendar", str(CALENDAR), "--config",
        str(config), "--start", "2026-10-19", "--weeks", str(weeks), "--no-scenarios",
        "--out-dir", str(out), "--no-store"])


@pytest.mark.slow
def test_history_handle_time_is_forecast_and_staffed(tmp_path):
    config = _edit(tmp_path, "festivals: [double11_presale, double11_day, double11_aftersales, "
                   "1212_day]", "festivals: [double11_presale]")
    history = pd.read_csv(HISTORY, parse_dates=["ds"])
    history = history[history["ds"] >= "2026-06-01"]
    plain, timed = tmp_path / "plain.csv", tmp_path / "timed.csv"
    history.to_csv(plain, index=False)
    # Presales chats took twice the configured 240 s; aftersales has no handle time.
    history.assign(aht_s=np.where(history["unique_id"] == "presales", 480.0, np.nan)
                   ).to_csv(timed, index=False)
    required = {}
    for name, path in (("plain", plain), ("timed", timed)):
        out = tmp_path / name
        result = _weeks_from(path, config, out, 3)
        assert result.exit_code == 0, result.output
        req = pd.read_csv(out / "requirement_weekly.csv")
        required[name] = req.groupby("queue")["required_hours"].sum()
    assert required["timed"]["presales"] > 1.5 * required["plain"]["presales"]
    assert required["timed"]["aftersales"] == pytest.approx(required["plain"]["aftersales"])


def test_bad_handle_time_is_one_line(tmp_path):
    history = pd.read_csv(HISTORY, nrows=400).assign(aht_s=240.0)
    history.loc[5, "aht_s"] = -3
    path = tmp_path / "history.csv"
    history.to_csv(path, index=False)
    result = CliRunner().invoke(main, ["capacity", "--history", str(path), "--config",
                                       str(CONFIG), "--out-dir", str(tmp_path / "o"),
                                       "--no-store"])
    assert result.exit_code == 1
    # The history loader checks aht_s (staffcast.forecasting.data, issue 12): file, line, column, rule
    # and value in one line.
    assert result.output.strip() == (f"Error: {path}: CSV line 7, column 'aht_s': handle "
                                     "time in seconds must be > 0, got '-3.0'")


@pytest.mark.slow
def test_vendor_column_names_are_read_through_history_columns(tmp_path):
    config = _edit(tmp_path, "festivals: [double11_presale, double11_day, double11_aftersales, "
                   "1212_day]", "festivals: [double11_presale]")
    vendor_config = tmp_path / "vendor.yaml"
    vendor_config.write_text(config.read_text() + "\nhistory_columns: {unique_id: Queue, "
                             "ds: Interval Start, y: Offered}\n")
    history = pd.read_csv(HISTORY, parse_dates=["ds"])
    history = history[history["ds"] >= "2026-07-01"]
    plain, vendor = tmp_path / "plain.csv", tmp_path / "vendor.csv"
    history.to_csv(plain, index=False)
    history.rename(columns={"unique_id": "Queue", "ds": "Interval Start", "y": "Offered"}
                   ).to_csv(vendor, index=False)
    weekly = {}
    for name, path, cfg in (("plain", plain, config), ("vendor", vendor, vendor_config)):
        out = tmp_path / name
        result = _weeks_from(path, cfg, out, 2)
        assert result.exit_code == 0, result.output
        weekly[name] = pd.read_csv(out / "requirement_weekly.csv")
    pd.testing.assert_frame_equal(weekly["vendor"], weekly["plain"])
    # Without the mapping the vendor file is refused, naming what it lacks.
    result = _weeks_from(vendor, config, tmp_path / "refused", 2)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {vendor}: missing column(s) 'ds', 'y'; found "
                                    "'Queue', 'Interval Start', 'Offered'")

"""What-if scenarios: parsing, overrides, the uplifted forecast and a real `staffcast whatif`."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from staffcast.forecasting.calendar import load_calendar
from staffcast import pipeline
from staffcast.cli import main
from staffcast.config import load_config
from staffcast.scenarios import (
    METRICS,
    ScenarioError,
    VolumeUplift,
    apply_scenario,
    parse_scenarios,
    uplift_forecast,
)
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

# The small shop with patience (so abandonment is reported) and some shrinkage.
CONFIG = SMALL_SHOP_CONFIG.replace("    min_agents: 1\n", "    patience_s: 60\n    min_agents: 1\n"
                                   "    shrinkage: {absence: 0.1}\n")


@pytest.fixture
def shop(tmp_path):
    write_small_shop(tmp_path, CONFIG)
    pd.DataFrame({"event": ["sale"], "start": ["2026-11-11"], "end": ["2026-11-11"],
                  "kind": ["promotion"], "unique_id": [""]}).to_csv(
        tmp_path / "calendar.csv", index=False)
    return tmp_path


BASE = {"history": "history.csv", "config": "config.yaml", "calendar": "calendar.csv",
        "solver": "cbc", "time_limit_s": 20, "gap": 0.0}


def write_scenarios(folder: Path, scenarios: dict) -> Path:
    path = folder / "scenarios.yaml"
    path.write_text(yaml.safe_dump({"base": BASE, "scenarios": scenarios}))
    return path


def test_whatif_shares_one_forecast_and_applies_each_override(shop):
    path = write_scenarios(shop, {
        "busy": {"volume": 1.2},
        "capped": {"headcount": {"full_time": 4}},
        "slow": {"queues": {"chat": {"aht_factor": 1.5}}},
    })
    out = shop / "out"
    runs_before = pipeline.forecast_stage_runs()
    result = CliRunner().invoke(main, ["whatif", "--scenarios", str(path), "--out-dir",
                                       str(out)])
    assert result.exit_code == 0, result.output
    assert pipeline.forecast_stage_runs() - runs_before == 1
    plan_files = {"forecast.csv", "requirements.csv", "roster.csv", "activities.csv",
                  "coverage.csv", "summary.json", "config.resolved.yaml", "history.csv",
                  "calendar.csv"}
    for name in ("base", "busy", "capped", "slow"):
        assert plan_files <= {p.name for p in (out / name).iterdir()}, name
    base_fc = (out / "base" / "forecast.csv").read_bytes()
    assert (out / "capped" / "forecast.csv").read_bytes() == base_fc
    assert (out / "slow" / "forecast.csv").read_bytes() == base_fc

    def req(name):
        return pd.read_csv(out / name / "requirements.csv")

    # volume x1.2: every forecast column and the staffed volume scale by exactly 1.2.
    busy_fc = pd.read_csv(out / "busy" / "forecast.csv")
    base_frame = pd.read_csv(out / "base" / "forecast.csv")
    for column in ("yhat", "yhat_lo_80", "yhat_hi_95"):
        np.testing.assert_allclose(busy_fc[column], 1.2 * base_frame[column])
    np.testing.assert_allclose(req("busy")["volume"], 1.2 * req("base")["volume"])
    assert req("busy")["agents_required"].sum() > req("base")["agents_required"].sum()
    # aht_factor 1.5 on 300 s: 450 s per contact; the volume is untouched.
    assert (req("slow")["aht_s"] == 450).all()
    np.testing.assert_allclose(req("slow")["volume"], req("base")["volume"])

    def coverage(name):
        return pd.read_csv(out / name / "coverage.csv")

    # A cap of 4 full-time agents cannot staff the weekday peak of about 7.
    assert pd.read_csv(out / "capped" / "roster.csv")["agent_id"].nunique() <= 4
    assert coverage("capped")["scheduled"].sum() < coverage("base")["scheduled"].sum()
    summaries = {n: json.loads((out / n / "summary.json").read_text())
                 for n in ("base", "capped")}
    assert summaries["base"]["shortfall_agent_hours"] == 0
    assert summaries["capped"]["shortfall_agent_hours"] > 0

    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["base", "busy", "capped", "slow"]
    for metric in METRICS:
        np.testing.assert_allclose(table[f"{metric}_diff"], table[metric] - table[metric][0])
    capped = table.set_index("scenario").loc["capped"]
    assert capped["shortfall_agent_hours"] == pytest.approx(
        summaries["capped"]["shortfall_agent_hours"])
    assert capped["agents_peak"] == coverage("capped").groupby("ds")["scheduled"].sum().max()
    assert capped["abandon_rate_diff"] > 0 and capped["sl_worst_interval_diff"] < 0
    # The printed table names every scenario.
    assert all(name in result.stdout for name in ("base", "busy", "capped", "slow"))
    resolved = load_config(out / "capped" / "config.resolved.yaml")
    assert resolved.schedule.headcount == {"full_time": 4}


def test_unknown_keys_name_the_scenario_and_the_key(tmp_path):
    path = tmp_path / "s.yaml"
    with pytest.raises(ScenarioError, match="scenario 'peak': unknown key 'volumee'; valid "
                                            "keys: description, families, headcount"):
        parse_scenarios({"base": BASE, "scenarios": {"peak": {"volumee": 1.2}}}, path)
    with pytest.raises(ScenarioError, match="scenario 'peak': queues.chat: unknown key "
                                            "'aht'; valid keys: aht_factor, aht_s"):
        parse_scenarios({"base": BASE, "scenarios": {"peak": {"queues": {"chat": {
            "aht": 400}}}}}, path)
    with pytest.raises(ScenarioError, match="scenario 'peak'.volume: unknown key 'event'"):
        parse_scenarios({"base": BASE, "scenarios": {"peak": {"volume": {"event": {}}}}}, path)
    with pytest.raises(ScenarioError, match="base: unknown key 'histroy'"):
        parse_scenarios({"base": {"histroy": "h.csv"}, "scenarios": {}}, path)
    with pytest.raises(ScenarioError, match="'base' is reserved"):
        parse_scenarios({"base": BASE, "scenarios": {"base": {}}}, path)


def test_unknown_key_is_a_one_line_cli_error(shop):
    path = write_scenarios(shop, {"typo": {"headcounts": {"temp": 3}}})
    result = CliRunner().invoke(main, ["whatif", "--scenarios", str(path), "--out-dir",
                                       str(shop / "o")])
    assert result.exit_code == 1
    assert "scenario 'typo': unknown key 'headcounts'" in result.output


def scenario(shop, body):
    spec = parse_scenarios({"base": BASE, "scenarios": {"s": body}}, shop / "s.yaml")
    return load_config(shop / "config.yaml"), spec.scenarios[0]


def test_overrides_replace_typed_objects_and_run_their_checks(shop):
    config, s = scenario(shop, {
        "queues": {"chat": {"sl_target": 0.9, "sl_seconds": 30, "concurrency": 1,
                            "shrinkage": {"absence": 0.2}}},
        "wages": 1.1, "families": {"day": {"paid_hours": 8}}})
    new = apply_scenario(config, s, "here")
    staffing = new.queues["chat"].staffing
    assert (staffing.sl_target, staffing.sl_seconds) == (0.9, 30)
    assert staffing.total_shrinkage == pytest.approx(0.2)
    assert staffing.aht_s == 300 and staffing.patience_s == 60
    (day,) = new.schedule.families
    assert day.cost_per_hour == pytest.approx(22) and day.paid_hours == 8
    assert config.schedule.families[0].cost_per_hour == 20  # the base is untouched
    # A per-family rate wins over the factor.
    config, s = scenario(shop, {"wages": {"factor": 2, "cost_per_hour": {"day": 25}}})
    assert apply_scenario(config, s, "here").schedule.families[0].cost_per_hour == 25

    config, s = scenario(shop, {"queues": {"chat": {"sl_target": 1.5}}})
    with pytest.raises(ScenarioError, match="here: queues.chat: sl_target must be in "
                                            "\\(0, 1\\), got 1.5"):
        apply_scenario(config, s, "here")
    config, s = scenario(shop, {"queues": {"voice": {"aht_s": 100}}})
    with pytest.raises(ScenarioError, match="no queue 'voice'.*queues: chat"):
        apply_scenario(config, s, "here")
    config, s = scenario(shop, {"families": {"night": {"paid_hours": 8}}})
    with pytest.raises(ScenarioError, match="no shift family 'night'.*families: day"):
        apply_scenario(config, s, "here")


def test_uplift_multiplies_factors_by_queue_event_and_date(shop):
    calendar = load_calendar(shop / "calendar.csv", country="none")
    ds = pd.date_range("2026-11-10 22:00", periods=4, freq="h").append(
        pd.date_range("2026-11-12 00:00", periods=1, freq="h"))
    rows = pd.DataFrame({"unique_id": ["a"] * 5 + ["b"] * 5, "ds": list(ds) * 2,
                         "model": "histavg"})
    for column in ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
        rows[column] = 10.0
    uplift = VolumeUplift(
        factor=1.1, queues={"b": 2.0}, events={"sale": 1.5},
        dates=(parse_scenarios({"base": BASE, "scenarios": {"s": {"volume": {"dates": [
            {"start": "2026-11-10 23:00", "end": "2026-11-11 00:59", "factor": 3,
             "queues": ["a"]}]}}}}, shop / "s.yaml").scenarios[0].volume.dates))
    got = uplift_forecast(rows, uplift, calendar, "here")
    # Hours 22:00, 23:00 (date window a), 00:00 (sale + window a), 01:00 (sale), next day.
    a = 10 * 1.1 * np.array([1, 3, 1.5 * 3, 1.5, 1])
    b = 10 * 1.1 * 2 * np.array([1, 1, 1.5, 1.5, 1])
    np.testing.assert_allclose(got["yhat"], np.concatenate([a, b]))
    np.testing.assert_allclose(got["yhat_hi_95"], got["yhat"])
    assert (rows["yhat"] == 10).all()  # the caller's frame is not modified
    with pytest.raises(ScenarioError, match="no event 'double12' in the calendar; events: "
                                            "sale"):
        uplift_forecast(rows, VolumeUplift(events={"double12": 2}), calendar, "here")


def test_library_whatif_is_the_comparison_the_cli_writes(shop):
    import staffcast

    path = write_scenarios(shop, {"busy": {"volume": 1.2},
                                  "capped": {"headcount": {"full_time": 4}}})
    out = shop / "out"
    result = CliRunner().invoke(main, ["whatif", "--scenarios", str(path), "--out-dir",
                                       str(out), "--no-store"])
    assert result.exit_code == 0, result.output
    runs_before = pipeline.forecast_stage_runs()
    sweep = staffcast.whatif(path)
    assert pipeline.forecast_stage_runs() - runs_before == 1
    assert list(sweep.plans) == ["base", "busy", "capped"] and sweep.problems.empty
    written = pd.read_csv(out / "comparison.csv")
    pd.testing.assert_frame_equal(sweep.comparison, written, check_dtype=False)
    np.testing.assert_allclose(sweep.plans["busy"].requirements["volume"],
                               1.2 * sweep.plans["base"].requirements["volume"])
    # Each scenario's plan in memory is the one in its folder.
    for name, plan in sweep.plans.items():
        cov = pd.read_csv(out / name / "coverage.csv")
        assert plan.coverage["scheduled"].tolist() == cov["scheduled"].tolist(), name
        assert plan.summary["scenario"] == name

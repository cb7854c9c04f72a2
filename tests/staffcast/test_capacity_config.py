"""The capacity config: strict parsing and the what-if knobs' arithmetic."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from staffcast.capacity import apply_scenario, weekly_attrition_with_points
from staffcast.capacity_config import (
    CapacityScenario,
    NewHireCohort,
    dump_capacity_config,
    load_capacity_config,
    parse_capacity_config,
    with_plan,
)
from staffcast.config import ConfigError, config_document, load_config
from staffcast.scenarios import Scenario
from staffcast.scenarios import apply_scenario as apply_whatif

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "capacity.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_parses_into_typed_settings():
    config = load_capacity_config(EXAMPLE)
    assert config.plan.start.isoformat() == "2026-06-29" and config.plan.weeks == 26
    assert config.cohorts.new_hire.ramp == (0.6, 0.85, 1.0)
    assert config.cohorts.new_hire.weeks_to_full == 4
    assert config.queues["presales"].staffing.human_share == pytest.approx(1 - 0.3 + 0.3 * 0.2)
    assert set(config.scenarios) == {"attrition_plus_5pts", "containment_minus_5pts",
                                     "festival_volume_plus_20pct", "lead_time_plus_2wk"}


@pytest.mark.parametrize("path, value, message", [
    (("plan", "start"), "2026-06-30", "plan: start must be a Monday, got '2026-06-30 (Tuesday)'"),
    (("plan", "shortfall_penalty"), 0, "plan: shortfall_penalty must be > 0, got 0"),
    (("plan", "colour"), "red", "plan: unknown key 'colour'"),
    (("cohorts", "temp", "min_weeks"), 1,
     "cohorts.temp: min_weeks must exceed training_weeks"),
    (("cohorts", "cloud", "max_share"), 1.5, "cohorts.cloud: max_share must be in (0, 1]"),
    (("cohorts", "regular", "weekly_attrition"), 1.0,
     "cohorts.regular: weekly_attrition must be in [0, 1)"),
    (("cohorts", "new_hire", "min_class"), 30, "min_class must be <= max_per_week"),
    (("cohorts", "outsourced", "queues"), ["chat"],
     "cohorts.outsourced.queues: 'chat' is not a configured queue"),
    (("scenarios", "base"), {"festival_volume": 1.1}, "scenarios.base: 'base' is the plan"),
])
def test_bad_values_are_one_line_naming_the_key(path, value, message):
    data = example()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        parse_capacity_config(data, "capacity.yaml")
    text = str(err.value)
    assert text.startswith("capacity.yaml: ") and "\n" not in text
    assert message in text


def test_ramp_must_rise_to_one():
    base = dict(lead_time_weeks=1, training_weeks=1, hourly_wage=10, max_per_week=5)
    NewHireCohort(ramp=(0.5, 1.0), **base)
    for ramp in ((0.5, 0.9), (1.0, 0.5, 1.0), (0.5, 1.2, 1.0), ()):
        with pytest.raises(ValueError, match="ending at 1"):
            NewHireCohort(ramp=ramp, **base)


def test_attrition_points_are_annual():
    weekly = 0.006
    annual = 1 - (1 - weekly) ** 52
    raised = weekly_attrition_with_points(weekly, 5)
    assert 1 - (1 - raised) ** 52 == pytest.approx(annual + 0.05)
    assert weekly_attrition_with_points(weekly, 0) == pytest.approx(weekly)
    with pytest.raises(ValueError, match="outside"):
        weekly_attrition_with_points(weekly, -50)


def test_scenario_knobs():
    config = load_capacity_config(EXAMPLE)
    lower = apply_scenario(config, CapacityScenario(bot_containment_points=-5), "s")
    assert lower.queues["presales"].staffing.bot_containment == pytest.approx(0.25)
    assert lower.queues["aftersales"].staffing.bot_containment == pytest.approx(0.10)
    set_one = apply_scenario(config, CapacityScenario(bot_containment={"presales": 0.9}), "s")
    assert set_one.queues["presales"].staffing.bot_containment == 0.9
    assert set_one.queues["aftersales"].staffing.bot_containment == 0.15
    later = apply_scenario(config, CapacityScenario(lead_time_weeks=2), "s")
    assert later.cohorts.new_hire.lead_time_weeks == 6 and later.cohorts.temp.lead_time_weeks == 4
    assert later.cohorts.outsourced.lead_time_weeks == config.cohorts.outsourced.lead_time_weeks
    with pytest.raises(ConfigError, match="s: bot_containment: unknown queue 'chat'"):
        apply_scenario(config, CapacityScenario(bot_containment={"chat": 0.5}), "s")


def test_interval_whatif_takes_containment_as_a_queue_knob():
    config = load_config(ROOT / "configs" / "example.yaml")
    shares = []
    for value in (0.95, 0.90):
        scenario = Scenario(name="bot", queues={"presales": {"bot_containment": value}})
        changed = apply_whatif(config, scenario, "scenarios.yaml: bot")
        shares.append(changed.queues["presales"].staffing.human_share)
        assert config_document(changed)["queues"]["presales"]["bot_containment"] == value
    assert shares[1] == pytest.approx(2 * shares[0])  # 95% -> 90% doubles the human volume


def test_handle_time_forecast_replaces_the_configured_aht():
    from staffcast.capacity import with_handle_time

    config = load_capacity_config(EXAMPLE)
    changed = with_handle_time(config, {"presales": {h: 260.0 + h for h in range(24)}})
    assert changed.queues["presales"].staffing.aht_s[5] == 265.0
    assert changed.queues["aftersales"].staffing.aht_s == 420


def test_written_capacity_config_round_trips_with_the_run_settings():
    import datetime as dt

    config = load_capacity_config(EXAMPLE)
    text = dump_capacity_config(config, start=dt.date(2026, 10, 19), weeks=9)
    back = parse_capacity_config(yaml.safe_load(text), "written")
    assert back.plan.start == dt.date(2026, 10, 19) and back.plan.weeks == 9
    assert back == dataclasses.replace(config, path=None, plan=back.plan)
    assert dataclasses.replace(back.plan, start=config.plan.start,
                               weeks=config.plan.weeks) == config.plan
    with pytest.raises(ConfigError, match="--start: start must be a Monday"):
        with_plan(config, "--start", start=dt.date(2026, 10, 20))


def test_history_columns_are_parsed_strictly_and_written_back():
    data = {**example(), "history_columns": {"ds": "Interval Start", "y": "Offered"}}
    config = parse_capacity_config(data, "c.yaml")
    assert dict(config.history_columns) == {"ds": "Interval Start", "y": "Offered"}
    back = parse_capacity_config(yaml.safe_load(dump_capacity_config(config)), "written")
    assert back.history_columns == config.history_columns
    with pytest.raises(ConfigError, match="c.yaml: history_columns"):
        parse_capacity_config({**example(), "history_columns": {"when": "Interval Start"}},
                              "c.yaml")

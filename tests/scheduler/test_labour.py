"""China's labour-rule presets: shift families checked at config time, and a named roster's
hours, overtime and overtime pay against the rules."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from staffcast.scheduler.labour import PRESETS, preset, roster_compliance
from staffcast.config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]
MONDAY = pd.Timestamp("2026-06-01")


def example_with(**schedule):
    data = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    data.pop("agents")
    data["schedule"].update(schedule)
    return data


def test_example_shop_keeps_the_standard_rules():
    for name in PRESETS:
        config = parse_config(example_with(labour_rules=name), "example.yaml")
        assert config.schedule.labour_rules == name


@pytest.mark.parametrize("change, message", [
    ({"paid_hours": 10}, "family 'early': 5 days x 10 h = 50 h a week exceeds cn_standard's "
                         "40 h plus 8.3 h of overtime (36 h a month)"),
    ({"paid_hours": 12}, "family 'early': paid_hours 12 exceeds the 11 h a day cn_standard"),
])
def test_a_family_breaking_the_standard_is_one_line(change, message):
    data = example_with(labour_rules="cn_standard")
    data["schedule"]["families"][0].update(change)
    data["schedule"]["families"][0]["breaks"] = []
    with pytest.raises(ConfigError) as err:
        parse_config(data, "example.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_rest_day_and_unknown_preset():
    with pytest.raises(ConfigError, match="max_consecutive_days 7 leaves no rest day"):
        parse_config(example_with(labour_rules="cn_standard", max_consecutive_days=7), "x")
    # Averaged hours: no weekly rest-day rule in the preset itself.
    parse_config(example_with(labour_rules="cn_comprehensive", max_consecutive_days=7), "x")
    with pytest.raises(ConfigError, match="labour_rules: must be one of 'cn_standard', "
                                          "'cn_comprehensive', got 'cn_flexible'"):
        parse_config(example_with(labour_rules="cn_flexible"), "x")
    with pytest.raises(ValueError, match="must be one of cn_standard, cn_comprehensive"):
        preset("eu")


def shifts(agent, hours_by_day, start=MONDAY):
    return pd.DataFrame({"agent_id": agent,
                         "date": [start + pd.Timedelta(days=d) for d in hours_by_day],
                         "paid_hours": list(hours_by_day.values())})


def test_standard_week_overtime_and_pay_by_hand():
    # Mon-Fri 9 h and Saturday 4 h: 5 h weekday overtime (1.5x) and 4 h rest-day
    # overtime (2x): 40 regular hours, 15.5 hours' pay for the overtime.
    roster = shifts("A", {0: 9, 1: 9, 2: 9, 3: 9, 4: 9, 5: 4})
    row = roster_compliance(roster, PRESETS["cn_standard"]).iloc[0]
    assert (row["regular_hours"], row["overtime_work"], row["overtime_rest"]) == (40, 5, 4)
    assert row["overtime_pay_hours"] == pytest.approx(5 * 1.5 + 4 * 2)
    assert row["violations"] == ""
    # Monday a statutory holiday: its 8 h are paid three times.
    kinds = {MONDAY: "holiday"}
    row = roster_compliance(shifts("A", {0: 8, 1: 8, 2: 8, 3: 8, 4: 8}),
                            PRESETS["cn_standard"], kinds).iloc[0]
    assert row["overtime_holiday"] == 8 and row["overtime_pay_hours"] == pytest.approx(24)


def test_standard_breaches_are_named():
    roster = shifts("B", {0: 12, 1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8})
    text = roster_compliance(roster, PRESETS["cn_standard"]).iloc[0]["violations"]
    assert "2026-06-01: 12 h is more than 8 + 3 h overtime" in text
    assert "2026-06-01: 12 h is more than 11 h a day" in text
    assert "week 2026-06-01: no rest day (7 days worked)" in text
    assert "h overtime is more than 36 h a month" not in text  # 4 + 16 = 20 h


def test_comprehensive_averages_over_four_weeks():
    days = {}
    for week, per_day in enumerate((10, 10, 6, 6)):
        days.update({7 * week + d: per_day for d in range(5)})
    table = roster_compliance(shifts("C", days), PRESETS["cn_comprehensive"])
    assert len(table) == 1 and table.iloc[0]["hours"] == 160
    assert table.iloc[0]["overtime_work"] == 0 and table.iloc[0]["violations"] == ""
    days[0] = 20  # one day of 20 h: 10 h over the period and longer than 12 h
    row = roster_compliance(shifts("C", days), PRESETS["cn_comprehensive"]).iloc[0]
    assert row["overtime_work"] == 10 and row["overtime_pay_hours"] == pytest.approx(15)
    assert "20 h is more than 12 h a day" in row["violations"]
    # The same hours under the standard preset: two 50 h weeks are overtime.
    weekly = roster_compliance(shifts("C", days), PRESETS["cn_standard"])
    assert weekly["overtime_work"].tolist() == [20, 10, 0, 0]


def test_agents_weekly_limits_are_capped():
    import dataclasses

    from staffcast.scheduler.agents import load_agents
    from staffcast.scheduler.labour import cap_agents

    agents = load_agents(ROOT / "examples" / "data" / "agents.csv")
    long_week = dataclasses.replace(agents[0], max_weekly_hours=60)
    capped = cap_agents([long_week, *agents[1:]], PRESETS["cn_standard"])
    assert capped[0].max_weekly_hours == pytest.approx(40 + 36 * 12 / 52)
    # The example shop's agents (30, 40 and 48 h) are within the limit already.
    assert [a.max_weekly_hours for a in capped[1:]] == [a.max_weekly_hours for a in agents[1:]]
    greedy = dataclasses.replace(agents[0], min_weekly_hours=50, max_weekly_hours=60)
    with pytest.raises(ValueError, match="min_weekly_hours 50 exceeds the 48.3 h a week"):
        cap_agents([greedy], PRESETS["cn_standard"])

"""Scheduling rules: parsing from YAML mappings and one clear error per broken rule."""

from __future__ import annotations

import pytest
import yaml

from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.config import ConfigError, build, parse_config

SECTION = """
interval_minutes: 30
min_rest_hours: 11
headcount: {full_time: 40, part_time: 10}
families:
  - name: day8
    contract: full_time
    paid_hours: 8
    earliest_start: "06:00"
    latest_start: "12:00"
    days_per_week: 5
    max_start_variation_hours: 2
    night_premium: 0.25
    weekdays: [mon, tue, wed, thu, fri, sat, sun]
    breaks:
      - {name: coffee, length_minutes: 15, earliest_offset_minutes: 60,
         latest_offset_minutes: 120, paid: true}
      - {name: lunch, kind: lunch, length_minutes: 60, earliest_offset_minutes: 180,
         latest_offset_minutes: 300}
  - name: pt4
    contract: part_time
    paid_hours: 4
    earliest_start: "10:00"
    latest_start: "18:00"
    max_share: 0.3
"""


def family(**overrides) -> dict:
    base = {"name": "f", "paid_hours": 8, "earliest_start": "08:00", "latest_start": "10:00"}
    return {**base, **overrides}


def parse(**section) -> ScheduleRules:
    return build(ScheduleRules, section, "test: schedule")


def test_section_parses_into_typed_rules():
    rules = parse(**yaml.safe_load(SECTION))
    day8, pt4 = rules.families
    assert isinstance(day8, ShiftFamily) and isinstance(day8.breaks[0], BreakRule)
    assert day8.breaks[1].kind == "lunch" and day8.breaks[0].paid
    # 8 paid hours plus the unpaid 60-minute lunch; the paid coffee break adds nothing.
    assert day8.length_minutes == 8 * 60 + 60
    assert day8.start_minutes()[:3] == [360, 390, 420]
    assert dict(rules.headcount) == {"full_time": 40, "part_time": 10}
    assert pt4.days_per_week is None and pt4.max_share == 0.3


def test_config_schedule_section_is_typed():
    config = parse_config({"schedule": yaml.safe_load(SECTION)}, "example.yaml")
    assert isinstance(config.schedule, ScheduleRules)
    assert config.schedule.families[0].name == "day8"


def test_defaults_without_a_schedule_section():
    rules = parse()
    assert rules.interval_minutes == 30 and rules.objective == "cover" and rules.families == ()


@pytest.mark.parametrize(("section", "message"), [
    ({"interval_minutes": 45}, "interval_minutes must be 15, 30 or 60, got 45"),
    ({"families": [family(latest_start="07:00")]}, "latest_start 07:00 is before earliest_start"),
    ({"families": [family(earliest_start="25:00")]}, "earliest_start must lie within"),
    ({"families": [family(earliest_start="8am")]}, "earliest_start must be a time like"),
    ({"families": [family(paid_hours=2, breaks=[{"name": "lunch", "length_minutes": 180,
                                                  "earliest_offset_minutes": 0,
                                                  "latest_offset_minutes": 0, "paid": True}])]},
     "break 'lunch' of 180 min is not shorter than its 120 min shift"),
    ({"families": [family(breaks=[{"name": "b", "length_minutes": 30,
                                   "earliest_offset_minutes": 500,
                                   "latest_offset_minutes": 520}])]},
     "may end at minute 550, after its shift ends at minute 510"),
    ({"families": [family(breaks=[
        {"name": "coffee", "length_minutes": 15, "earliest_offset_minutes": 60,
         "latest_offset_minutes": 200},
        {"name": "lunch", "kind": "lunch", "length_minutes": 60, "earliest_offset_minutes": 180,
         "latest_offset_minutes": 300}])]},
     "windows of breaks 'coffee' .* and 'lunch' .* overlap"),
    ({"families": [family(breaks=[{"name": "b", "length_minutes": 15,
                                   "earliest_offset_minutes": 90,
                                   "latest_offset_minutes": 60}])]},
     r"latest_offset_minutes \(60\) must be >= earliest_offset_minutes \(90\)"),
    ({"families": [family(colour="red")]}, "unknown key 'colour'"),
    ({"shift_families": []}, "unknown key 'shift_families'"),
    ({"families": [family(min_share=0.5, max_share=0.2)]}, r"min_share \(0.5\) must be <= max_share"),
    ({"families": [family(max_share=1.5)]}, "max_share must be within 0..1, got 1.5"),
    ({"families": [family(days_per_week=6, weekdays=["mon", "tue", "wed", "thu", "fri"])]},
     "days_per_week 6 exceeds its 5 allowed weekdays"),
    ({"families": [family(weekdays=["funday"])]}, "weekdays must be names from"),
    ({"families": [family(), family()]}, r"family names must be unique, got \['f'\]"),
    ({"families": [family()], "headcount": {"contractor": 3}},
     "headcount names contract 'contractor', which no family has"),
    ({"families": [family(paid_hours=12, days_per_week=5)], "min_rest_hours": 13},
     "plus min_rest_hours 13.0 exceeds 24 h"),
    ({"families": [family(night_window="nights")]}, "night_window must look like"),
    ({"objective": "profit"}, "must be one of 'cover', 'service_level'"),
    ({"service_level_target": 80}, r"service_level_target must be within \(0, 1\), got 80"),
    ({"families": [family(paid_hours="eight")]}, "paid_hours: must be a number, got 'eight'"),
])
def test_bad_config_raises_a_clear_error(section, message):
    with pytest.raises(ConfigError, match=message):
        parse(**section)


def test_direct_construction_raises_valueerror():
    with pytest.raises(ValueError, match="length_minutes must be > 0, got 0"):
        BreakRule("b", 0, 10, 20)
    with pytest.raises(ValueError, match="start_step_minutes must be > 0"):
        ShiftFamily("f", 8, "08:00", "09:00", start_step_minutes=0)


def test_several_short_breaks_are_allowed_but_one_lunch():
    two = ShiftFamily("ft", 8, "08:00", "08:00", breaks=(
        BreakRule("morning", 15, 60, 120, paid=True),
        BreakRule("lunch", 60, 210, 270, kind="lunch"),
        BreakRule("afternoon", 15, 360, 420, paid=True)))
    assert [b.kind for b in two.breaks].count("break") == 2
    with pytest.raises(ValueError, match="at most one break of kind 'lunch' per family, got 2"):
        ShiftFamily("ft", 8, "08:00", "08:00", breaks=(
            BreakRule("lunch", 30, 120, 150, kind="lunch"),
            BreakRule("supper", 30, 300, 330, kind="lunch")))
    with pytest.raises(ValueError, match="windows of breaks 'a' .* and 'b' .* overlap"):
        ShiftFamily("ft", 8, "08:00", "08:00", breaks=(
            BreakRule("a", 15, 60, 120, paid=True), BreakRule("b", 15, 100, 180, paid=True)))

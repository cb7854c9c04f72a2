"""The YAML config layer: strict parsing, clear errors, opening hours and weekdays."""

from dataclasses import dataclass

import pytest

from staffcast.config import (
    ConfigError,
    build,
    dump_resolved,
    load_config,
    parse_config,
    parse_opening_hours,
    parse_weekday,
)


@dataclass(frozen=True)
class _Inner:
    length_min: int
    paid: bool = True


@dataclass(frozen=True)
class _Outer:
    name: str
    share: float = 0.5
    parts: tuple[_Inner, ...] = ()
    mode: str | None = None


def test_build_coerces_nested_dataclasses_and_tuples():
    got = build(_Outer, {"name": "ft", "share": 1, "parts": [{"length_min": 15}]}, "cfg")
    assert got == _Outer(name="ft", share=1.0, parts=(_Inner(15, True),))
    assert isinstance(got.share, float)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "ft", "colour": "red"}, "cfg: unknown key 'colour'; valid keys: mode, name, parts, share"),
        ({}, "cfg: missing required key 'name'"),
        ({"name": "ft", "share": "half"}, "cfg.share: must be a number, got 'half'"),
        ({"name": "ft", "parts": [{"length_min": 7.5}]}, "cfg.parts[0].length_min: must be a whole number, got 7.5"),
        ({"name": "ft", "parts": [{"length_min": 15, "paid": "yes"}]}, "cfg.parts[0].paid: must be true or false"),
        ({"name": "ft", "parts": "x"}, "cfg.parts: must be a list"),
    ],
)
def test_build_names_key_rule_and_value(data, fragment):
    with pytest.raises(ConfigError) as err:
        build(_Outer, data, "cfg")
    assert fragment in str(err.value)


def test_opening_hours_every_day_and_by_weekday():
    assert parse_opening_hours("08:00-22:00", "q") == tuple(((480, 1320),) for _ in range(7))
    hours = parse_opening_hours({"mon-fri": "07:00-21:05", "sat": ["09:00-12:00", "13:00-17:00"]}, "q")
    assert hours[0] == ((420, 1265),) and hours[4] == ((420, 1265),)
    assert hours[5] == ((540, 720), (780, 1020))
    assert hours[6] == ()
    # A range over the week's end wraps from Sunday to Monday.
    assert parse_opening_hours({"sat-mon": "00:00-24:00"}, "q")[1] == ()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("22:00-06:00", "closing time must be after opening time"),
        ("8-22", "must look like '08:00-22:00'"),
        ({"mon-fry": "08:00-22:00"}, "day spec must be like 'mon-fri'"),
        ({"daily": ["08:00-12:00", "11:00-13:00"]}, "overlaps another range on mon"),
        ("08:00-25:00", "times must lie within 00:00-24:00"),
    ],
)
def test_bad_opening_hours(value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_opening_hours(value, "queues.chat.opening_hours")


def test_weekday_names_and_numbers():
    assert parse_weekday("Sunday", "x") == 6 and parse_weekday("mon", "x") == 0
    assert parse_weekday(3, "x") == 3
    with pytest.raises(ConfigError, match="x: must be a weekday"):
        parse_weekday("someday", "x")


def test_parse_config_queues_and_defaults():
    cfg = parse_config({"queues": {"chat": {"opening_hours": "08:00-20:00", "rest_day": "sun"}}})
    assert cfg.queues["chat"].rest_day == 6
    assert cfg.queues["chat"].opening_hours[2] == ((480, 1200),)
    assert cfg.forecast.model == "auto" and cfg.forecast.country == "CN"
    # Unknown queues fall back to `default`, else to empty settings.
    assert cfg.queue("other").opening_hours is None


def test_parse_config_rejects_unknown_top_level_key():
    with pytest.raises(ConfigError, match="my.yaml: unknown key 'queus'"):
        parse_config({"queus": {}}, "my.yaml")


def test_load_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)


def test_resolved_config_round_trips(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("forecast:\n  model: arima\n  horizon: 48\n")
    cfg = load_config(path)
    assert cfg.path == path and cfg.forecast.horizon == 48
    again = tmp_path / "again.yaml"
    again.write_text(dump_resolved(cfg))
    assert load_config(again).forecast == cfg.forecast


def test_bundled_example_config_loads():
    from tests.conftest import ROOT

    cfg = load_config(ROOT / "configs" / "example.yaml")
    assert set(cfg.queues) == {"presales", "aftersales"}

"""The YAML config layer: strict parsing, clear errors, opening hours and weekdays."""

import dataclasses
from dataclasses import dataclass

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from staffcast.config import (
    WEEKDAYS,
    ConfigError,
    build,
    dump_resolved,
    load_config,
    parse_config,
    parse_opening_hours,
    parse_weekday,
    with_forecast,
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


# ------------------------------------------------------------ resolved config round trip

def _reloaded(config):
    """`config` written by dump_resolved and parsed back (path None, as parse_config)."""
    return parse_config(yaml.safe_load(dump_resolved(config)), "resolved")


def _pathless(config):
    return dataclasses.replace(config, path=None)


def test_shipped_config_round_trips_every_setting():
    from tests.conftest import ROOT

    config = load_config(ROOT / "configs" / "example.yaml")
    assert _reloaded(config) == _pathless(config)


def test_resolved_config_shows_typed_updates(tmp_path):
    from tests.conftest import ROOT

    from staffcast.pipeline import with_multi_skill
    from staffcast.scenarios import Scenario, apply_scenario

    config = load_config(ROOT / "configs" / "example.yaml")
    changed = with_forecast(with_multi_skill(config, True), model="histavg", horizon=48)
    changed = apply_scenario(changed, Scenario(name="s", queues={"presales": {"aht_s": 300}},
                                               headcount={"full_time": 7}), "s")
    back = _reloaded(changed)
    assert back == _pathless(changed)
    assert back.schedule.multi_skill and back.forecast.horizon == 48
    assert back.queue("presales").staffing.aht_s == 300.0
    assert back.schedule.headcount["full_time"] == 7
    with pytest.raises(ConfigError, match="horizon"):
        with_forecast(config, horizon="soon")


def test_relative_agents_path_is_written_resolved(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("agents: agents.csv\n")
    again = tmp_path / "again.yaml"
    again.write_text(dump_resolved(load_config(path)))
    assert load_config(again).agents == tmp_path / "sub" / "agents.csv"


_HOURS = st.lists(st.sampled_from(range(0, 1441, 30)), min_size=0, max_size=6,
                  unique=True).map(sorted).map(lambda b: b[:len(b) // 2 * 2])


def _ranges(bounds):
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"
            for a, b in zip(bounds[::2], bounds[1::2])]


_QUEUE = st.fixed_dictionaries({}, optional={
    "opening_hours": st.one_of(
        st.sampled_from(["08:00-22:00", "00:00-24:00"]),
        st.fixed_dictionaries({d: _HOURS.map(_ranges) for d in WEEKDAYS})),
    "rest_day": st.one_of(st.just("auto"), st.sampled_from(WEEKDAYS), st.integers(0, 6)),
    "holiday_eve": st.booleans(),
}).flatmap(lambda base: st.one_of(st.just(base), st.fixed_dictionaries(
    {"aht_s": st.one_of(st.integers(1, 900), st.floats(1, 900),
                        st.lists(st.integers(60, 600), min_size=24, max_size=24).map(
                            lambda v: dict(enumerate(v))))},
    optional={"channel": st.sampled_from(["voice", "chat", "ticket"]),
              "max_occupancy": st.floats(0.5, 1.0),
              "concurrency": st.integers(1, 4),
              "shrinkage": st.dictionaries(st.sampled_from(["breaks", "training"]),
                                           st.floats(0, 0.3)),
              "min_agents": st.integers(0, 5),
              "pool": st.sampled_from(["a", "b"]),
              "bot_containment": st.floats(0, 0.9)}).map(lambda s: {**base, **s})))

_FAMILY = st.fixed_dictionaries(
    {"name": st.sampled_from(["early", "late", "night"]),
     "paid_hours": st.sampled_from([4, 6, 7.5, 8]),
     "earliest_start": st.sampled_from(["06:00", "07:30"]),
     "latest_start": st.sampled_from(["08:00", "12:00"])},
    optional={"contract": st.sampled_from(["full_time", "part_time"]),
              "weekdays": st.lists(st.sampled_from(["mon", "tue", "sat"]), min_size=1,
                                   max_size=3, unique=True),
              "days_per_week": st.one_of(st.none(), st.integers(1, 5)),
              "cost_per_hour": st.floats(0, 50),
              "breaks": st.just([{"name": "coffee", "length_minutes": 15,
                                  "earliest_offset_minutes": 60,
                                  "latest_offset_minutes": 120}]),
              "queues": st.one_of(st.none(), st.just(["q0"]))})

_DOCUMENT = st.fixed_dictionaries({}, optional={
    "queues": st.dictionaries(st.sampled_from(["q0", "q1", "default"]), _QUEUE, max_size=3),
    "forecast": st.fixed_dictionaries({}, optional={
        "model": st.sampled_from(["auto", "arima", "trimavg"]),
        "horizon": st.integers(1, 400),
        "fill_missing": st.sampled_from(["error", "zero"]),
        "volume_quantile": st.sampled_from(["mean", "80", "95"]),
        "interval_minutes": st.sampled_from([None, 15, 30, 60]),
        "models": st.fixed_dictionaries({}, optional={
            "trimavg": st.fixed_dictionaries({}, optional={"days": st.integers(1, 9),
                                                           "trim": st.integers(0, 3)}),
            "arima": st.fixed_dictionaries({}, optional={
                "order": st.lists(st.integers(0, 3), min_size=2, max_size=2),
                "halflife_weeks": st.one_of(st.none(), st.floats(1, 52)),
                "transform": st.sampled_from(["sqrt", "log1p", "none"])}),
            "auto": st.fixed_dictionaries({}, optional={
                "candidates": st.lists(st.sampled_from(["trimavg", "arima", "prophet"]),
                                       min_size=1, max_size=3, unique=True)})})}),
    "schedule": st.fixed_dictionaries({}, optional={
        "families": st.lists(_FAMILY, max_size=2, unique_by=lambda f: f["name"]),
        "interval_minutes": st.sampled_from([15, 30, 60]),
        "cyclic": st.booleans(),
        "objective": st.sampled_from(["cover", "service_level"])}),
    "timezone": st.sampled_from(["Asia/Shanghai", "Europe/Berlin"]),
    "agents": st.just("/data/agents.csv"),
    "history_columns": st.dictionaries(st.sampled_from(["unique_id", "ds", "y", "aht_s"]),
                                       st.sampled_from(["Skill", "Interval Start", "n"]),
                                       max_size=3),
})


@settings(max_examples=200, deadline=None)
@given(document=_DOCUMENT)
def test_any_config_round_trips_through_its_resolved_yaml(document):
    try:
        config = parse_config(document, "generated")
    except ConfigError:
        assume(False)  # a generated combination the rules reject (e.g. a short break window)
    assert _reloaded(config) == config


# ------------------------------------------------------------ forecast.models

def test_model_hyperparameters_parse_into_typed_settings():
    from staffcast.forecasting.models.params import ArimaParams, ProphetParams, TrimavgParams

    config = parse_config(yaml.safe_load("""
forecast:
  models:
    arima: {order: [2, 1], history_weeks: 52}
    prophet: {changepoints: 5, history_weeks: 13}
    trimavg: {days: 8}
    auto: {candidates: [trimavg, prophet], tolerance: 0.1}
"""), "c.yaml")
    models = config.forecast.models
    assert models.arima == ArimaParams(order=(2, 1), history_weeks=52)
    assert models.prophet == ProphetParams(changepoints=5, history_weeks=13)
    assert models.trimavg == TrimavgParams(days=8, trim=1)
    assert models.auto.candidates == ("trimavg", "prophet") and models.auto.tolerance == 0.1
    assert models.histavg == type(models).histavg  # left out: the model's defaults
    assert _reloaded(config) == config


@pytest.mark.parametrize(("models", "message"), [
    ({"sarima": {}}, "c.yaml: forecast.models: unknown key 'sarima'; valid keys: arima, auto, "
                     "histavg, prophet, snaive, trimavg"),
    ({"prophet": {"changepoint": 3}}, "c.yaml: forecast.models.prophet: unknown key "
     "'changepoint'; valid keys: changepoints, daily_fourier_order, history_weeks, "
     "seasonality_mode"),
    ({"snaive": {"days": 2}}, "c.yaml: forecast.models.snaive: unknown key 'days'; valid "
                              "keys: (none)"),
    ({"prophet": {"changepoints": "three"}}, "c.yaml: forecast.models.prophet.changepoints: "
                                             "must be a number, got 'three'"),
    ({"trimavg": {"days": 2.5}}, "c.yaml: forecast.models.trimavg.days: must be a whole "
                                 "number, got 2.5"),
    ({"arima": {"order": 2}}, "c.yaml: forecast.models.arima.order: must be a list, got 2"),
    ({"arima": {"order": [1, 2, 3]}}, "c.yaml: forecast.models.arima: order must be [p, q], "
                                      "got [1, 2, 3]"),
    ({"arima": {"transform": "log"}}, "c.yaml: forecast.models.arima.transform: must be one "
                                      "of 'sqrt', 'log1p', 'none', got 'log'"),
    ({"histavg": {"days": 0}}, "c.yaml: forecast.models.histavg: days must be a whole number "
                               ">= 1, got 0"),
    ({"auto": {"candidates": ["arima", "sarima"]}}, "c.yaml: forecast.models.auto: candidates "
     "must name models from snaive, histavg, trimavg, arima, prophet, got ['arima', 'sarima']"),
])
def test_bad_model_hyperparameters_are_one_line_errors(models, message):
    with pytest.raises(ConfigError) as info:
        parse_config({"forecast": {"models": models}}, "c.yaml")
    assert str(info.value) == message


def test_configured_hyperparameters_reach_the_forecast():
    import numpy as np

    from staffcast import api
    from tests.forecast.test_models import synthetic_history

    history = synthetic_history(3)
    one_day = parse_config({"forecast": {"models": {"histavg": {"days": 1, "trim": 0}}}})
    got = api.forecast(history, config=one_day, model="histavg", horizon=24)
    naive = api.forecast(history, config=parse_config({}), model="snaive", horizon=24)
    default = api.forecast(history, config=parse_config({}), model="histavg", horizon=24)
    np.testing.assert_allclose(got["yhat"], naive["yhat"])
    assert not np.allclose(default["yhat"], naive["yhat"])


def test_documented_model_settings_are_the_defaults():
    from staffcast.forecasting.models.params import ModelParams
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "forecasting.md").read_text(encoding="utf-8")
    block = text.split("## Model settings")[1].split("```yaml\n")[1].split("```")[0]
    assert parse_config(yaml.safe_load(block), "docs").forecast.models == ModelParams()


# ------------------------------------------------------------ history_columns

def test_history_columns_map_a_vendor_export_at_the_edge(tmp_path):
    import numpy as np
    import pandas as pd

    from staffcast import api

    ds = pd.date_range("2026-03-02", periods=48, freq="h")
    pd.DataFrame({"Skill": "chat", "Interval Start": ds, "Offered": np.arange(48) % 5}).to_csv(
        tmp_path / "export.csv", index=False)
    config = parse_config({"history_columns": {"unique_id": "Skill", "ds": "Interval Start",
                                               "y": "Offered"}}, "c.yaml")
    history = api.load_history(tmp_path / "export.csv", config=config)
    assert list(history.columns) == ["unique_id", "ds", "y"]
    assert history["y"].tolist() == [float(v) for v in np.arange(48) % 5]
    assert _reloaded(config) == config
    with pytest.raises(Exception, match="export.csv: no column 'Queue' \\(mapped to "
                                        "unique_id\\)"):
        api.load_history(tmp_path / "export.csv",
                         config=parse_config({"history_columns": {"unique_id": "Queue"}}))
    with pytest.raises(ConfigError, match="c.yaml: history_columns: unknown column 'queue'; "
                                          "valid: unique_id, ds, y"):
        parse_config({"history_columns": {"queue": "Skill"}}, "c.yaml")

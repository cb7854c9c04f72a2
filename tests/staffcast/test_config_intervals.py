"""Config keys of interval-native data: `timezone` and `forecast.interval_minutes`."""

import pytest

from staffcast.config import ConfigError, parse_config


def test_timezone_and_interval_are_parsed():
    config = parse_config({"timezone": "Asia/Shanghai", "forecast": {"interval_minutes": 30}})
    assert config.timezone == "Asia/Shanghai" and config.forecast.interval_minutes == 30
    defaults = parse_config({})
    assert defaults.timezone is None and defaults.forecast.interval_minutes is None


def test_unknown_time_zone_is_a_config_error():
    with pytest.raises(ConfigError, match=r"c.yaml: timezone: unknown time zone "
                                          r"'Asia/Shangai'; use an IANA name"):
        parse_config({"timezone": "Asia/Shangai"}, "c.yaml")


@pytest.mark.parametrize("minutes", [7, 0, 2000])
def test_interval_that_does_not_divide_the_day_is_a_config_error(minutes):
    with pytest.raises(ConfigError, match=rf"c.yaml: forecast: interval_minutes: .*divides "
                                          rf"the day.*got {minutes}"):
        parse_config({"forecast": {"interval_minutes": minutes}}, "c.yaml")


def test_holiday_eve_queue_option():
    from staffcast.forecasting.core import settings_for

    config = parse_config({"queues": {"chat": {"holiday_eve": True, "aht_s": 300,
                                               "sl_target": 0.8, "sl_seconds": 20}}})
    assert config.queue("chat").holiday_eve is True
    assert config.queue("chat").staffing.aht_s == 300
    assert settings_for(config.queue, "chat").holiday_eve is True
    assert settings_for(config.queue, "other").holiday_eve is False
    with pytest.raises(ConfigError, match=r"queues.chat.holiday_eve: must be true or false"):
        parse_config({"queues": {"chat": {"holiday_eve": "yes"}}})

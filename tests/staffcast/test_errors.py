"""One error base: every user error of the three packages is a StaffcastError, the CLI
prints those as one line, and anything else (a bug) keeps its traceback."""

import importlib
import inspect
import pkgutil

import click
import pytest
from click.testing import CliRunner

import staffcast.forecasting as forecast
import staffcast.scheduler as scheduler
import staffcast
from staffcast.forecasting.errors import ForecastError, InputError
from staffcast.scheduler.agents import AgentsError
from staffcast.scheduler.errors import SchedulerError
from staffcast.scheduler.roster import RosterError
from staffcast.cli import main
from staffcast.config import ConfigError
from staffcast.errors import USER_ERRORS, StaffcastError, is_user_error, one_line
from staffcast.tables import TableError


@pytest.mark.parametrize("error", [InputError, ForecastError, SchedulerError, AgentsError,
                                   RosterError, ConfigError, TableError])
def test_each_package_error_is_a_staffcast_error(error):
    exc = error("x must be > 0, got -1")
    assert isinstance(exc, StaffcastError) and isinstance(exc, ValueError)
    assert is_user_error(exc)
    with pytest.raises(USER_ERRORS):
        raise exc


def test_a_plain_value_error_is_not_a_user_error():
    assert not is_user_error(ValueError("bug"))
    assert not is_user_error(KeyError("bug"))
    assert is_user_error(FileNotFoundError(2, "No such file", "history.csv"))


def _exception_classes(package):
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.name.startswith("staffcast.commands") or info.name == "staffcast.__main__":
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (obj.__module__ == module.__name__ and issubclass(obj, Exception)
                    and not issubclass(obj, Warning)):
                yield obj


def test_every_error_class_the_packages_define_is_a_user_error_or_a_click_one():
    classes = [c for p in (forecast, scheduler, staffcast) for c in _exception_classes(p)]
    assert len(classes) >= 15
    stray = [f"{c.__module__}.{c.__name__}" for c in classes
             if not issubclass(c, (*USER_ERRORS, click.ClickException))]
    assert stray == []


def test_one_line_folds_whitespace():
    assert one_line(ValueError("a\n   b\tc")) == "a b c"
    assert one_line(ValueError()) == "ValueError"


def test_cli_shows_a_user_error_as_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues:\n  chat:\n    aht_s: -3\n")
    result = CliRunner().invoke(main, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "queues.chat" in result.output and "aht_s" in result.output and "-3" in result.output
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("bug", [ValueError("internal mix-up"), KeyError("aht_s"),
                                 ZeroDivisionError("division by zero")])
def test_cli_lets_a_bug_keep_its_traceback(tmp_path, monkeypatch, bug):
    def broken(path):
        raise bug

    monkeypatch.setattr("staffcast.config.load_config", broken)
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    result = CliRunner().invoke(main, ["config", "check", str(config)])
    assert result.exit_code == 1
    assert result.exception is bug  # not turned into "Error: ..." (a ClickException)
    assert "Error:" not in result.output


def test_staffcast_debug_shows_the_traceback_of_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("STAFFCAST_DEBUG", "1")
    bad = tmp_path / "bad.yaml"
    bad.write_text("nonsense: 1\n")
    result = CliRunner().invoke(main, ["config", "check", str(bad)])
    assert isinstance(result.exception, ConfigError)


def test_unknown_model_is_one_line(tmp_path):
    history = tmp_path / "h.csv"
    history.write_text("ds,y\n2026-11-09 00:00,1\n")
    result = CliRunner().invoke(main, ["forecast", "--history", str(history), "--model",
                                       "crystal_ball", "--out", str(tmp_path / "f.csv")])
    assert result.exit_code == 1
    assert "Error: unknown model 'crystal_ball'; valid models:" in result.output

"""YAML config, parsed once at the edge into frozen dataclasses.

Every section maps onto a dataclass whose fields are the library's keyword arguments.
`build` does the strict part for all of them: unknown keys are errors that list the valid
ones, missing required keys are errors, and values are coerced to the annotated type with
an error naming the key path, the rule and the value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from staffcast.forecasting.ingest import HISTORY_COLUMNS
from staffcast.forecasting.models.params import ModelParams
from staffcast.scheduler.requirements import QueueStaffing
from staffcast.scheduler.rules import ScheduleRules
from staffcast.errors import StaffcastError


class ConfigError(StaffcastError):
    """A config file or value breaks a rule; the message names where and why."""


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Opening hours as plain builtins so both libraries can take them without importing each
# other: one tuple per weekday (0 = Monday) of (start_minute, end_minute) ranges, end <= 1440.
WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def coerce(tp: Any, value: Any, where: str) -> Any:
    """Convert `value` to the annotated type `tp` or raise ConfigError naming `where`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce(option, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of "
                          f"{', '.join(_type_name(a) for a in args)}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)
    if origin in (tuple, list):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: must be a list, got {value!r}")
        item_tp = args[0] if args else Any
        items = [coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: must be a mapping, got {value!r}")
        key_tp, val_tp = args if args else (Any, Any)
        return {coerce(key_tp, k, f"{where}"): coerce(val_tp, v, f"{where}.{k}")
                for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: must be true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: must be a number, got {value!r}")
        if tp is int and float(value) != int(value):
            raise ConfigError(f"{where}: must be a whole number, got {value!r}")
        return tp(value)
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where}: must be text, got {value!r}")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: must be {_type_name(tp)}, got {value!r}")


def build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass `cls` from a mapping, strictly; `where` prefixes every error."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping of {cls.__name__} settings, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; valid keys: "
                          f"{', '.join(sorted(fields)) or '(none)'}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, fld in fields.items():
        if name in data:
            kwargs[name] = coerce(hints[name], data[name], f"{where}.{name}")
        elif fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing required key {name!r}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_range(text: str, where: str) -> tuple[int, int]:
    match = _RANGE.match(str(text))
    if not match:
        raise ConfigError(f"{where}: opening hours must look like '08:00-22:00', got {text!r}")
    h1, m1, h2, m2 = map(int, match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start < 1440 and 0 < end <= 1440 and m1 < 60 and m2 < 60):
        raise ConfigError(f"{where}: times must lie within 00:00-24:00, got {text!r}")
    if end <= start:
        raise ConfigError(f"{where}: closing time must be after opening time, got {text!r} "
                          "(split an overnight opening into two ranges on two days)")
    return start, end


def _parse_days(spec: str, where: str) -> list[int]:
    spec = str(spec).strip().lower()
    if spec in ("daily", "all", "every day"):
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if any(e not in WEEKDAYS for e in ends) or len(ends) > 2:
            raise ConfigError(f"{where}: day spec must be like 'mon-fri', 'sat,sun' or 'daily', "
                              f"got {spec!r}")
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.extend(range(first, last + 1) if first <= last else [*range(first, 7),
                                                                   *range(0, last + 1)])
    return days


def parse_opening_hours(value: Any, where: str) -> WeeklyHours:
    """Parse `'08:00-22:00'` (every day) or `{mon-fri: '08:00-22:00', sun: closed, ...}`.

    Returns one tuple of (start_minute, end_minute) ranges per weekday, Monday first; days
    a mapping leaves out are closed.
    """
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]

    def add(days: list[int], spec: Any, at: str) -> None:
        specs = spec if isinstance(spec, list) else [spec]
        for s in specs:
            if str(s).strip().lower() == "closed":
                continue
            rng = _parse_range(s, at)
            for d in days:
                if any(rng[0] < e and s0 < rng[1] for s0, e in per_day[d]):
                    raise ConfigError(f"{at}: {s!r} overlaps another range on {WEEKDAYS[d]}")
                per_day[d].append(rng)

    if isinstance(value, (str, list)):
        add(list(range(7)), value, where)
    elif isinstance(value, Mapping):
        for key, spec in value.items():
            add(_parse_days(key, f"{where}.{key}"), spec, f"{where}.{key}")
    else:
        raise ConfigError(f"{where}: must be '08:00-22:00' or a mapping of days to ranges, "
                          f"got {value!r}")
    return tuple(tuple(sorted(r)) for r in per_day)


def parse_weekday(value: Any, where: str) -> int:
    """Parse a weekday name ('sun', 'Sunday') or number (0 = Monday) into 0..6."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    text = str(value).strip().lower()[:3]
    if text in WEEKDAYS:
        return WEEKDAYS.index(text)
    raise ConfigError(f"{where}: must be a weekday such as 'sun' (or 0-6, 0 = Monday), "
                      f"got {value!r}")


@dataclass(frozen=True)
class QueueConfig:
    """One queue: when it is open, its rest day, and its staffing settings (the queue's
    other keys, parsed strictly into `QueueStaffing`; None when the queue has none)."""

    name: str
    opening_hours: WeeklyHours | None = None
    rest_day: int | None = None
    staffing: QueueStaffing | None = None
    holiday_eve: bool = False
    """Holiday eves are an event of their own in the forecast (docs/calendar.md)."""


@dataclass(frozen=True)
class ForecastSettings:
    """Defaults for `staffcast forecast`; command-line options override them."""

    model: str = "auto"
    country: str = "CN"
    horizon: int = 168
    fill_missing: Literal["error", "zero"] = "error"
    volume_quantile: Literal["mean", "80", "95"] = "mean"
    interval_minutes: int | None = None
    """Forecast at this interval (minutes dividing the day; a multiple of the history's,
    which is summed into it); None: the history's own interval."""
    models: ModelParams = ModelParams()
    """Hyperparameters per model (`staffcast.forecasting.models.params`); a model left out keeps its
    defaults (docs/forecasting.md, *Model settings*)."""

    def __post_init__(self) -> None:
        if self.interval_minutes is not None:
            from staffcast.forecasting.data import check_interval
            check_interval(self.interval_minutes)


@dataclass(frozen=True)
class Config:
    """A whole resolved config file."""

    path: Path | None
    queues: Mapping[str, QueueConfig]
    forecast: ForecastSettings
    schedule: ScheduleRules
    agents: Path | None = None
    """Agents CSV named by the config (relative paths are relative to the config file)."""
    timezone: str | None = None
    """IANA time zone of the queues' wall clock (e.g. Asia/Shanghai): offset-aware input
    timestamps are converted to it; naive ones are taken as already local."""
    history_columns: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """A vendor's column names in history files: our name (`unique_id`, `ds`, `y`,
    `answered`, `abandoned`, `aht_s`, `asa_s`) -> the file's (`ds: Interval Start`)."""

    def queue(self, name: str) -> QueueConfig:
        """Settings of queue `name`, or the `default` queue's, or empty settings."""
        if name in self.queues:
            return self.queues[name]
        return self.queues.get("default", QueueConfig(name=name))


_TOP_KEYS = ("queues", "forecast", "schedule", "agents", "timezone", "history_columns")


def parse_history_columns(value: Any, where: str) -> dict[str, str]:
    """`{ds: Interval Start, y: Offered}`: our history column -> the file's name."""
    if value is None:
        return {}
    mapping = coerce(dict[str, str], value, where)
    unknown = [k for k in mapping if k not in HISTORY_COLUMNS]
    if unknown:
        raise ConfigError(f"{where}: unknown column {unknown[0]!r}; valid: "
                          f"{', '.join(HISTORY_COLUMNS)}")
    return mapping


def parse_config(data: Any, source: str = "config") -> Config:
    """Parse an already-loaded YAML document; `source` names it in errors."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping, got {data!r}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; valid keys: "
                          f"{', '.join(_TOP_KEYS)}")
    queues_raw = data.get("queues") or {}
    if not isinstance(queues_raw, Mapping):
        raise ConfigError(f"{source}: queues must be a mapping of queue name to settings")
    queues = {}
    for name, settings in queues_raw.items():
        where = f"{source}: queues.{name}"
        settings = dict(settings or {})
        hours = settings.pop("opening_hours", None)
        rest = settings.pop("rest_day", None)
        eve = coerce(bool, settings.pop("holiday_eve", False), f"{where}.holiday_eve")
        queues[str(name)] = QueueConfig(
            name=str(name),
            opening_hours=None if hours is None else parse_opening_hours(hours, f"{where}.opening_hours"),
            rest_day=None if rest in (None, "auto") else parse_weekday(rest, f"{where}.rest_day"),
            staffing=build(QueueStaffing, settings, where) if settings else None,
            holiday_eve=eve,
        )
    agents = data.get("agents")
    if agents is not None and not isinstance(agents, str):
        raise ConfigError(f"{source}: agents must be the path of an agents CSV, got {agents!r}")
    timezone = data.get("timezone")
    if timezone is not None:
        from staffcast.forecasting.data import check_timezone
        try:
            timezone = check_timezone(timezone).key
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return Config(
        timezone=timezone,
        history_columns=parse_history_columns(data.get("history_columns"),
                                              f"{source}: history_columns"),
        path=None,
        agents=None if agents is None else Path(agents),
        queues=queues,
        forecast=build(ForecastSettings, data.get("forecast"), f"{source}: forecast"),
        schedule=build(ScheduleRules, data.get("schedule"), f"{source}: schedule"),
    )


def read_yaml(path: Path, what: str, error: type[ConfigError] = ConfigError) -> Any:
    """The YAML document at `path`; a missing file or bad YAML raises `error` naming it."""
    if not path.is_file():
        raise error(f"{path}: {what} not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc


def load_config(path: str | Path | None) -> Config:
    """Load and validate a YAML config file; `None` gives the defaults."""
    if path is None:
        return parse_config({}, "defaults")
    path = Path(path)
    config = parse_config(read_yaml(path, "config file"), str(path))
    if config.agents is not None and not config.agents.is_absolute():
        # Absolute, so the resolved config written next to outputs elsewhere still finds it.
        config = dataclasses.replace(config, agents=(path.parent / config.agents).resolve())
    return dataclasses.replace(config, path=path)


def updated(obj: Any, where: str, **changes: Any) -> Any:
    """`dataclasses.replace(obj, **changes)` with each value coerced to its field's type
    first (as `build` does) and the object's own checks run again; errors name `where`."""
    fields = {f.name for f in dataclasses.fields(obj) if f.init}
    unknown = [k for k in changes if k not in fields]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; valid keys: "
                          f"{', '.join(sorted(fields))}")
    hints = typing.get_type_hints(type(obj))
    values = {k: coerce(hints[k], v, f"{where}.{k}") for k, v in changes.items()}
    try:
        return dataclasses.replace(obj, **values)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def with_forecast(config: Config, **settings: Any) -> Config:
    """`config` with the given `forecast:` settings replaced (e.g. command-line options),
    so the resolved config records what was run."""
    where = f"{config.path or 'config'}: forecast"
    return dataclasses.replace(config, forecast=updated(config.forecast, where, **settings))


def plain(value: Any) -> Any:
    """A YAML-safe copy of a typed config value: dataclasses as mappings of their fields,
    tuples as lists, paths as text, dates as YYYY-MM-DD; what `coerce` reads back."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.init}
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return value


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def opening_hours_document(hours: WeeklyHours) -> str | list[str] | dict[str, Any]:
    """Weekly hours in the form `parse_opening_hours` reads: the ranges when every day has
    the same, else a mapping of every weekday to its ranges or 'closed'."""
    days = [[f"{_clock(a)}-{_clock(b)}" for a, b in day] for day in hours]
    if all(day == days[0] for day in days) and days[0]:
        return days[0][0] if len(days[0]) == 1 else days[0]
    return {name: (day[0] if len(day) == 1 else day) if day else "closed"
            for name, day in zip(WEEKDAYS, days)}


def queue_document(queue: QueueConfig) -> dict[str, Any]:
    """One queue's settings as the mapping `parse_config` reads under `queues.<name>`."""
    out: dict[str, Any] = {}
    if queue.opening_hours is not None:
        out["opening_hours"] = opening_hours_document(queue.opening_hours)
    if queue.rest_day is not None:
        out["rest_day"] = WEEKDAYS[queue.rest_day]
    if queue.holiday_eve:
        out["holiday_eve"] = True
    if queue.staffing is not None:
        out.update(plain(queue.staffing))
    return out


def config_document(config: Config) -> dict[str, Any]:
    """The typed config rendered back to the YAML document `parse_config` reads into an
    equal config: every setting, defaults included, so a run can be reproduced."""
    out: dict[str, Any] = {}
    if config.timezone is not None:
        out["timezone"] = config.timezone
    if config.agents is not None:
        out["agents"] = str(config.agents)
    if config.history_columns:
        out["history_columns"] = dict(config.history_columns)
    out["queues"] = {name: queue_document(q) for name, q in config.queues.items()}
    out["forecast"] = plain(config.forecast)
    out["schedule"] = plain(config.schedule)
    return out


def dump_yaml(document: Mapping[str, Any]) -> str:
    """A config document as YAML text (keys in the document's order)."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True)


def dump_resolved(config: Config, header: str = "") -> str:
    """The config as YAML, to be written next to every output so a run can be reproduced;
    `header` (comment lines) goes first."""
    return header + dump_yaml(config_document(config))

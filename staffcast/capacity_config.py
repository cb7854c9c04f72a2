"""The capacity plan's YAML (`configs/capacity.yaml`), parsed once into frozen dataclasses.

Sections: `plan` (horizon, festivals, solver, penalty), `queues` (the same per-queue
settings as the main config, bot containment included), `cohorts` (regular staff, new-hire
classes, agency temps, outsourced blocks, cloud agents) and `scenarios` (what-if knobs run
side by side). Unknown keys are errors listing the valid ones; every rule a value breaks is
one line naming the file, the key path, the rule and the value. See docs/capacity.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from staffcast.config import (
    ConfigError,
    QueueConfig,
    build,
    parse_config,
    parse_history_columns,
    plain,
    queue_document,
    read_yaml,
    updated,
)

__all__ = ["Overtime", "RegularCohort", "NewHireCohort", "TempCohort", "OutsourcedCohort",
           "CloudCohort", "Cohorts", "PlanSettings", "CapacityScenario", "CapacityConfig",
           "parse_capacity_config", "load_capacity_config", "dump_capacity_config", "with_plan",
           "COHORTS"]

COHORTS = ("regular", "new_hire", "temp", "outsourced", "cloud")


def _fail(name: str, rule: str, value: object) -> None:
    raise ValueError(f"{name} must be {rule}, got {value!r}")


def _whole(name: str, value: object, low: int = 0) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        _fail(name, f"a whole number >= {low}", value)


def _number(name: str, value: object, rule: str, ok) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and ok(value)):
        _fail(name, rule, value)


def _share(name: str, value: float) -> None:
    _number(name, value, "in [0, 1)", lambda v: 0 <= v < 1)


@dataclass(frozen=True)
class Overtime:
    """Overtime of regular staff under China's Labour Law (art. 41 and 44): at most
    `max_hours_per_day` hours a day and `max_hours_per_month` a month per person, paid
    `weekday_multiplier` x the hourly wage on working days, `rest_day_multiplier` on rest
    days and `holiday_multiplier` on statutory holidays. `enabled: false` forbids it."""

    enabled: bool = True
    max_hours_per_day: float = 3.0
    max_hours_per_month: float = 36.0
    weekday_multiplier: float = 1.5
    rest_day_multiplier: float = 2.0
    holiday_multiplier: float = 3.0

    def __post_init__(self) -> None:
        for name in ("max_hours_per_day", "max_hours_per_month"):
            _number(name, getattr(self, name), ">= 0", lambda v: v >= 0)
        if self.max_hours_per_day > 24:
            _fail("max_hours_per_day", "<= 24", self.max_hours_per_day)
        for name in ("weekday_multiplier", "rest_day_multiplier", "holiday_multiplier"):
            _number(name, getattr(self, name), ">= 1", lambda v: v >= 1)


@dataclass(frozen=True)
class RegularCohort:
    """Staff on the payroll at the start: `headcount` people, each paid `weekly_hours` a
    week at `hourly_wage` and working `weekly_hours / 5` hours on each working day of
    China's calendar (paid holidays cost but give no hours); a share `weekly_attrition`
    leaves every week. `queues`: the queues they serve (default all)."""

    headcount: float
    hourly_wage: float
    weekly_attrition: float = 0.0
    weekly_hours: float = 40.0
    overtime: Overtime = field(default_factory=Overtime)
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _number("headcount", self.headcount, ">= 0", lambda v: v >= 0)
        _number("hourly_wage", self.hourly_wage, ">= 0", lambda v: v >= 0)
        _share("weekly_attrition", self.weekly_attrition)
        _number("weekly_hours", self.weekly_hours, "in (0, 168]", lambda v: 0 < v <= 168)


@dataclass(frozen=True)
class NewHireCohort:
    """Permanent hires in weekly classes. A class is recruited `lead_time_weeks` before it
    starts, trains `training_weeks` (paid, unproductive), then works at `ramp[k]` of full
    productivity in its k-th week after training; the curve ends at 1, from then on the
    class counts as regular staff. A class has `min_class` to `max_per_week` people (or
    none); each hire costs `hire_cost` once. `weekly_attrition` defaults to the regulars'."""

    lead_time_weeks: int
    training_weeks: int
    hourly_wage: float
    max_per_week: int
    ramp: tuple[float, ...] = (1.0,)
    min_class: int = 1
    weekly_hours: float = 40.0
    hire_cost: float = 0.0
    weekly_attrition: float | None = None
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _whole("lead_time_weeks", self.lead_time_weeks)
        _whole("training_weeks", self.training_weeks)
        _whole("min_class", self.min_class, 1)
        _whole("max_per_week", self.max_per_week, 1)
        if self.min_class > self.max_per_week:
            raise ValueError(f"min_class must be <= max_per_week, got min_class="
                             f"{self.min_class} and max_per_week={self.max_per_week}")
        ramp = list(self.ramp)
        if not ramp or any(not (isinstance(v, (int, float)) and 0 <= v <= 1) for v in ramp) \
                or ramp[-1] != 1 or any(b < a for a, b in zip(ramp, ramp[1:])):
            _fail("ramp", "a rising list of productivity shares in [0, 1] ending at 1 "
                  "(e.g. [0.5, 0.8, 1.0])", ramp)
        _number("hourly_wage", self.hourly_wage, ">= 0", lambda v: v >= 0)
        _number("hire_cost", self.hire_cost, ">= 0", lambda v: v >= 0)
        _number("weekly_hours", self.weekly_hours, "in (0, 168]", lambda v: 0 < v <= 168)
        if self.weekly_attrition is not None:
            _share("weekly_attrition", self.weekly_attrition)

    @property
    def weeks_to_full(self) -> int:
        """Weeks from the start of training to the first week at full productivity."""
        return self.training_weeks + len(self.ramp) - 1


@dataclass(frozen=True)
class TempCohort:
    """Agency temps: engaged `lead_time_weeks` after they are requested, for at least
    `min_weeks` weeks (training included), trained `training_weeks` (paid, unproductive),
    then `weekly_hours` a week at `hourly_wage` plus `engagement_fee` each. At most
    `max_per_week` start in a week and `max_active` are engaged at once (None: no cap)."""

    lead_time_weeks: int
    hourly_wage: float
    min_weeks: int = 1
    training_weeks: int = 0
    weekly_hours: float = 40.0
    engagement_fee: float = 0.0
    max_per_week: int | None = None
    max_active: int | None = None
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _whole("lead_time_weeks", self.lead_time_weeks)
        _whole("training_weeks", self.training_weeks)
        _whole("min_weeks", self.min_weeks, 1)
        if self.min_weeks <= self.training_weeks:
            raise ValueError(f"min_weeks must exceed training_weeks (a temp must work after "
                             f"training), got min_weeks={self.min_weeks} and training_weeks="
                             f"{self.training_weeks}")
        for name in ("max_per_week", "max_active"):
            if getattr(self, name) is not None:
                _whole(name, getattr(self, name))
        _number("hourly_wage", self.hourly_wage, ">= 0", lambda v: v >= 0)
        _number("engagement_fee", self.engagement_fee, ">= 0", lambda v: v >= 0)
        _number("weekly_hours", self.weekly_hours, "in (0, 168]", lambda v: 0 < v <= 168)


@dataclass(frozen=True)
class OutsourcedCohort:
    """An outsourcing site selling weekly hours in blocks of `block_hours` at
    `block_price` a block-week; blocks can start `lead_time_weeks` after the plan starts
    and run at least `min_weeks` weeks each, at most `max_blocks` at once; `productivity`
    is the share of a bought hour worth an in-house productive hour."""

    lead_time_weeks: int
    block_hours: float
    block_price: float
    max_blocks: int
    min_weeks: int = 1
    productivity: float = 1.0
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _whole("lead_time_weeks", self.lead_time_weeks)
        _whole("min_weeks", self.min_weeks, 1)
        _whole("max_blocks", self.max_blocks)
        _number("block_hours", self.block_hours, "> 0", lambda v: v > 0)
        _number("block_price", self.block_price, ">= 0", lambda v: v >= 0)
        _number("productivity", self.productivity, "in (0, 1]", lambda v: 0 < v <= 1)


@dataclass(frozen=True)
class CloudCohort:
    """Cloud (crowd) agents booking hour slots: any hours a week at `hourly_price`, up to
    `max_share` of each queue's required hours, from `lead_time_weeks` on."""

    hourly_price: float
    max_share: float
    lead_time_weeks: int = 0
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _number("hourly_price", self.hourly_price, ">= 0", lambda v: v >= 0)
        _number("max_share", self.max_share, "in (0, 1]", lambda v: 0 < v <= 1)
        _whole("lead_time_weeks", self.lead_time_weeks)


@dataclass(frozen=True)
class Cohorts:
    """The supply: regular staff always; the other cohorts when configured."""

    regular: RegularCohort
    new_hire: NewHireCohort | None = None
    temp: TempCohort | None = None
    outsourced: OutsourcedCohort | None = None
    cloud: CloudCohort | None = None


@dataclass(frozen=True)
class PlanSettings:
    """The plan's horizon and solve.

    start: Monday of the first planned week (YYYY-MM-DD; default: the Monday after the
        history ends). History from `start` on is not used: the plan is made as of then.
    weeks: planned weeks (the command's --weeks overrides).
    festivals: calendar event names (promotions) whose weeks the summary reports; each
        must fall inside the horizon.
    interval_minutes: the interval the Erlang staffing runs at (15, 30 or 60).
    volume_quantile: staff to the forecast mean or its upper 80/95% bound.
    schedule_efficiency: share of scheduled productive hours that land where the
        intervals need them (shifts cannot follow the curve exactly), in (0, 1].
    shortfall_penalty: money per required hour left uncovered (above any hour's price,
        or the plan leaves hours uncovered on purpose).
    """

    shortfall_penalty: float
    start: dt.date | None = None
    weeks: int = 26
    country: str = "CN"
    festivals: tuple[str, ...] = ()
    interval_minutes: int = 60
    volume_quantile: Literal["mean", "80", "95"] = "mean"
    schedule_efficiency: float = 0.9
    solver: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = 60.0
    gap: float = 0.0

    def __post_init__(self) -> None:
        _number("shortfall_penalty", self.shortfall_penalty, "> 0", lambda v: v > 0)
        _whole("weeks", self.weeks, 1)
        if self.interval_minutes not in (15, 30, 60):
            _fail("interval_minutes", "15, 30 or 60", self.interval_minutes)
        _number("schedule_efficiency", self.schedule_efficiency, "in (0, 1]",
                lambda v: 0 < v <= 1)
        _number("time_limit_s", self.time_limit_s, "> 0", lambda v: v > 0)
        _number("gap", self.gap, "in [0, 1)", lambda v: 0 <= v < 1)
        if self.start is not None and self.start.weekday() != 0:
            _fail("start", "a Monday", f"{self.start:%Y-%m-%d} ({self.start:%A})")


@dataclass(frozen=True)
class CapacityScenario:
    """What-if knobs, each applied to the base plan.

    attrition_points: added to the annual attrition of regular staff and new hires, in
        percentage points (weekly rate w <-> annual 1 - (1 - w)^52).
    bot_containment: every bot queue's containment set to this share; or a mapping queue
        -> share.
    bot_containment_points: added to every bot queue's containment, in percentage points.
    festival_volume: factor on the volume of the days in the festival windows (`festivals`).
    lead_time_weeks: added to the recruiting lead time of new hires and temps.
    """

    attrition_points: float = 0.0
    bot_containment: float | Mapping[str, float] | None = None
    bot_containment_points: float = 0.0
    festival_volume: float = 1.0
    lead_time_weeks: int = 0

    def __post_init__(self) -> None:
        _number("festival_volume", self.festival_volume, "> 0", lambda v: v > 0)
        if not isinstance(self.lead_time_weeks, int):
            _fail("lead_time_weeks", "a whole number", self.lead_time_weeks)


@dataclass(frozen=True)
class CapacityConfig:
    """A whole capacity config file."""

    path: Path | None
    plan: PlanSettings
    queues: Mapping[str, QueueConfig]
    cohorts: Cohorts
    scenarios: Mapping[str, CapacityScenario]
    history_columns: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The history file's own column names, by ours (as the plan config's key)."""

    def queue(self, name: str) -> QueueConfig:
        """Settings of queue `name`, or the `default` queue's."""
        if name in self.queues:
            return self.queues[name]
        if "default" in self.queues:
            return self.queues["default"]
        raise ConfigError(f"{self.path or 'capacity config'}: queues: no settings for queue "
                          f"{name!r} (the history has it); configured: "
                          f"{', '.join(sorted(self.queues)) or '(none)'}")


_TOP_KEYS = ("plan", "queues", "cohorts", "scenarios", "history_columns")


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: must be a date YYYY-MM-DD, got {value!r}") from None


def parse_capacity_config(data: Any, source: str = "capacity config") -> CapacityConfig:
    """Parse an already-loaded YAML document; `source` names it in errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping with keys "
                          f"{', '.join(_TOP_KEYS)}, got {data!r}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; valid keys: "
                          f"{', '.join(_TOP_KEYS)}")
    for key in ("plan", "queues", "cohorts"):
        if not data.get(key):
            raise ConfigError(f"{source}: missing required section {key!r}")
    plan_raw = dict(data["plan"]) if isinstance(data["plan"], Mapping) else data["plan"]
    if isinstance(plan_raw, dict) and plan_raw.get("start") is not None:
        plan_raw["start"] = _date(plan_raw["start"], f"{source}: plan.start")
    plan = build(PlanSettings, plan_raw, f"{source}: plan")
    queues = parse_config({"queues": data["queues"]}, source).queues
    cohorts = build(Cohorts, data["cohorts"], f"{source}: cohorts")
    scenarios_raw = data.get("scenarios") or {}
    if not isinstance(scenarios_raw, Mapping):
        raise ConfigError(f"{source}: scenarios must be a mapping of name to knobs, "
                          f"got {scenarios_raw!r}")
    scenarios = {str(name): build(CapacityScenario, body, f"{source}: scenarios.{name}")
                 for name, body in scenarios_raw.items()}
    if "base" in scenarios:
        raise ConfigError(f"{source}: scenarios.base: 'base' is the plan itself; name the "
                          "scenario otherwise")
    for name, cohort in ((n, getattr(cohorts, n)) for n in COHORTS):
        for queue in (cohort.queues or ()) if cohort is not None else ():
            if queue not in queues:
                raise ConfigError(f"{source}: cohorts.{name}.queues: {queue!r} is not a "
                                  f"configured queue ({', '.join(sorted(queues))})")
    return CapacityConfig(path=None, plan=plan, queues=queues, cohorts=cohorts,
                          scenarios=scenarios,
                          history_columns=parse_history_columns(
                              data.get("history_columns"), f"{source}: history_columns"))


def load_capacity_config(path: str | Path) -> CapacityConfig:
    """Load and validate a capacity YAML file."""
    path = Path(path)
    config = parse_capacity_config(read_yaml(path, "capacity config"), str(path))
    return dataclasses.replace(config, path=path)


def dump_capacity_config(config: CapacityConfig, **overrides: Any) -> str:
    """The config as YAML with the plan settings this run used (`overrides`), to be written
    next to the outputs so the run can be reproduced."""
    config = with_plan(config, "capacity config", **overrides)
    document = {"plan": plain(config.plan),
                "queues": {name: queue_document(q) for name, q in config.queues.items()},
                "cohorts": plain(config.cohorts),
                "scenarios": {name: plain(s) for name, s in config.scenarios.items()}}
    if config.history_columns:
        document["history_columns"] = dict(config.history_columns)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True,
                          default_flow_style=None)


def with_plan(config: CapacityConfig, where: str, **settings: Any) -> CapacityConfig:
    """`config` with the given plan settings replaced (the plan's own checks run again;
    a broken rule is a ConfigError headed by `where`)."""
    return dataclasses.replace(config, plan=updated(config.plan, where, **settings))

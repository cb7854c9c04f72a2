"""What-if scenarios: one base plan, several sets of overrides, one shared forecast.

A scenario file (YAML) names the base plan (history, calendar and config paths, relative to
the scenario file, plus the week, forecast model and solver settings) and any number of
scenarios. Each scenario overrides the base: volume uplift, per-queue staffing settings
(handle time, concurrency, service-level target, patience, shrinkage), headcount caps per
contract, wage rates and shift-family rules. The file is parsed once into frozen
dataclasses; unknown keys are errors naming the scenario and listing the valid keys.

Overrides go through `dataclasses.replace` on the typed objects (`QueueStaffing`,
`ShiftFamily`, `ScheduleRules`), so each object's own validation runs on the new values.
The forecast is fitted once (`staffcast.pipeline.forecast_week`) and every scenario staffs
and schedules from it; a volume uplift scales the shared forecast, it never refits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.measures import plan_measures
from staffcast.scheduler.requirements import QueueStaffing
from staffcast.scheduler.rules import ShiftFamily
from staffcast.scheduler.solve import DEFAULT_SOLVER, SOLVERS
from staffcast.config import (
    Config,
    ConfigError,
    build,
    coerce,
    dump_resolved,
    plain,
    read_yaml,
    with_forecast,
)
from staffcast.errors import StaffcastError
from staffcast.parallel import Engine, Mapped
from staffcast.pipeline import (
    QUANTILE_COLUMNS,
    ScheduleRun,
    WeekForecast,
    check_some_done,
    schedule_rules,
)

BASE = "base"
FORECAST_COLUMNS = ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95")
# Metrics compared across scenarios, in the order of comparison.csv; all numeric.
METRICS = ("agents_peak", "paid_hours", "labour_cost", "sl_daily_min", "sl_worst_interval",
           "abandon_rate", "shortfall_agent_hours", "mip_gap")
# Queue keys a scenario may override besides the QueueStaffing fields: a factor on aht_s.
AHT_FACTOR = "aht_factor"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ScenarioError(ConfigError):
    """A scenario file or override breaks a rule; the message names the file, the
    scenario and the key."""


def _positive_factor(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise StaffcastError(f"{name} must be a finite number > 0, got {value!r}")


def _to_text(value: Any) -> Any:
    # YAML reads 2026-11-11 as a date; the range fields take text either way.
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else (
        value.isoformat() if isinstance(value, dt.date) else value)


@dataclass(frozen=True)
class DateUplift:
    """Volume factor over a date range: `start` and `end` are 'YYYY-MM-DD' (whole days) or
    'YYYY-MM-DD HH:MM'; `end` is inclusive (a date alone covers its whole day). `queues`
    limits it to those queues (default: all)."""

    start: str
    end: str
    factor: float
    queues: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _positive_factor("factor", self.factor)
        if self.window()[1] <= self.window()[0]:
            raise StaffcastError(f"end must not be before start, got start={self.start!r}, "
                                 f"end={self.end!r}")

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(start, exclusive end) as timestamps."""
        try:
            start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        except ValueError as exc:
            raise StaffcastError(f"start and end must be dates like '2026-11-11' or "
                                 f"'2026-11-11 20:00', got {self.start!r}, {self.end!r}") from exc
        date_only = len(self.end.strip()) <= 10
        return start, end + (pd.Timedelta(days=1) if date_only else pd.Timedelta(minutes=1))


@dataclass(frozen=True)
class VolumeUplift:
    """Multiplicative factors on the forecast (yhat and its intervals): `factor` on every
    row, `queues` per queue, `events` per calendar event name (rows inside any window of
    that event, for the event's queues), `dates` per date range. Factors that apply to the
    same row multiply."""

    factor: float = 1.0
    queues: Mapping[str, float] = field(default_factory=dict)
    events: Mapping[str, float] = field(default_factory=dict)
    dates: tuple[DateUplift, ...] = ()

    def __post_init__(self) -> None:
        _positive_factor("factor", self.factor)
        for kind in ("queues", "events"):
            for name, value in getattr(self, kind).items():
                _positive_factor(f"{kind}.{name}", value)


@dataclass(frozen=True)
class Wages:
    """Wage overrides: `factor` on every family's cost_per_hour, then `cost_per_hour` per
    family name (a new rate per paid hour, replacing the factored one)."""

    factor: float = 1.0
    cost_per_hour: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _positive_factor("factor", self.factor)
        for name, value in self.cost_per_hour.items():
            if not (math.isfinite(value) and value >= 0):
                raise StaffcastError(f"cost_per_hour.{name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Scenario:
    """One scenario's overrides of the base plan.

    volume: a factor (1.2 = +20%) or a mapping of `VolumeUplift` keys.
    queues: queue name -> {QueueStaffing field: new value, or aht_factor: factor on aht_s}.
    headcount: contract type -> cap on agents of that contract (merged into the base's).
    wages: a factor on every cost_per_hour, or a mapping of `Wages` keys.
    families: shift family name -> {ShiftFamily field: new value}.
    """

    name: str
    description: str = ""
    volume: VolumeUplift | None = None
    queues: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    headcount: Mapping[str, int] = field(default_factory=dict)
    wages: Wages | None = None
    families: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BasePlan:
    """The plan every scenario starts from; paths are relative to the scenario file.

    week: first day of the planned seven days [default: the first full week after history].
    model, volume_quantile: forecast model and staffed quantile [default: the config's].
    solver, time_limit_s, gap: MIP solver, its time limit per scenario in seconds, and the
    relative gap at which it stops.
    """

    history: Path
    config: Path
    calendar: Path | None = None
    week: dt.date | None = None
    model: str | None = None
    volume_quantile: str | None = None
    solver: str = DEFAULT_SOLVER
    time_limit_s: float = 60.0
    gap: float = 0.005

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise StaffcastError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise StaffcastError(f"time_limit_s must be > 0, got {self.time_limit_s!r}")
        if not 0 <= self.gap < 1:
            raise StaffcastError(f"gap must be in [0, 1), got {self.gap!r}")
        if self.volume_quantile is not None and self.volume_quantile not in QUANTILE_COLUMNS:
            raise StaffcastError(f"volume_quantile must be one of {', '.join(QUANTILE_COLUMNS)}, "
                                 f"got {self.volume_quantile!r}")


@dataclass(frozen=True)
class ScenarioFile:
    """A parsed scenario file: where it is, the base plan and the scenarios in file order."""

    path: Path
    base: BasePlan
    scenarios: tuple[Scenario, ...]


_TOP_KEYS = ("base", "scenarios")


def parse_scenarios(data: Any, path: Path) -> ScenarioFile:
    """Parse an already-loaded scenario YAML document; `path` names it in errors and
    anchors the base plan's relative paths."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{path}: the top level must be a mapping with keys "
                            f"{', '.join(_TOP_KEYS)}, got {data!r}")
    unknown = [k for k in data if k not in _TOP_KEYS]
    if unknown:
        raise ScenarioError(f"{path}: unknown key {unknown[0]!r}; valid keys: "
                            f"{', '.join(_TOP_KEYS)}")
    base_raw = dict(data.get("base") or {})
    if "week" in base_raw and isinstance(base_raw["week"], str):
        try:
            base_raw["week"] = dt.date.fromisoformat(base_raw["week"])
        except ValueError as exc:
            raise ScenarioError(f"{path}: base.week: must be a date YYYY-MM-DD, got "
                                f"{base_raw['week']!r}") from exc
    for key in ("history", "config", "calendar"):
        if isinstance(base_raw.get(key), str):
            base_raw[key] = (path.parent / base_raw[key]).resolve()
    base = _build(BasePlan, base_raw, f"{path}: base")
    raw = data.get("scenarios") or {}
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{path}: scenarios must be a mapping of scenario name to "
                            f"overrides, got {raw!r}")
    scenarios = [_parse_scenario(str(name), body, path) for name, body in raw.items()]
    return ScenarioFile(path=path, base=base, scenarios=tuple(scenarios))


def _build(cls: type, data: Any, where: str) -> Any:
    try:
        return build(cls, data, where)
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from exc


def _parse_scenario(name: str, body: Any, path: Path) -> Scenario:
    where = f"{path}: scenario {name!r}"
    if name == BASE:
        raise ScenarioError(f"{where}: the name {BASE!r} is reserved for the base plan")
    if not _NAME.match(name):
        raise ScenarioError(f"{where}: a scenario name becomes a folder name: use letters, "
                            "digits, '_', '.' and '-' only")
    body = dict(body or {})
    if "name" in body:
        raise ScenarioError(f"{where}: unknown key 'name' (the mapping key is the name)")
    if isinstance(body.get("volume"), (int, float)) and not isinstance(body["volume"], bool):
        body["volume"] = {"factor": body["volume"]}
    if isinstance(body.get("wages"), (int, float)) and not isinstance(body["wages"], bool):
        body["wages"] = {"factor": body["wages"]}
    if isinstance(body.get("volume"), Mapping) and isinstance(body["volume"].get("dates"), list):
        body["volume"] = {**body["volume"], "dates": [
            {k: _to_text(v) for k, v in d.items()} if isinstance(d, Mapping) else d
            for d in body["volume"]["dates"]]}
    scenario = _build(Scenario, {**body, "name": name}, where)
    queue_keys = {f.name for f in dataclasses.fields(QueueStaffing)} | {AHT_FACTOR}
    for queue, overrides in scenario.queues.items():
        _check_keys(overrides, queue_keys, f"{where}: queues.{queue}")
    family_keys = {f.name for f in dataclasses.fields(ShiftFamily)} - {"name"}
    for family, overrides in scenario.families.items():
        _check_keys(overrides, family_keys, f"{where}: families.{family}")
    return scenario


def _check_keys(overrides: Mapping[str, Any], valid: set[str], where: str) -> None:
    unknown = [k for k in overrides if k not in valid]
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r}; valid keys: "
                            f"{', '.join(sorted(valid))}")


def load_scenarios(path: str | Path) -> ScenarioFile:
    """Read and validate a scenario YAML file."""
    path = Path(path)
    return parse_scenarios(read_yaml(path, "scenario file", ScenarioError), path)


def _replace(obj: Any, overrides: Mapping[str, Any], where: str) -> Any:
    """`dataclasses.replace(obj, ...)` with each value coerced to the field's type first, so
    the object's own checks run; errors name `where` and the key."""
    hints = typing.get_type_hints(type(obj))
    values = {k: coerce(hints[k], v, f"{where}.{k}") for k, v in overrides.items()}
    try:
        return dataclasses.replace(obj, **values)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


def _scaled_aht(aht: float | Mapping[int, float], factor: float) -> float | dict[int, float]:
    if isinstance(aht, Mapping):
        return {hour: seconds * factor for hour, seconds in aht.items()}
    return aht * factor


def apply_scenario(config: Config, scenario: Scenario, where: str) -> Config:
    """The config with `scenario`'s staffing and schedule overrides applied (the volume
    uplift applies to the forecast: see `uplift_forecast`); the resolved config written
    next to the outputs is rendered from it, so it shows the scenario's values."""
    queues = dict(config.queues)
    for name, overrides in scenario.queues.items():
        at = f"{where}: queues.{name}"
        if name not in queues:
            raise ScenarioError(f"{at}: no queue {name!r} in {config.path}; queues: "
                                f"{', '.join(sorted(queues))}")
        staffing = queues[name].staffing
        if staffing is None:
            raise ScenarioError(f"{at}: queue {name!r} has no staffing settings in "
                                f"{config.path} to override")
        overrides = dict(overrides)
        factor = overrides.pop(AHT_FACTOR, None)
        if factor is not None:
            if "aht_s" in overrides:
                raise ScenarioError(f"{at}: give aht_s (a new value) or {AHT_FACTOR} (a "
                                    "factor), not both")
            factor = coerce(float, factor, f"{at}.{AHT_FACTOR}")
            if not (math.isfinite(factor) and factor > 0):
                raise ScenarioError(f"{at}.{AHT_FACTOR}: must be > 0, got {factor!r}")
            overrides["aht_s"] = _scaled_aht(staffing.aht_s, factor)
        staffing = _replace(staffing, overrides, at)
        queues[name] = dataclasses.replace(queues[name], staffing=staffing)

    rules = schedule_rules(config)
    known = {f.name: f for f in rules.families}
    for name in [*scenario.families, *(scenario.wages.cost_per_hour if scenario.wages else ())]:
        if name not in known:
            raise ScenarioError(f"{where}: no shift family {name!r} in {config.path}; "
                                f"families: {', '.join(known)}")
    families = []
    for family in rules.families:
        at = f"{where}: families.{family.name}"
        overrides = dict(scenario.families.get(family.name, {}))
        if scenario.wages is not None and "cost_per_hour" not in overrides:
            overrides["cost_per_hour"] = scenario.wages.cost_per_hour.get(
                family.name, family.cost_per_hour * scenario.wages.factor)
        families.append(_replace(family, overrides, at) if overrides else family)
    schedule_changes: dict[str, Any] = {}
    if families != list(rules.families):
        schedule_changes["families"] = tuple(families)
    if scenario.headcount:
        schedule_changes["headcount"] = {**rules.headcount, **scenario.headcount}
    if schedule_changes:
        try:
            rules = dataclasses.replace(rules, **schedule_changes)
        except (ValueError, TypeError) as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
    return dataclasses.replace(config, queues=queues, schedule=rules)


def uplift_forecast(predicted: pd.DataFrame, uplift: VolumeUplift | None, calendar: Any,
                    where: str) -> pd.DataFrame:
    """A copy of the forecast with yhat and its interval bounds multiplied by the uplift's
    factors; `calendar` (staffcast.forecasting.calendar.Calendar) supplies the event windows."""
    if uplift is None:
        return predicted
    queue = predicted["unique_id"].astype(str).to_numpy()
    ds = pd.to_datetime(predicted["ds"])
    factor = np.full(len(predicted), uplift.factor)
    for name, value in uplift.queues.items():
        if name not in set(queue):
            raise ScenarioError(f"{where}: volume.queues: no queue {name!r} in the forecast; "
                                f"queues: {', '.join(sorted(set(queue)))}")
        factor[queue == name] *= value
    events = calendar.events
    for name, value in uplift.events.items():
        rows = events[events["event"] == name]
        if rows.empty:
            names = sorted(events["event"].dropna().unique())
            raise ScenarioError(f"{where}: volume.events: no event {name!r} in the calendar; "
                                f"events: {', '.join(names[:20])}"
                                f"{' ...' if len(names) > 20 else ''}")
        inside = np.zeros(len(predicted), dtype=bool)
        for row in rows.itertuples(index=False):
            mask = (ds >= row.start) & (ds < row.end_excl)
            if not pd.isna(row.unique_id):
                mask &= queue == row.unique_id
            inside |= np.array(mask, dtype=bool)
        factor[inside] *= value
    for i, dates in enumerate(uplift.dates):
        try:
            start, end = dates.window()
        except ValueError as exc:
            raise ScenarioError(f"{where}: volume.dates[{i}]: {exc}") from exc
        mask = np.array((ds >= start) & (ds < end), dtype=bool)
        if dates.queues is not None:
            mask &= np.isin(queue, list(dates.queues))
        factor[mask] *= dates.factor
    out = predicted.copy()
    for column in FORECAST_COLUMNS:
        out[column] = out[column] * factor
    return out


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario's run: its name, the plan folder written (`ScheduleRun`: summary,
    folder, coverage; None while the plan is only in memory), its headline metrics
    (`METRICS` plus `status`) and the plan itself (`staffcast.api.Plan`)."""

    name: str
    run: ScheduleRun | None
    metrics: dict[str, Any]
    plan: Any = None


def scenario_metrics(run: Any, requirement: pd.DataFrame) -> dict[str, Any]:
    """Headline figures of a run (a `ScheduleRun` or a `staffcast.api.Plan`: its summary,
    coverage and `has_plan`).

    agents_peak: most agents at work in one interval, all queues together.
    paid_hours, labour_cost, shortfall_agent_hours, mip_gap: from the solve summary.
    sl_daily_min: the lowest daily service level (contact-weighted over queues).
    sl_worst_interval: the lowest service level of any interval with contacts.
    abandon_rate: contact-weighted Erlang A abandonment of the scheduled agents net of
        shrinkage, over the queues with patience_s (NaN when none has).
    A solve that found no plan gives NaN for all but status and mip_gap.
    """
    summary = run.summary
    out: dict[str, Any] = {m: math.nan for m in METRICS}
    out["status"] = summary["status"]
    out["mip_gap"] = math.nan if summary.get("mip_gap") is None else float(summary["mip_gap"])
    if not run.has_plan:
        return out
    cov = run.coverage
    out["agents_peak"] = float(cov.groupby("ds")["scheduled"].sum().max())
    for key in ("paid_hours", "labour_cost", "shortfall_agent_hours"):
        out[key] = float(summary[key])
    daily = summary.get("service_level_by_day") or {}
    out["sl_daily_min"] = min(daily.values()) if daily else math.nan
    with_volume = cov.merge(requirement[["unique_id", "ds", "volume"]], on=["unique_id", "ds"])
    sl = with_volume.loc[with_volume["volume"] > 0, "service_level"].dropna()
    out["sl_worst_interval"] = float(sl.min()) if len(sl) else math.nan
    out["abandon_rate"] = _abandon_rate(cov, requirement)
    return out


def _abandon_rate(coverage: pd.DataFrame, requirement: pd.DataFrame) -> float:
    if "patience_s" not in requirement.columns:
        return math.nan
    frame = requirement.merge(coverage[["unique_id", "ds", "scheduled"]],
                              on=["unique_id", "ds"])
    frame = frame[(frame["volume"] > 0) & frame["patience_s"].notna()]
    if frame.empty:
        return math.nan
    # The reading the requirement was built on: agents net of shrinkage, chat slots each.
    res = plan_measures(frame, frame["scheduled"].to_numpy(dtype=float))
    return float(np.average(res["abandon_rate"], weights=frame["volume"].to_numpy()))


def resolved_text(config: Config, scenario: Scenario | None, spec: ScenarioFile,
                  settings: Mapping[str, Any]) -> str:
    """config.resolved.yaml of one scenario: the scenario's config, headed by where it came
    from and its overrides (as YAML comments: a volume uplift is not a config key)."""
    name = BASE if scenario is None else scenario.name
    header = [f"# resolved config of whatif scenario {name!r} from {spec.path}"]
    if scenario is not None:
        overrides = {k: v for k, v in plain(scenario).items()
                     if k != "name" and v not in (None, "", {}, [])}
        header += ["# overrides:"] + [f"#   {line}" for line in yaml.safe_dump(
            overrides, sort_keys=False, allow_unicode=True).splitlines()]
    return dump_resolved(with_forecast(config, **settings), "\n".join(header) + "\n")


def scenario_plan(name: str, config: Config, scenario: Scenario | None, spec: ScenarioFile,
                  week: WeekForecast, *, agents: tuple[Agent, ...] | None, agents_source: str,
                  volume_quantile: str) -> ScenarioOutcome:
    """Staff and schedule one scenario (`scenario` None is the base) from the shared
    forecast `week`, in memory (`staffcast.api.plan_forecast`, the sequence `plan` runs).
    `config` is the scenario's config (`apply_scenario`). A queue whose requirement fails
    fails the scenario."""
    from staffcast.api import plan_forecast

    where = f"{spec.path}: scenario {name!r}"
    predicted = uplift_forecast(week.predicted, None if scenario is None else scenario.volume,
                                week.calendar, where)
    settings = {"model": week.model, "volume_quantile": volume_quantile}
    plan = plan_forecast(
        config, week, predicted=predicted, volume_quantile=volume_quantile, agents=agents,
        agents_source=agents_source, solver=spec.base.solver,
        time_limit_s=spec.base.time_limit_s, gap=spec.base.gap,
        resolved_config=resolved_text(config, scenario, spec, settings),
        summary_extra={"scenario": name},
        adjust_volume=lambda volume: scenario_handle_time(volume, scenario))
    failed = plan.problems[plan.problems["stage"] == "requirements"]
    if len(failed):
        raise StaffcastError(f"{where}: requirements failed for queue(s) "
                             + "; ".join(f"{r.unique_id}: {r.reason}"
                                         for r in failed.itertuples(index=False)))
    # The forecast's fallbacks are the whole run's, listed once beside comparison.csv.
    plan = dataclasses.replace(plan, problems=plan.problems.iloc[0:0])
    return ScenarioOutcome(name, None, scenario_metrics(plan, plan.requirements), plan)


def scenario_handle_time(volume: pd.DataFrame, scenario: Scenario | None) -> pd.DataFrame:
    """The volume frame with the scenario's handle-time overrides applied to a forecast
    `aht_s`: a new `aht_s` for a queue replaces its forecast (blank rows staff with the
    scenario's config value), an `aht_factor` scales the forecast."""
    if scenario is None or "aht_s" not in volume.columns:
        return volume
    out = volume.copy()
    queue = out["unique_id"].astype(str).to_numpy()
    for name, overrides in scenario.queues.items():
        rows = queue == name
        if "aht_s" in overrides:
            out.loc[rows, "aht_s"] = np.nan
        elif AHT_FACTOR in overrides:
            out.loc[rows, "aht_s"] = out.loc[rows, "aht_s"] * float(overrides[AHT_FACTOR])
    return out


def run_scenario(name: str, config: Config, scenario: Scenario | None, spec: ScenarioFile,
                 week: WeekForecast, out_dir: Path, *, agents: tuple[Agent, ...] | None,
                 agents_source: str, volume_quantile: str) -> ScenarioOutcome:
    """`scenario_plan`, then its plan files written into `out_dir`."""
    outcome = scenario_plan(name, config, scenario, spec, week, agents=agents,
                            agents_source=agents_source, volume_quantile=volume_quantile)
    return dataclasses.replace(outcome, run=outcome.plan.write_into(out_dir, exports=False))


def _scenario_task(run: tuple[str, Config, Scenario | None], **arguments: Any
                   ) -> ScenarioOutcome:
    name, config, scenario = run
    return scenario_plan(name, config, scenario, **arguments)


def scenario_plans(runs: list[tuple[str, Config, Scenario | None]], spec: ScenarioFile,
                   week: WeekForecast, *, agents: tuple[Agent, ...] | None,
                   agents_source: str, volume_quantile: str, engine: Engine | None = None,
                   on_done: Callable[[str], None] | None = None) -> Mapped[ScenarioOutcome]:
    """`scenario_plan` for each of `runs` (`scenario_configs`), one task per scenario on
    `engine` (inline by default); the plans come back in memory. The shared forecast,
    spec and agents go to the workers once. A failing scenario is a failure (stage
    "whatif") and the others complete; `AllQueuesFailed` if all fail."""
    mapped = (engine or Engine()).map(
        _scenario_task, runs, keys=[name for name, _, _ in runs], stage="whatif",
        shared={"spec": spec, "week": week, "agents": agents,
                "agents_source": agents_source, "volume_quantile": volume_quantile},
        on_done=on_done)
    check_some_done(len(mapped.done), mapped.failures, what="scenario")
    return mapped


def scenario_configs(spec: ScenarioFile, config: Config) -> list[tuple[str, Config,
                                                                        Scenario | None]]:
    """(name, config, scenario) for the base and every scenario, all validated before any
    solve starts so a typo in the last scenario fails in seconds, not minutes."""
    out: list[tuple[str, Config, Scenario | None]] = [(BASE, config, None)]
    for scenario in spec.scenarios:
        where = f"{spec.path}: scenario {scenario.name!r}"
        out.append((scenario.name, apply_scenario(config, scenario, where), scenario))
    return out


def comparison(outcomes: list[ScenarioOutcome]) -> pd.DataFrame:
    """Wide comparison, one row per scenario (base first): `scenario`, the `METRICS`,
    `status`, then `<metric>_diff` = scenario minus base for each metric."""
    frame = pd.DataFrame([{"scenario": o.name, **o.metrics} for o in outcomes])
    frame = frame[["scenario", *METRICS[:-1], "status", "mip_gap"]]
    base = frame.iloc[0]
    for metric in METRICS:
        frame[f"{metric}_diff"] = frame[metric] - base[metric]
    return frame


_SHOWN = (("agents_peak", "peak agents", "{:.0f}", "{:+.0f}"),
          ("paid_hours", "paid h", "{:,.0f}", "{:+,.0f}"),
          ("labour_cost", "cost", "{:,.0f}", "{:+,.0f}"),
          ("sl_daily_min", "SL day min %", "{:.1%}", "{:+.1%}"),
          ("sl_worst_interval", "SL worst %", "{:.1%}", "{:+.1%}"),
          ("abandon_rate", "abandon %", "{:.2%}", "{:+.2%}"),
          ("shortfall_agent_hours", "short h", "{:,.1f}", "{:+,.1f}"),
          ("mip_gap", "gap %", "{:.2%}", "{:+.2%}"))


def format_comparison(table: pd.DataFrame) -> str:
    """The comparison as a readable text table: each metric with its difference from the
    base in brackets (percent columns differ in percentage points)."""
    def cell(value: float, fmt: str) -> str:
        return "n/a" if pd.isna(value) else fmt.format(value).replace("%", "")

    shown = pd.DataFrame({"scenario": table["scenario"], "status": table["status"]})
    for metric, title, fmt, diff_fmt in _SHOWN:
        shown[title] = [
            cell(v, fmt) + ("" if i == 0 else f" ({cell(d, diff_fmt)})")
            for i, (v, d) in enumerate(zip(table[metric], table[f"{metric}_diff"]))]
    return shown.to_string(index=False)


"""The staffcast library: plan a week from Python, no output folder needed.

    import staffcast
    config = staffcast.load_config("configs/example.yaml")
    history = staffcast.load_history("examples/data/history.csv", config=config)
    calendar = staffcast.load_calendar("examples/data/calendar.csv", config=config)
    plan = staffcast.plan(config, history, calendar, time_limit_s=60)
    plan.write("out/python-demo")

Every function takes and returns long DataFrames (STYLE.md: `unique_id`, `ds` as naive
local interval starts, value columns with their unit in the name) and the typed config of
`load_config`; nothing is written until `Plan.write`. User mistakes raise
`staffcast.errors.StaffcastError` (or a subclass) with a one-line message naming the file,
row, column, rule and value. The `staffcast` command line is a thin shell over these
functions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from staffcast.scheduler.solve import DEFAULT_SOLVER
from staffcast.config import Config, dump_resolved, with_forecast
from staffcast.config import load_config as _load_config
from staffcast.errors import StaffcastError
from staffcast.parallel import Engine, TaskFailure, problems_frame
from staffcast.pipeline import (
    ScheduleResult,
    ScheduleRun,
    WeekForecast,
    backtest_many,
    forecast_many,
    forecast_volume,
    forecast_week,
    plan_files,
    requirements_many,
    schedule_rules,
    solve_schedule,
    staffing_settings,
    week_horizon,
    write_schedule,
)
from staffcast.simulation import Simulation, simulate

if TYPE_CHECKING:
    from staffcast.outputs import Generation

__all__ = ["Plan", "QueuesLost", "Simulation", "WhatIf", "backtest", "forecast", "load_calendar",
           "load_config", "load_history", "plan", "requirements", "schedule", "simulate",
           "whatif"]

ConfigLike = Config | str | os.PathLike[str] | None
AgentsLike = str | os.PathLike[str] | Sequence[Any] | None


class QueuesLost(StaffcastError):
    """Some queues failed (the others succeeded); the message lists each one's reason.
    Pass `strict=False` to keep the queues that succeeded."""


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a YAML config (queues, staffing targets, shift rules, forecast
    defaults) into typed frozen dataclasses; unknown keys are errors. None gives the
    defaults (no queues, no shift families)."""
    return _load_config(path)


def _config(config: ConfigLike) -> Config:
    return config if isinstance(config, Config) else _load_config(config)


def load_calendar(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
                  *, config: ConfigLike = None, country: str | None = None) -> Any:
    """The event calendar (`staffcast.forecasting.calendar.Calendar`): the events of `path` (CSV or
    YAML: `event, start, end, kind` + optional `unique_id`; one file or several) merged
    with the built-in public holidays and adjusted workdays of `country` (a `holidays`
    code or 'none'; default: the config's forecast.country, CN without a config)."""
    from staffcast.forecasting.calendar import load_calendar as _load

    if country is None:
        country = _config(config).forecast.country
    return _load(path, country=country)


def load_history(path: str | os.PathLike[str], *, config: ConfigLike = None,
                 calendar: Any = None, fill_missing: str | None = None, events: bool = False,
                 timestamp_col: str = "ds", queue_col: str | None = None,
                 interval_minutes: int | None = None, timezone: str | None = None,
                 allow_outliers: bool = False) -> pd.DataFrame:
    """The history frame `unique_id, ds, y` (contacts per interval; + any `aht_s` etc.)
    from a CSV or Parquet file, or from a raw contact log (one row per contact) with
    `events=True` (`timestamp_col` arrival time, `queue_col` queue).

    The config's opening hours and the calendar's closures (`calendar`, default: the
    config's country calendar) mark closed hours; missing open intervals are an error, or
    zero with `fill_missing='zero'` (default: the config's forecast.fill_missing).
    `interval_minutes` (the file's interval, or a contact log's buckets) and `timezone`
    (offset-aware times converted to its wall clock) default to the config's. A history
    file's columns may carry a vendor's names (the config's `history_columns`). A value
    more than 1000x its queue's 99th percentile is refused unless `allow_outliers`.
    """
    from staffcast.forecasting.data import load_events
    from staffcast.forecasting.data import load_history as _load
    from staffcast.forecasting.sanity import check_outliers

    config = _config(config)
    calendar = load_calendar(config=config) if calendar is None else calendar
    interval_minutes = interval_minutes or config.forecast.interval_minutes
    opening_hours = {name: q.opening_hours for name, q in config.queues.items()
                     if q.opening_hours is not None}
    kwargs = dict(opening_hours=opening_hours,
                  fill_missing=fill_missing or config.forecast.fill_missing,
                  closed_dates=calendar.closed_hours, timezone=timezone or config.timezone)
    if events:
        history = load_events(path, timestamp_col=timestamp_col, queue_col=queue_col,
                              interval_minutes=interval_minutes or 60, **kwargs)
    else:
        # The two-week minimum is not applied here: a queue too short to forecast fails on
        # its own in the forecast stage and the other queues go on.
        history = _load(path, min_hours=1, interval_minutes=interval_minutes,
                        columns=config.history_columns, **kwargs)
    if not allow_outliers:
        check_outliers(history, str(path))
    return history


def calendar_for(calendar: Any, history: pd.DataFrame, horizon_h: int) -> Any:
    """`calendar` with the built-in country data of every year from the history's start to
    `horizon_h` hours after its end (a year the built-in data lacks is a
    `CalendarCoverageWarning`)."""
    last = history["ds"].max() + pd.Timedelta(hours=horizon_h)
    # Years already merged are not merged (nor warned about) again.
    years = [y for y in range(history["ds"].min().year, last.year + 1)
             if y not in calendar.builtin_years]
    return calendar.with_years(years) if years else calendar


def _check_lost(failures: Sequence[TaskFailure], strict: bool) -> None:
    if not failures:
        return
    reasons = "; ".join(f"{f.key}: {f.reason}" for f in failures[:5])
    if strict:
        raise QueuesLost(f"{len(failures)} queue(s) failed: {reasons}")
    warnings.warn(f"{len(failures)} queue(s) failed and are left out: {reasons}",
                  stacklevel=3)


def forecast(history: pd.DataFrame, *, config: ConfigLike = None, horizon: int | None = None,
             model: str | None = None, calendar: Any = None, engine: Engine | None = None,
             strict: bool = True) -> pd.DataFrame:
    """Forecast `horizon` hours (default: the config's forecast.horizon) after each
    queue's history with `model` (default: the config's forecast.model): the forecast frame
    `unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95` in
    contacts per hour. A queue whose model fails falls back to snaive (its `model` column
    says so); a queue that cannot be forecast at all raises `QueuesLost`, or with
    `strict=False` is left out with a warning. `engine` runs queues in parallel."""
    config = _config(config)
    horizon = config.forecast.horizon if horizon is None else horizon
    model = model or config.forecast.model
    if calendar is None:
        calendar = load_calendar(config=config)
    calendar = calendar_for(calendar, history, horizon)
    many = forecast_many(history, horizon=horizon, models=[model], calendar=calendar,
                         queue_settings=config.queue, engine=engine, timezone=config.timezone,
                         params=config.forecast.models)
    _check_lost(many.failures, strict)
    return many.predicted


def backtest(history: pd.DataFrame, *, models: Sequence[str] = ("snaive", "auto"),
             config: ConfigLike = None, horizon: int | None = None, windows: int = 8,
             step: int | None = None, calendar: Any = None, engine: Engine | None = None,
             strict: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest of `models`: (forecasts with `cutoff` and `y`, metrics
    `unique_id, model, metric, value`: MASE, WAPE, bias, 80% coverage, fit seconds).
    `windows` origins `step` hours apart (default: `horizon`), each forecasting `horizon`
    hours (default: the config's forecast.horizon)."""
    config = _config(config)
    horizon = config.forecast.horizon if horizon is None else horizon
    if calendar is None:
        calendar = load_calendar(config=config)
    calendar = calendar_for(calendar, history, 0)
    forecasts, metrics, failures = backtest_many(
        history, models=models, horizon=horizon, windows=windows, step=step,
        calendar=calendar, queue_settings=config.queue, engine=engine,
        params=config.forecast.models)
    _check_lost(failures, strict)
    return forecasts, metrics


def requirements(forecast: pd.DataFrame, config: ConfigLike, *,
                 volume_quantile: str | None = None, model: str | None = None,
                 engine: Engine | None = None) -> pd.DataFrame:
    """Agents required per queue and interval (the requirement frame: `volume` contacts,
    `aht_s`, `erlangs`, `agents_required` at work after shrinkage, the expected
    `service_level` share, `asa_s` seconds, `occupancy`, + `abandon_rate` with Erlang A,
    and the targets echoed). The forecast column staffed is `volume_quantile` ('mean',
    '80' or '95'; default: the config's forecast.volume_quantile); `model` picks one when
    the forecast holds several. Any queue that fails raises `QueuesLost`."""
    config = _config(config)
    rules = schedule_rules(config)
    volume = forecast_volume(forecast, volume_quantile or config.forecast.volume_quantile,
                             model)
    staffing, hours = staffing_settings(config, sorted(volume["unique_id"].unique()))
    requirement, failures = requirements_many(volume, staffing,
                                              interval_minutes=rules.interval_minutes,
                                              opening_hours=hours, engine=engine)
    _check_lost(failures, True)
    return requirement


def _agents(agents: AgentsLike, config: Config) -> tuple[tuple[Any, ...] | None, str]:
    """(agents, where they came from) from a path, a sequence of `staffcast.scheduler.agents.Agent`,
    or None (the config's agents file, else placeholder ids)."""
    from staffcast.scheduler.agents import load_agents

    if agents is None:
        agents = config.agents
        if agents is None:
            return None, "None"
    if isinstance(agents, (str, os.PathLike)):
        contracts = {f.contract for f in schedule_rules(config).families}
        return load_agents(agents, contracts=contracts), str(agents)
    return tuple(agents), "(given)"


def _resolved(config: Config, settings: Mapping[str, Any], header: str) -> str:
    return dump_resolved(with_forecast(config, **settings), header)


@dataclass(frozen=True)
class Plan:
    """A planned week (or a scheduled requirement), held in memory.

    forecast: the forecast staffed (STYLE.md forecast frame, contacts per hour; None for
        `schedule`). requirements: the requirement frame (agents per interval).
    roster: the named roster (`agent_id, date, shift_start, shift_end, break_start,
        break_end, lunch_start, lunch_end, paid_hours, queue`; placeholder agent ids are
        tour ids), activities: `agent_id, start, end, activity` (WORK / BREAK / LUNCH /
        OFF); both None when the solve found no plan.
    coverage: `unique_id, ds, required, scheduled, shortfall, service_level` of the roster
        as written (agents; service level as a share). unassigned: tours no agent took.
    summary: what summary.json holds (status, objective, mip_gap, paid_hours, labour_cost,
        shortfall_agent_hours, service_level_by_day, ...).
    problems: queues that fell back to another model or failed (`stage, unique_id, ...`).
    resolved_config: the config.resolved.yaml text. week: the forecast stage (history,
        calendar, first hour of the week; None for `schedule`).
    """

    config: Config
    forecast: pd.DataFrame | None
    requirements: pd.DataFrame
    roster: pd.DataFrame | None
    activities: pd.DataFrame | None
    coverage: pd.DataFrame
    unassigned: pd.DataFrame
    summary: dict[str, Any]
    problems: pd.DataFrame
    resolved_config: str
    week: WeekForecast | None = None
    named: bool = False

    @property
    def has_plan(self) -> bool:
        """True when the solve found a plan (status optimal or feasible)."""
        return self.summary["status"] in ("optimal", "feasible")

    @property
    def status(self) -> str:
        """The solve status: optimal, feasible, infeasible or error."""
        return self.summary["status"]

    def schedule_run(self, out_dir: str | os.PathLike[str]) -> ScheduleRun:
        """The plan as the `ScheduleRun` of a folder `out_dir` it was written to."""
        return ScheduleRun(self.summary, self.unassigned, Path(out_dir), self.coverage)

    def write_into(self, folder: str | os.PathLike[str], *, exports: bool = True,
                   simulation: Simulation | None = None) -> ScheduleRun:
        """Write the plan's files into `folder` as they are, each atomically, without a
        manifest (see `write` for a whole folder): forecast.csv, requirements.csv,
        history.csv and calendar.csv (the four weeks before and the events around the
        week), roster.csv, activities.csv, coverage.csv, summary.json,
        config.resolved.yaml, unassigned_tours.csv (real agents only), failures.csv (when
        a queue failed), the exports (roster.xlsx, agents/<id>.ics, wfm_import.csv) with
        `exports`, and `simulation`'s files."""
        from staffcast.scheduler.export import atomic_write_csv
        from staffcast.exports import write_exports

        folder = Path(folder)
        if len(self.problems):
            atomic_write_csv(self.problems, folder / "failures.csv")
        if self.week is not None:
            extra = plan_files(self.week, self.forecast, self.requirements,
                               self.resolved_config)
        else:
            extra = {"config.resolved.yaml": self.resolved_config}
        result = ScheduleResult(self.summary, self.roster, self.activities, self.coverage,
                                self.unassigned, self.named)
        run = write_schedule(result, folder, extra)
        if self.has_plan and exports:
            write_exports(folder, roster=self.roster, coverage=self.coverage,
                          requirement=self.requirements,
                          interval_minutes=self.config.schedule.interval_minutes,
                          first_day=pd.to_datetime(self.requirements["ds"]).min().normalize())
        if simulation is not None:
            simulation.write(folder)
        return run

    def write(self, folder: str | os.PathLike[str] | Generation, *, exports: bool = True,
              simulation: Simulation | None = None, command: str = "") -> Path:
        """Write the plan as one generation: `write_into` a staged sibling folder, add
        manifest.json (run id, `command`, SHA-256 of every file) and swap it in place of
        `folder` whole (`staffcast.outputs.Generation`; `folder` may be one already
        made); a failure leaves the old folder as it was. Returns the folder."""
        from staffcast.outputs import Generation

        generation = (folder if isinstance(folder, Generation)
                      else Generation(folder, command=command))
        with generation:
            if simulation is not None:
                simulation = dataclasses.replace(
                    simulation, settings={**simulation.settings,
                                          "plan": str(generation.target)})
            self.write_into(generation.path, exports=exports, simulation=simulation)
            extra = {"status": self.status}
            if self.week is not None:
                extra = {"week_start": f"{self.week.start:%Y-%m-%d}", **extra}
            generation.commit(extra)
        return generation.target


def plan_forecast(config: Config, week: WeekForecast, *, predicted: pd.DataFrame | None = None,
                  volume_quantile: str, agents: tuple[Any, ...] | None, agents_source: str,
                  solver: str, time_limit_s: float, gap: float, resolved_config: str,
                  engine: Engine | None = None, summary_extra: Mapping[str, Any] | None = None,
                  on_solve: Callable[[pd.DataFrame], None] | None = None,
                  adjust_volume: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Plan:
    """Staff and schedule a forecast week: the one sequence `plan` and every what-if
    scenario run. `predicted` is the forecast to staff (default: `week.predicted`; a
    scenario passes its uplifted copy), `adjust_volume` a change to the volume frame
    before staffing (a scenario's handle-time overrides). Queues whose requirement fails
    are listed in the plan's `problems` and the others are planned.
    `on_solve(requirement)` is called before the (slow) solve."""
    predicted = week.predicted if predicted is None else predicted
    rules = schedule_rules(config)
    volume = forecast_volume(predicted, volume_quantile)
    if adjust_volume is not None:
        volume = adjust_volume(volume)
    staffing, hours = staffing_settings(config, sorted(volume["unique_id"].unique()))
    requirement, failures = requirements_many(volume, staffing,
                                              interval_minutes=rules.interval_minutes,
                                              opening_hours=hours, engine=engine)
    problems = pd.concat([week.problems, problems_frame(failures=failures)],
                         ignore_index=True)
    if on_solve is not None:
        on_solve(requirement)
    result = solve_schedule(
        requirement, rules, agents=agents, agents_source=agents_source, solver=solver,
        time_limit_s=time_limit_s, gap=gap,
        summary_extra={"week_start": f"{week.start:%Y-%m-%d}", "forecast_model": week.model,
                       "volume_quantile": volume_quantile, **dict(summary_extra or {})})
    return Plan(config=config, forecast=predicted, requirements=requirement,
                roster=result.roster, activities=result.activities, coverage=result.coverage,
                unassigned=result.unassigned, summary=result.summary, problems=problems,
                resolved_config=resolved_config, week=week, named=result.named)


def plan(config: ConfigLike, history: pd.DataFrame, calendar: Any = None, *,
         week: dt.date | str | None = None, model: str | None = None,
         volume_quantile: str | None = None, agents: AgentsLike = None,
         solver: str = DEFAULT_SOLVER, time_limit_s: float = 60.0, gap: float = 0.005,
         engine: Engine | None = None,
         on_start: Callable[[pd.Timestamp, int], None] | None = None,
         on_done: Callable[[str], None] | None = None,
         on_solve: Callable[[pd.DataFrame], None] | None = None) -> Plan:
    """Forecast, staff and schedule one week: history in, named roster out, in memory.

    week: first day of the seven days (default: the first full Monday-to-Sunday week
    after the history ends). model, volume_quantile: default the config's forecast
    section. agents: an agents CSV path or `staffcast.scheduler.agents.Agent`s (default: the
    config's `agents`, else tour ids stand in as agent ids). solver: highs or cbc;
    time_limit_s: seconds; gap: relative MIP gap at which the solve stops. engine: run
    queues in parallel (`staffcast.parallel.open_engine`). on_start(start, horizon_h),
    on_done(queue) and on_solve(requirement) report progress. Same plan as
    `staffcast plan` for the same inputs.
    """
    from staffcast.forecasting.core import check_models

    config = _config(config)
    schedule_rules(config)
    model = model or config.forecast.model
    volume_quantile = volume_quantile or config.forecast.volume_quantile
    check_models([model])
    agent_list, source = _agents(agents, config)
    week_day = dt.date.fromisoformat(week) if isinstance(week, str) else week
    if calendar is None:
        calendar = load_calendar(config=config)
    calendar = calendar_for(calendar, history, week_horizon(week_day)(history))
    week_forecast = forecast_week(config, history, calendar, week=week_day, model=model,
                                  on_start=on_start, engine=engine, on_done=on_done)
    settings = {"model": model, "volume_quantile": volume_quantile}
    return plan_forecast(config, week_forecast, volume_quantile=volume_quantile,
                         agents=agent_list, agents_source=source, solver=solver,
                         time_limit_s=time_limit_s, gap=gap, engine=engine,
                         resolved_config=_resolved(config, settings,
                                                   "# resolved config of: staffcast.plan()\n"),
                         on_solve=on_solve)


def schedule(requirements: pd.DataFrame, config: ConfigLike, *, agents: AgentsLike = None,
             previous_roster: pd.DataFrame | None = None, solver: str = DEFAULT_SOLVER,
             time_limit_s: float = 60.0, gap: float = 0.005) -> Plan:
    """Least-cost shifts, breaks and days off for a requirement (`unique_id, ds, ...,
    agents_required` agents at work per interval), assigned to `agents` (path or
    `Agent`s; default: the config's, else tour ids): a `Plan` without forecast.
    `previous_roster` (a roster frame of the weeks before) counts for rest, consecutive
    days and weekend fairness."""
    config = _config(config)
    rules = schedule_rules(config)
    agent_list, source = _agents(agents, config)
    if previous_roster is not None and agent_list is None:
        raise StaffcastError("previous_roster needs agents (placeholder ids have no past)")
    result = solve_schedule(requirements, rules, agents=agent_list, agents_source=source,
                            history=previous_roster, solver=solver,
                            time_limit_s=time_limit_s, gap=gap)
    return Plan(config=config, forecast=None, requirements=requirements,
                roster=result.roster, activities=result.activities, coverage=result.coverage,
                unassigned=result.unassigned, summary=result.summary,
                problems=problems_frame((), ()), resolved_config=dump_resolved(config),
                named=result.named)


@dataclass(frozen=True)
class WhatIf:
    """A what-if run: `plans` {scenario name: Plan} (base first), the side-by-side
    `comparison` (one row per scenario, each metric and its difference from the base) and
    the `problems` (queues or scenarios that failed)."""

    plans: Mapping[str, Plan]
    comparison: pd.DataFrame
    problems: pd.DataFrame
    week: WeekForecast


def whatif(scenarios: str | os.PathLike[str], *, engine: Engine | None = None,
           on_done: Callable[[str], None] | None = None) -> WhatIf:
    """Plan the base week and every scenario of a scenario YAML from ONE forecast
    (docs/whatif.md), in memory; `WhatIf.plans[name].write(folder)` writes one."""
    from staffcast.scenarios import (
        comparison,
        load_scenarios,
        scenario_configs,
        scenario_plans,
    )

    spec = load_scenarios(scenarios)
    base = spec.base
    config = _load_config(base.config)
    model = base.model or config.forecast.model
    quantile = base.volume_quantile or config.forecast.volume_quantile
    runs = scenario_configs(spec, config)
    agent_list, source = _agents(None, config)
    history = load_history(base.history, config=config)
    calendar = load_calendar(base.calendar, config=config)
    calendar = calendar_for(calendar, history, week_horizon(base.week)(history))
    week = forecast_week(config, history, calendar, week=base.week, model=model,
                         engine=engine)
    mapped = scenario_plans(runs, spec, week, agents=agent_list, agents_source=source,
                            volume_quantile=quantile, engine=engine, on_done=on_done)
    problems = pd.concat([week.problems, problems_frame(failures=mapped.failures)],
                         ignore_index=True)
    outcomes = mapped.values
    return WhatIf({o.name: o.plan for o in outcomes}, comparison(outcomes), problems, week)

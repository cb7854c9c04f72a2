"""The pipeline that wires forecasting to scheduling.

history + calendar -> forecast -> volume (`unique_id, ds, volume`) -> requirement ->
shift plan -> named roster -> files. `forecast/` and `scheduler/` never meet except here:
this module picks the forecast column to staff for and hands the scheduler a volume frame.
The step commands (`forecast`, `requirements`, `schedule`) and `plan` share these functions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffcast.scheduler.agents import Agent, assign_agents, placeholder_assignment
from staffcast.scheduler.export import write_schedule_outputs
from staffcast.scheduler.labour import cap_agents, preset, roster_compliance
from staffcast.scheduler.model import build_model
from staffcast.scheduler.requirements import (
    REQUIREMENT_COLUMNS,
    TARGET_COLUMNS,
    QueueStaffing,
    compute_requirements,
)
from staffcast.scheduler.plan import gap_to_bound, written_plan
from staffcast.scheduler.pooling import agent_skill_set, skill_label
from staffcast.scheduler.roster import activities_frame, roster_frame
from staffcast.scheduler.rules import ScheduleRules
from staffcast.scheduler.solve import judge_written, solve
from staffcast.config import Config, ConfigError, WeeklyHours
from staffcast.errors import StaffcastError
from staffcast.parallel import Engine, TaskFailure, problems_frame

QUANTILE_COLUMNS = {"mean": "yhat", "80": "yhat_hi_80", "95": "yhat_hi_95"}
_HOUR = pd.Timedelta(hours=1)


def forecast_volume(forecast: pd.DataFrame, volume_quantile: str = "mean",
                    model: str | None = None, source: str = "the forecast") -> pd.DataFrame:
    """The volume frame `unique_id, ds, volume` (contacts per forecast row) to staff for,
    plus the forecast's `aht_s` (seconds) when it has one.

    `volume_quantile` picks the forecast column: 'mean' -> yhat, '80' -> yhat_hi_80 (the
    upper end of the 80% interval, a risk-aware plan), '95' -> yhat_hi_95. With several
    models in the frame, `model` picks one. Negative values are staffed as zero contacts.
    `source` names the forecast in errors.
    """
    if volume_quantile not in QUANTILE_COLUMNS:
        raise StaffcastError(f"volume_quantile must be one of {', '.join(QUANTILE_COLUMNS)}, "
                             f"got {volume_quantile!r}")
    models = sorted(forecast["model"].unique())
    if model is None and len(models) > 1:
        # One model per queue (a queue that fell back to snaive) is a single forecast.
        per_queue = forecast.groupby("unique_id", observed=True)["model"].nunique()
        if (per_queue > 1).any():
            raise StaffcastError(f"{source} holds several models ({', '.join(models)}) for "
                                 f"queue(s) {reprlib.repr(sorted(per_queue[per_queue > 1].index))}"
                                 "; pick one with --model")
    if model is not None:
        if model not in models:
            raise StaffcastError(f"{source} has no rows for model {model!r}; models: "
                                 f"{', '.join(models)}")
        forecast = forecast[forecast["model"] == model]
    out = pd.DataFrame({
        "unique_id": forecast["unique_id"].astype("string").to_numpy(),
        "ds": pd.to_datetime(forecast["ds"]).to_numpy(),
        "volume": forecast[QUANTILE_COLUMNS[volume_quantile]].clip(lower=0.0)
        .astype(float).to_numpy(),
    })
    if "aht_s" in forecast.columns:
        out["aht_s"] = pd.to_numeric(forecast["aht_s"], errors="coerce").to_numpy(dtype=float)
    return out


def volume_on_grid(volume: pd.DataFrame, interval_minutes: int) -> pd.DataFrame:
    """The volume frame on the staffing grid: rows finer than `interval_minutes` (a 15-minute
    forecast and a 30-minute schedule) are summed into it, `aht_s` weighted by volume; rows
    as long or longer are left for `compute_requirements` (which splits longer rows)."""
    ds = pd.to_datetime(volume["ds"])
    gaps = ds.groupby(volume["unique_id"].astype("string").to_numpy()).diff().dropna()
    step = gaps.min() if len(gaps) else pd.Timedelta(hours=1)
    target = pd.Timedelta(minutes=interval_minutes)
    if step >= target:
        return volume
    if target % step:
        raise ValueError(f"the forecast is at {step.total_seconds() / 60:g}-minute intervals, "
                         f"which do not add up to the schedule's {interval_minutes} minutes")
    frame = volume.assign(ds=ds.dt.floor(target))
    agg = {"volume": ("volume", "sum")}
    if "aht_s" in frame.columns:
        known = frame["aht_s"].notna() & (frame["volume"] > 0)
        frame = frame.assign(_work=(frame["aht_s"] * frame["volume"]).where(known, 0.0),
                             _vol=frame["volume"].where(known, 0.0))
        agg.update(_work=("_work", "sum"), _vol=("_vol", "sum"), _aht=("aht_s", "mean"))
    out = frame.groupby(["unique_id", "ds"], sort=True, observed=True).agg(**agg).reset_index()
    if "aht_s" in frame.columns:
        weighted = out["_work"] / out["_vol"].where(out["_vol"] > 0)
        out["aht_s"] = weighted.fillna(out["_aht"])
        out = out.drop(columns=["_work", "_vol", "_aht"])
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def staffing_settings(config: Config, names: list[str]
                      ) -> tuple[dict[str, QueueStaffing], dict[str, WeeklyHours | None]]:
    """(staffing settings per queue, opening hours per queue) for the queues `names`.

    Every configured queue is included, so an unknown queue's error lists them all; a queue
    missing from the config takes the `default` queue's settings when there is one.
    """
    queues = {n: q.staffing for n, q in config.queues.items() if q.staffing is not None}
    queues.update({n: config.queue(n).staffing for n in names
                   if n not in queues and config.queue(n).staffing is not None})
    hours = {n: config.queue(n).opening_hours for n in names}
    return queues, hours


def schedule_rules(config: Config) -> ScheduleRules:
    """The config's shift rules; a config without shift families cannot schedule."""
    if not config.schedule.families:
        raise ConfigError(f"{config.path or 'config'}: schedule: needs at least one shift "
                          "family under 'families'")
    return config.schedule


def with_multi_skill(config: Config, multi_skill: bool | None) -> Config:
    """`config` with `schedule.multi_skill` set from the command line (None: as configured),
    so config.resolved.yaml records what was run."""
    if multi_skill is None or multi_skill == config.schedule.multi_skill:
        return config
    return dataclasses.replace(config, schedule=dataclasses.replace(config.schedule,
                                                                    multi_skill=multi_skill))


@dataclass(frozen=True)
class ScheduleRun:
    """What `run_schedule` solved and wrote: the summary (as in summary.json), the
    tours no agent could take, the output folder, and the written roster's coverage (as in
    coverage.csv; no rows when the solve found no plan)."""

    summary: dict[str, Any]
    unassigned: pd.DataFrame
    out_dir: Path
    coverage: pd.DataFrame

    @property
    def has_plan(self) -> bool:
        return self.summary["status"] in ("optimal", "feasible")


@dataclass(frozen=True)
class ScheduleResult:
    """What `solve_schedule` found, in memory: the summary (as summary.json holds it), the
    named roster (`staffcast.scheduler.roster` roster frame: times as naive local timestamps, hours
    in `paid_hours`), its activities, the written roster's coverage (agents per interval,
    service level as a share), and the tours no agent could take. Without a plan (status
    infeasible or error) `roster` and `activities` are None and `coverage` has no rows.
    `named` says whether real agents were assigned (then unassigned_tours.csv is written).
    """

    summary: dict[str, Any]
    roster: pd.DataFrame | None
    activities: pd.DataFrame | None
    coverage: pd.DataFrame
    unassigned: pd.DataFrame
    named: bool = False

    @property
    def has_plan(self) -> bool:
        return self.summary["status"] in ("optimal", "feasible")

    def files(self) -> dict[str, str]:
        """Text files of the result besides the four schedule outputs (unassigned_tours.csv
        when real agents were assigned; labour_compliance.csv under a labour-rule preset)."""
        out = {"unassigned_tours.csv": self.unassigned.to_csv(index=False)} if (
            self.named and self.has_plan) else {}
        if self.has_plan and self.summary.get("labour_rules") and len(self.roster):
            compliance = roster_compliance(self.roster, preset(self.summary["labour_rules"]))
            out["labour_compliance.csv"] = compliance.to_csv(
                index=False, date_format="%Y-%m-%d")
        return out


def solve_schedule(requirement: pd.DataFrame, rules: ScheduleRules, *,
                   agents: tuple[Agent, ...] | None = None, agents_source: str = "",
                   history: pd.DataFrame | None = None, solver: str, time_limit_s: float,
                   gap: float, summary_extra: Mapping[str, Any] | None = None
                   ) -> ScheduleResult:
    """Solve the shift plan for `requirement` (agents at work per interval) and assign it
    to `agents` (or placeholder ids: the tour ids); nothing is written.

    The summary's objective, mip_gap, paid_hours, labour_cost, shortfall_agent_hours and
    service_level_by_day describe the named roster: a tour no agent takes is short, not
    worked (see `staffcast.scheduler.plan.written_plan`). The shift plan's own figures stay as
    `plan_objective` and `plan_shortfall_agent_hours`. `time_limit_s` is in seconds, `gap`
    a relative MIP gap (0.005 = 0.5%).
    """
    labour = preset(rules.labour_rules) if rules.labour_rules else None
    if labour is not None and agents is not None:
        # Nobody may be planned or assigned past the preset's weekly hours.
        agents = cap_agents(agents, labour)
    # With agents the plan holds only tours they could work (skills, contracts, dates,
    # weekly hours); with multi_skill the tours belong to their skill sets.
    model = build_model(requirement, rules, agents=agents)
    result = solve(model, solver=solver, time_limit_s=time_limit_s, gap=gap)
    summary = {**result.summary(), **(summary_extra or {})}
    if rules.multi_skill:
        summary["skill_sets"] = list(model.pools)
    if not result.has_plan:
        return ScheduleResult(summary, None, None, result.coverage, pd.DataFrame(),
                              agents is not None)

    origin = requirement["ds"].min().normalize()
    if agents is None:
        assignment = placeholder_assignment(result.tours)
        source = "none given: tour ids stand in as agent ids"
    else:
        assignment = assign_agents(result.tours, agents, min_rest_hours=rules.min_rest_hours,
                                   max_consecutive_days=rules.max_consecutive_days,
                                   history=history, week_start=origin.date())
        source = agents_source
    if rules.multi_skill:
        assignment = _label_skill_sets(assignment, agents, model.queues)
    roster = roster_frame(assignment.roster)
    days = pd.date_range(origin, requirement["ds"].max().normalize(), freq="D")
    activities = activities_frame(roster, days, idle_agents=assignment.idle_agents)
    unassigned = assignment.unassigned_tours
    written = written_plan(model, assignment.roster)
    summary.update(
        objective=written.objective, mip_gap=gap_to_bound(written.objective, result.best_bound),
        paid_hours=written.paid_hours, labour_cost=round(written.labour_cost, 4),
        shortfall_agent_hours=round(written.shortfall_agent_hours, 4),
        service_level_by_day=written.service_level_by_day,
        plan_objective=result.objective,
        plan_shortfall_agent_hours=round(result.shortfall_agent_hours, 4),
        assignment_status=assignment.status, agents_source=source,
        agents_used=int(roster["agent_id"].nunique()), agents_idle=len(assignment.idle_agents),
        unassigned_tours=len(unassigned),
        unassigned_paid_hours=float(unassigned["paid_hours"].sum()) if len(unassigned) else 0.0)
    if len(unassigned):
        summary["message"] = (f"{summary['message']}; the named roster, without the "
                              f"{len(unassigned)} tour(s) nobody could take: objective "
                              f"{written.objective:.6g}, {written.shortfall_agent_hours:g} "
                              "agent-hours short")
    # Judged again on the named roster: unassigned tours can make a good plan a poor roster.
    summary["status"], summary["quality"], summary["message"] = judge_written(
        summary["status"], summary["message"], summary["mip_gap"], gap, result.proven)
    if agents is not None:
        # Kept for readers of earlier summaries: the same figure as shortfall_agent_hours.
        summary["roster_shortfall_agent_hours"] = summary["shortfall_agent_hours"]
    if labour is not None and len(roster):
        compliance = roster_compliance(roster, labour)
        broken = compliance[compliance["violations"] != ""]
        summary.update(
            labour_rules=labour.name,
            overtime_hours=round(float(compliance[["overtime_work", "overtime_rest",
                                                   "overtime_holiday"]].to_numpy().sum()), 4),
            overtime_pay_hours=round(float(compliance["overtime_pay_hours"].sum()), 4),
            labour_violations=[f"{r.agent_id}: {r.violations}"
                               for r in broken.head(20).itertuples(index=False)])
        if len(broken):
            summary["message"] = (f"{summary['message']}; {len(broken)} agent-period(s) break "
                                  f"{labour.name} (see labour_compliance.csv)")
    return ScheduleResult(summary, roster, activities, written.coverage, unassigned,
                          agents is not None)


def write_schedule(result: ScheduleResult, out_dir: Path,
                   extra_files: Mapping[str, str] | None = None) -> ScheduleRun:
    """Write `result` as roster.csv, activities.csv, coverage.csv, summary.json (only the
    summary when there is no plan), unassigned_tours.csv and `extra_files` atomically
    into `out_dir`."""
    extra = {**dict(extra_files or {}), **result.files()}
    if result.has_plan:
        write_schedule_outputs(out_dir, roster=result.roster, activities=result.activities,
                               coverage=result.coverage, summary=result.summary,
                               extra_files=extra)
    else:
        write_schedule_outputs(out_dir, summary=result.summary, extra_files=extra)
    return ScheduleRun(result.summary, result.unassigned, out_dir, result.coverage)


def run_schedule(requirement: pd.DataFrame, rules: ScheduleRules, out_dir: Path, *,
                 agents: tuple[Agent, ...] | None = None, agents_source: str = "",
                 history: pd.DataFrame | None = None, solver: str, time_limit_s: float,
                 gap: float, extra_files: Mapping[str, str] | None = None,
                 summary_extra: Mapping[str, Any] | None = None) -> ScheduleRun:
    """`solve_schedule`, then `write_schedule` into `out_dir` with `extra_files`."""
    result = solve_schedule(requirement, rules, agents=agents, agents_source=agents_source,
                            history=history, solver=solver, time_limit_s=time_limit_s,
                            gap=gap, summary_extra=summary_extra)
    return write_schedule(result, out_dir, extra_files)


def _label_skill_sets(assignment, agents: tuple[Agent, ...], queues: list[str]):
    """The roster of a multi-skill plan with `queue` = each agent's own skill set over the
    planned queues (sorted, ';'-joined): the agent may have more skills than the tour's set,
    and coverage counts every queue the agent at work can serve."""
    own = {a.agent_id: skill_label(agent_skill_set(a.queues, queues)) for a in agents}
    roster = assignment.roster.copy()
    roster["queue"] = roster["agent_id"].astype(str).map(own).fillna(roster["queue"])
    return dataclasses.replace(assignment, roster=roster)


def plan_week(history_end: pd.Timestamp, week: dt.date | None,
              step: pd.Timedelta = _HOUR) -> tuple[pd.Timestamp, int]:
    """(first hour of the planned week, forecast horizon in whole hours reaching its end).

    Without `week`, the plan covers the first full Monday-to-Sunday week after the last
    history interval `history_end` (intervals of length `step`); with it, the seven days
    from `week` on.
    """
    after = history_end + step
    if week is None:
        start = after.normalize() + pd.Timedelta(days=(7 - after.weekday()) % 7)
        if start < after:
            start += pd.Timedelta(days=7)
    else:
        start = pd.Timestamp(week)
        if start < after:
            raise StaffcastError(f"--week {week}: the plan must start after the history ends "
                                 f"(last hour {history_end:%Y-%m-%d %H:%M})")
    end = start + pd.Timedelta(days=7)
    return start, int(np.ceil((end - after) / _HOUR))


@dataclass(frozen=True)
class WeekForecast:
    """The forecast stage of a plan: the inputs it read and the forecast of the week.

    `history` is the loaded history, `calendar` the merged calendar (staffcast.forecasting.calendar
    Calendar), `start` the first hour of the planned week, `predicted` the forecast rows of
    that week (STYLE.md forecast frame), `model` the forecast model requested, and
    `problems` the queues that fell back to another model or failed (`PROBLEM_COLUMNS`).
    """

    history: pd.DataFrame
    calendar: Any
    start: pd.Timestamp
    predicted: pd.DataFrame
    model: str
    problems: pd.DataFrame = dataclasses.field(default_factory=lambda: problems_frame((), ()))


_forecast_stage_runs = 0


def forecast_stage_runs() -> int:
    """How many times `forecast_week` has fitted a forecast in this process; `whatif`'s
    tests read it to check that scenarios share one forecast."""
    return _forecast_stage_runs


def history_end(history: pd.DataFrame) -> pd.Timestamp:
    """The last interval every queue's history reaches: a plan starts after it."""
    return history.groupby("unique_id")["ds"].max().min()


def history_step(history: pd.DataFrame) -> pd.Timedelta:
    """The history's interval (an hour for a single row)."""
    ds = pd.DatetimeIndex(history["ds"].drop_duplicates().sort_values())
    return pd.Timedelta(ds[1] - ds[0]) if len(ds) > 1 else _HOUR


def week_horizon(week: dt.date | None) -> Callable[[pd.DataFrame], int]:
    """`horizon_for(history)` of the planned week: the hours from the history's end to the
    end of the week (see `plan_week`)."""
    return lambda history: plan_week(history_end(history), week, history_step(history))[1]


def forecast_week(config: Config, history: pd.DataFrame, calendar: Any, *,
                  week: dt.date | None, model: str,
                  on_start: Callable[[pd.Timestamp, int], None] | None = None,
                  engine: Engine | None = None,
                  on_done: Callable[[str], None] | None = None) -> WeekForecast:
    """Forecast the planned week (see `plan_week`) from loaded history and calendar with
    `model`, queue by queue on `engine` (inline by default; see `forecast_many` for
    fallbacks and failures). `on_start(start, horizon)` is told the week and horizon
    before the (slow) fit; `on_done(queue)` after each queue's.
    """
    global _forecast_stage_runs

    start, horizon = plan_week(history_end(history), week, history_step(history))
    if on_start is not None:
        on_start(start, horizon)
    many = forecast_many(history, horizon=horizon, models=[model], calendar=calendar,
                         queue_settings=config.queue, engine=engine, on_done=on_done,
                         timezone=config.timezone, params=config.forecast.models)
    _forecast_stage_runs += 1
    predicted = many.predicted
    in_week = (predicted["ds"] >= start) & (predicted["ds"] < start + dt.timedelta(days=7))
    return WeekForecast(history, calendar, start, predicted[in_week].reset_index(drop=True),
                        model, many.problems)


class AllQueuesFailed(StaffcastError):
    """Every queue (or scenario) of a run failed; the message lists each one's reason."""


def check_some_done(done: int, failures: Sequence[TaskFailure], what: str = "queue") -> None:
    """`AllQueuesFailed` listing the reasons when nothing succeeded."""
    if done == 0 and failures:
        reasons = "; ".join(f"{f.key}: {f.reason}" for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise AllQueuesFailed(f"every {what} failed ({len(failures)}): {reasons}{more}")


@dataclass(frozen=True)
class ManyForecast:
    """`forecast_many`'s result: the forecast rows of the queues that succeeded (the
    `model` column holds the model each queue actually used), the fallbacks
    (`staffcast.forecasting.core.Fallback`) and the failed queues (`TaskFailure`)."""

    predicted: pd.DataFrame
    fallbacks: tuple[Any, ...]
    failures: tuple[TaskFailure, ...]
    requested: str

    @property
    def problems(self) -> pd.DataFrame:
        """Fallbacks and failures as `PROBLEM_COLUMNS` rows (see `problems_frame`)."""
        return problems_frame(self.fallbacks, self.failures, self.requested)


def _forecast_task(item: tuple, *, horizon: int, models: tuple[str, ...], calendar: Any,
                   params: Any):
    from staffcast.forecasting.core import FALLBACK_MODEL, forecast_queue

    uid, ds, y, settings = item
    return forecast_queue(uid, ds, y, horizon=horizon, models=models, calendar=calendar,
                          settings=settings, fallback=FALLBACK_MODEL, params=params)


def forecast_many(history: pd.DataFrame, *, horizon: int, models: Sequence[str],
                  calendar: Any = None, queue_settings: Any = None,
                  engine: Engine | None = None,
                  on_done: Callable[[str], None] | None = None,
                  timezone: str | None = None, params: Any = None) -> ManyForecast:
    """Forecast every queue of `history` as `staffcast.forecasting.core.forecast` does, one task per
    queue on `engine` (inline by default), with the handle-time forecast `aht_s` when the
    history has handle times (`staffcast.forecasting.aht`). With the queues' `timezone`, the wall-clock
    intervals a spring-forward day skips are zero (a 23-hour day: no contact arrives in
    them, and nobody is staffed for them). A model that fails for a queue falls back to
    `staffcast.forecasting.core.FALLBACK_MODEL` (recorded); a queue whose fallback fails too is a
    failure and the other queues complete. `AllQueuesFailed` when no queue succeeds.
    `params`: the models' hyperparameters (`staffcast.forecasting.models.params.ModelParams`, the
    config's `forecast.models`; None: defaults)."""
    from staffcast.forecasting.core import check_horizon, check_models, settings_for, split_queues

    horizon, names = check_horizon(horizon), check_models(models)
    items = [(uid, ds, y, settings_for(queue_settings, uid))
             for uid, ds, y in split_queues(history)]
    mapped = (engine or Engine()).map(
        _forecast_task, items, keys=[item[0] for item in items], stage="forecast",
        shared={"horizon": horizon, "models": names, "calendar": calendar, "params": params},
        on_done=on_done)
    check_some_done(len(mapped.done), mapped.failures)
    results = mapped.values
    from staffcast.forecasting.aht import add_aht_forecast

    predicted = add_aht_forecast(history, pd.concat([r.frame for r in results],
                                                    ignore_index=True),
                                 calendar=calendar, queue_settings=queue_settings)
    return ManyForecast(skipped_hours_zero(predicted, timezone),
                        tuple(f for r in results for f in r.fallbacks), mapped.failures,
                        ",".join(names))


def skipped_hours_zero(predicted: pd.DataFrame, timezone: str | None) -> pd.DataFrame:
    """The forecast with every volume column zero in wall-clock intervals `timezone` skips
    when its clocks spring forward (a copy; unchanged without a zone)."""
    from staffcast.forecasting.data import check_timezone, nonexistent_local

    zone = check_timezone(timezone)
    skipped = nonexistent_local(pd.to_datetime(predicted["ds"]), zone)
    if not skipped.any():
        return predicted
    out = predicted.copy()
    columns = [c for c in out.columns if c == "yhat" or c.startswith("yhat_")]
    out.loc[skipped, columns] = 0.0
    return out


def _backtest_task(item: tuple, *, calendar: Any, **arguments: Any):
    from staffcast.forecasting.backtest import backtest_queue

    uid, ds, y, settings = item
    return backtest_queue(uid, ds, y, calendar=calendar, settings=settings, **arguments)


def backtest_many(history: pd.DataFrame, *, models: Sequence[str], horizon: int, windows: int,
                  step: int | None = None, calendar: Any = None, queue_settings: Any = None,
                  engine: Engine | None = None,
                  on_done: Callable[[str], None] | None = None, params: Any = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[TaskFailure, ...]]:
    """`staffcast.forecasting.backtest.backtest` with one task per queue on `engine`: (forecasts,
    metrics, failed queues). A model failing in a window fails its queue (a backtest
    scores the models asked for, so there is no fallback); the other queues complete.
    `params` as in `forecast_many`."""
    from staffcast.forecasting.backtest import check_windows
    from staffcast.forecasting.core import check_models, settings_for, split_queues

    names = check_models(models)
    step = check_windows(horizon, windows, step)
    items = [(uid, ds, y, settings_for(queue_settings, uid))
             for uid, ds, y in split_queues(history)]
    mapped = (engine or Engine()).map(
        _backtest_task, items, keys=[item[0] for item in items], stage="backtest",
        shared={"calendar": calendar, "models": names, "horizon": horizon,
                "windows": windows, "step": step, "params": params}, on_done=on_done)
    check_some_done(len(mapped.done), mapped.failures)
    return (pd.concat([f for f, _ in mapped.values], ignore_index=True),
            pd.concat([m for _, m in mapped.values], ignore_index=True), mapped.failures)


def _requirements_task(volume: pd.DataFrame, **arguments: Any) -> pd.DataFrame:
    return compute_requirements(volume, **arguments)


def requirements_many(volume: pd.DataFrame, queues: Mapping[str, QueueStaffing], *,
                      interval_minutes: int,
                      opening_hours: Mapping[str, WeeklyHours | None] | None = None,
                      engine: Engine | None = None
                      ) -> tuple[pd.DataFrame, tuple[TaskFailure, ...]]:
    """`staffcast.scheduler.requirements.compute_requirements` with one task per queue on `engine`:
    (the requirement frame of the queues that succeeded, failed queues). A forecast finer
    than `interval_minutes` is summed onto that grid first (`volume_on_grid`)."""
    volume = volume_on_grid(volume, interval_minutes)
    ids = volume["unique_id"].astype("string")
    names = sorted(ids.unique())
    # A queue missing from the config is the config's error, not one queue's failure.
    unknown = sorted(set(names) - set(queues))
    if unknown:
        raise StaffcastError(f"no staffing settings for queue {reprlib.repr(unknown)}; configured "
                             f"queues: {', '.join(sorted(queues)) or '(none)'}")
    parts = [volume[(ids == name).to_numpy()] for name in names]
    mapped = (engine or Engine()).map(
        _requirements_task, parts, keys=names, stage="requirements",
        shared={"queues": dict(queues), "interval_minutes": interval_minutes,
                "opening_hours": opening_hours})
    check_some_done(len(mapped.done), mapped.failures)
    out = pd.concat(mapped.values, ignore_index=True)
    # Each queue's frame has abandon_rate only when it uses Erlang A; keep the column when
    # any queue does, as one compute_requirements call over all queues would.
    with_abandon = "abandon_rate" in out and out["abandon_rate"].notna().any()
    abandon = ["abandon_rate"] if with_abandon else []
    return out[[*REQUIREMENT_COLUMNS, *abandon, *TARGET_COLUMNS]], mapped.failures


_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def plan_files(week: WeekForecast, predicted: pd.DataFrame, requirement: pd.DataFrame,
               resolved_config: str) -> dict[str, str]:
    """The text files a plan folder holds besides the schedule outputs: forecast.csv,
    requirements.csv, config.resolved.yaml, and the last four weeks of history and the
    calendar events around the week (history.csv, calendar.csv), so a report can draw
    history, forecast and festival windows from the folder alone."""
    shown_from = week.start - dt.timedelta(days=28)
    recent = week.history[week.history["ds"] >= shown_from]
    events = week.calendar.events
    events = events[(events["end"] >= shown_from)
                    & (events["start"] < week.start + dt.timedelta(days=7))]
    return {
        "forecast.csv": predicted.to_csv(index=False, date_format=_DATE_FORMAT),
        "requirements.csv": requirement.to_csv(index=False, date_format=_DATE_FORMAT),
        "history.csv": recent.to_csv(index=False, date_format=_DATE_FORMAT),
        "calendar.csv": events.to_csv(index=False, date_format=_DATE_FORMAT),
        "config.resolved.yaml": resolved_config,
    }

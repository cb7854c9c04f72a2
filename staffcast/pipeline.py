"""The pipeline that wires forecasting to scheduling.

history + calendar -> forecast -> volume (`unique_id, ds, volume`) -> requirement ->
shift plan -> named roster -> files. `forecast/` and `scheduler/` never meet except here:
this module picks the forecast column to staff for and hands the scheduler a volume frame.
The step commands (`forecast`, `requirements`, `schedule`) and `plan` share these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scheduler.agents import Agent, assign_agents, placeholder_assignment
from scheduler.export import write_schedule_outputs
from scheduler.model import build_model
from scheduler.requirements import QueueStaffing
from scheduler.roster import activities_frame, roster_coverage, roster_frame
from scheduler.rules import ScheduleRules
from scheduler.solve import solve
from staffcast.config import Config, ConfigError, WeeklyHours

QUANTILE_COLUMNS = {"mean": "yhat", "80": "yhat_hi_80", "95": "yhat_hi_95"}
_HOUR = pd.Timedelta(hours=1)


def forecast_volume(forecast: pd.DataFrame, volume_quantile: str = "mean",
                    model: str | None = None, source: str = "the forecast") -> pd.DataFrame:
    """The volume frame `unique_id, ds, volume` (contacts per forecast row) to staff for.

    `volume_quantile` picks the forecast column: 'mean' -> yhat, '80' -> yhat_hi_80 (the
    upper end of the 80% interval, a risk-aware plan), '95' -> yhat_hi_95. With several
    models in the frame, `model` picks one. Negative values are staffed as zero contacts.
    `source` names the forecast in errors.
    """
    if volume_quantile not in QUANTILE_COLUMNS:
        raise ValueError(f"volume_quantile must be one of {', '.join(QUANTILE_COLUMNS)}, "
                         f"got {volume_quantile!r}")
    models = sorted(forecast["model"].unique())
    if model is None and len(models) > 1:
        raise ValueError(f"{source} holds several models ({', '.join(models)}); pick one "
                         "with --model")
    if model is not None:
        if model not in models:
            raise ValueError(f"{source} has no rows for model {model!r}; models: "
                             f"{', '.join(models)}")
        forecast = forecast[forecast["model"] == model]
    return pd.DataFrame({
        "unique_id": forecast["unique_id"].astype("string").to_numpy(),
        "ds": pd.to_datetime(forecast["ds"]).to_numpy(),
        "volume": forecast[QUANTILE_COLUMNS[volume_quantile]].clip(lower=0.0)
        .astype(float).to_numpy(),
    })


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


@dataclass(frozen=True)
class ScheduleRun:
    """What `run_schedule` solved and wrote: the summary (as in summary.json), the
    tours no agent could take, the output folder, and the shift plan's coverage (as in
    coverage.csv; no rows when the solve found no plan)."""

    summary: dict[str, Any]
    unassigned: pd.DataFrame
    out_dir: Path
    coverage: pd.DataFrame

    @property
    def has_plan(self) -> bool:
        return self.summary["status"] in ("optimal", "feasible")


def run_schedule(requirement: pd.DataFrame, rules: ScheduleRules, out_dir: Path, *,
                 agents: tuple[Agent, ...] | None = None, agents_source: str = "",
                 history: pd.DataFrame | None = None, solver: str, time_limit_s: float,
                 gap: float, extra_files: Mapping[str, str] | None = None,
                 summary_extra: Mapping[str, Any] | None = None) -> ScheduleRun:
    """Solve the shift plan for `requirement`, assign it to `agents` (or placeholder ids:
    the tour ids) and write roster.csv, activities.csv, coverage.csv, summary.json and
    `extra_files` atomically into `out_dir`. A plan-less outcome writes only the summary."""
    result = solve(build_model(requirement, rules), solver=solver, time_limit_s=time_limit_s,
                   gap=gap)
    extra = dict(extra_files or {})
    summary = {**result.summary(), **(summary_extra or {})}
    if not result.has_plan:
        write_schedule_outputs(out_dir, summary=summary, extra_files=extra)
        return ScheduleRun(summary, pd.DataFrame(), out_dir, result.coverage)

    origin = requirement["ds"].min().normalize()
    if agents is None:
        assignment = placeholder_assignment(result.tours)
        source = "none given: tour ids stand in as agent ids"
    else:
        assignment = assign_agents(result.tours, agents, min_rest_hours=rules.min_rest_hours,
                                   max_consecutive_days=rules.max_consecutive_days,
                                   history=history, week_start=origin.date())
        source = agents_source
    roster = roster_frame(assignment.roster)
    days = pd.date_range(origin, requirement["ds"].max().normalize(), freq="D")
    activities = activities_frame(roster, days, idle_agents=assignment.idle_agents)
    unassigned = assignment.unassigned_tours
    summary.update(
        assignment_status=assignment.status, agents_source=source,
        agents_used=int(roster["agent_id"].nunique()), agents_idle=len(assignment.idle_agents),
        unassigned_tours=len(unassigned),
        unassigned_paid_hours=float(unassigned["paid_hours"].sum()) if len(unassigned) else 0.0)
    if agents is not None:
        extra["unassigned_tours.csv"] = unassigned.to_csv(index=False)
        # coverage.csv is the shift plan's; what the named roster alone covers can be less.
        covered = roster_coverage(roster, result.coverage, rules.interval_minutes)
        short = (result.coverage["required"] - covered).clip(lower=0).sum()
        summary["roster_shortfall_agent_hours"] = float(short * rules.interval_minutes / 60)
    write_schedule_outputs(out_dir, roster=roster, activities=activities,
                           coverage=result.coverage, summary=summary, extra_files=extra)
    return ScheduleRun(summary, unassigned, out_dir, result.coverage)


def plan_week(history_end: pd.Timestamp, week: dt.date | None) -> tuple[pd.Timestamp, int]:
    """(first hour of the planned week, forecast horizon in hours reaching its end).

    Without `week`, the plan covers the first full Monday-to-Sunday week after the last
    history hour `history_end`; with it, the seven days from `week` on.
    """
    after = history_end + _HOUR
    if week is None:
        start = after.normalize() + pd.Timedelta(days=(7 - after.weekday()) % 7)
        if start < after:
            start += pd.Timedelta(days=7)
    else:
        start = pd.Timestamp(week)
        if start < after:
            raise ValueError(f"--week {week}: the plan must start after the history ends "
                             f"(last hour {history_end:%Y-%m-%d %H:%M})")
    end = start + pd.Timedelta(days=7)
    return start, int((end - after) / _HOUR)


@dataclass(frozen=True)
class WeekForecast:
    """The forecast stage of a plan: the inputs it read and the forecast of the week.

    `history` is the loaded history, `calendar` the merged calendar (forecast.calendar
    Calendar), `start` the first hour of the planned week, `predicted` the forecast rows of
    that week (STYLE.md forecast frame) and `model` the forecast model used.
    """

    history: pd.DataFrame
    calendar: Any
    start: pd.Timestamp
    predicted: pd.DataFrame
    model: str


_forecast_stage_runs = 0


def forecast_stage_runs() -> int:
    """How many times `forecast_week` has fitted a forecast in this process; `whatif`'s
    tests read it to check that scenarios share one forecast."""
    return _forecast_stage_runs


def history_end(history: pd.DataFrame) -> pd.Timestamp:
    """The last hour every queue's history reaches: a plan starts after it."""
    return history.groupby("unique_id")["ds"].max().min()


def week_horizon(week: dt.date | None) -> Callable[[pd.DataFrame], int]:
    """`horizon_for(history)` of the planned week: the hours from the history's end to the
    end of the week (see `plan_week`)."""
    return lambda history: plan_week(history_end(history), week)[1]


def forecast_week(config: Config, history: pd.DataFrame, calendar: Any, *,
                  week: dt.date | None, model: str,
                  on_start: Callable[[pd.Timestamp, int], None] | None = None) -> WeekForecast:
    """Forecast the planned week (see `plan_week`) from loaded history and calendar with
    `model`. `on_start(start, horizon)` is told the week and horizon before the (slow) fit.
    """
    global _forecast_stage_runs
    from forecast.core import forecast

    start, horizon = plan_week(history_end(history), week)
    if on_start is not None:
        on_start(start, horizon)
    predicted = forecast(history, horizon=horizon, models=[model], calendar=calendar,
                         queue_settings=config.queue)
    _forecast_stage_runs += 1
    in_week = (predicted["ds"] >= start) & (predicted["ds"] < start + dt.timedelta(days=7))
    return WeekForecast(history, calendar, start, predicted[in_week].reset_index(drop=True),
                        model)


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

"""`staffcast plan`: forecast, requirements, schedule and roster in one command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd

from scheduler.agents import load_agents
from staffcast.commands.forecasting import (
    _input_options,
    _resolved,
    forecast_settings,
    load_inputs,
    queue_count,
)
from staffcast.commands.scheduling import report_schedule, solver_options
from staffcast.commands.simulation import run_simulation, simulate_option
from staffcast.config import load_config
from staffcast.parallel import (
    engine_options,
    open_engine,
    problems_frame,
    report_problems,
)
from staffcast.pipeline import (
    QUANTILE_COLUMNS,
    forecast_volume,
    forecast_week,
    plan_files,
    requirements_many,
    run_schedule,
    schedule_rules,
    staffing_settings,
    week_horizon,
)
from staffcast.recording import (
    command_line,
    record_plan_run,
    recorded_message,
    store_option,
)


@click.command("plan")
@_input_options
@click.option("--week", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of the seven days to plan (YYYY-MM-DD) [default: the first "
                   "full Monday-to-Sunday week after the history ends].")
@click.option("--model", default=None,
              help="Forecast model [default: the config's forecast.model, else auto].")
@click.option("--volume-quantile", type=click.Choice(list(QUANTILE_COLUMNS)), default=None,
              help="Staff to the forecast mean or the upper 80/95% bound [default: the "
                   "config's forecast.volume_quantile].")
@click.option("--agents", "agents_path", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path), default=None,
              help="Agents CSV [default: the config's `agents`; without either the roster "
                   "uses tour ids as placeholder agent ids].")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for forecast.csv, requirements.csv, roster.csv, activities.csv, "
                   "coverage.csv, summary.json, config.resolved.yaml, and the recent "
                   "history.csv and calendar.csv the report draws.")
@solver_options
@simulate_option
@engine_options
@store_option
def plan_command(history_path, events, timestamp_col, queue_col, fill_missing, calendar_path,
                 country, config_path, week, model, volume_quantile, agents_path, out_dir,
                 time_limit, gap, solver, simulate_replications, workers, scheduler, store):
    """Forecast, staff and schedule one week: history in, named roster out.

    Forecast and requirements run per queue, in parallel on Dask when there are several
    queues; failed queues and model fallbacks are listed on stderr and in failures.csv in
    the output folder, and the plan covers the other queues."""
    from forecast.core import check_models

    if config_path is None:
        raise click.UsageError("plan needs --config (queues, staffing targets and shift rules)")
    config = load_config(config_path)
    rules = schedule_rules(config)
    settings = forecast_settings(config, model=model, country=country,
                                 fill_missing=fill_missing, volume_quantile=volume_quantile)
    check_models([settings["model"]])
    agents_path = agents_path or config.agents
    agents = (load_agents(agents_path, contracts={f.contract for f in rules.families})
              if agents_path is not None else None)

    def announce(start, horizon):
        click.echo(f"plan: week {start:%Y-%m-%d} to {start + dt.timedelta(days=6):%Y-%m-%d}; "
                   f"forecasting {horizon} hours with {settings['model']}...", err=True)

    week_day = None if week is None else week.date()
    history, calendar = load_inputs(
        config, history_path, events, timestamp_col, queue_col, settings["fill_missing"],
        calendar_path, settings["country"], week_horizon(week_day))
    with open_engine(workers, scheduler, tasks=queue_count(history)) as engine:
        week_forecast = forecast_week(config, history, calendar, week=week_day,
                                      model=settings["model"], on_start=announce, engine=engine)
        start = week_forecast.start
        volume = forecast_volume(week_forecast.predicted, settings["volume_quantile"])
        queues, hours = staffing_settings(config, sorted(volume["unique_id"].unique()))
        requirement, failures = requirements_many(
            volume, queues, interval_minutes=rules.interval_minutes, opening_hours=hours,
            engine=engine)
    problems = pd.concat([week_forecast.problems, problems_frame(failures=failures)],
                         ignore_index=True)
    report_problems(problems, out_dir / "failures.csv")
    click.echo(f"plan: solving shifts for peak {int(requirement['agents_required'].max())} "
               f"agents ({solver}, time limit {time_limit:g} s)...", err=True)
    resolved = _resolved(config, settings, "plan")
    run = run_schedule(
        requirement, rules, out_dir, agents=agents, agents_source=str(agents_path),
        solver=solver, time_limit_s=time_limit, gap=gap,
        extra_files=plan_files(week_forecast, week_forecast.predicted, requirement, resolved),
        summary_extra={"week_start": f"{start:%Y-%m-%d}", "forecast_model": settings["model"],
                       "volume_quantile": settings["volume_quantile"]})
    report_schedule(run)
    if store is not None:
        run_id = record_plan_run(
            store, command=command_line(), week_forecast=week_forecast,
            requirement=requirement, run=run, config_yaml=resolved,
            inputs={"history": history_path, "calendar": calendar_path,
                    "config": config_path, "agents": agents_path},
            failures=problems)
        click.echo(recorded_message(run_id, store), err=True)
    if simulate_replications:
        click.echo(run_simulation(out_dir, replications=simulate_replications), err=True)


COMMANDS: tuple[click.Command, ...] = (plan_command,)

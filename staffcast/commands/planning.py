"""`staffcast plan`: forecast, requirements, schedule and roster in one command."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import click
import pandas as pd

from scheduler.agents import load_agents
from scheduler.export import atomic_write_csv
from staffcast import console
from staffcast.commands.forecasting import (
    _input_options,
    _resolved,
    forecast_settings,
    load_inputs,
    queue_count,
)
from staffcast.commands.scheduling import (
    export_option,
    multi_skill_option,
    report_schedule,
    schedule_json,
    solver_options,
)
from staffcast.commands.simulation import run_simulation, simulate_option
from staffcast.config import load_config
from staffcast.outputs import Generation
from staffcast.parallel import (
    engine_options,
    exit_if_lost,
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
    with_multi_skill,
)
from staffcast.exports import write_plan_exports
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
                   "coverage.csv, summary.json, config.resolved.yaml, the recent "
                   "history.csv and calendar.csv the report draws, the exports and "
                   "manifest.json. It is replaced as a whole when the run succeeds.")
@solver_options
@multi_skill_option
@export_option
@simulate_option
@engine_options
@store_option
@console.json_option
def plan_command(history_path, events, timestamp_col, queue_col, fill_missing, calendar_path,
                 country, config_path, allow_outliers, interval_minutes, timezone, week, model,
                 volume_quantile, agents_path, out_dir, time_limit, gap, solver, multi_skill,
                 exports, simulate_replications, workers, scheduler, store, as_json):
    """Forecast, staff and schedule one week: history in, named roster out.

    Forecast and requirements run per queue, in parallel on Dask when there are several
    queues; failed queues and model fallbacks are listed on stderr and in failures.csv in
    the output folder, the plan covers the other queues, and the exit status is 3.

    The folder is written as one generation: staged beside --out-dir, described by
    manifest.json (run id, SHA-256 of every file) and swapped in whole, so it never mixes
    two runs; a failed run leaves the previous folder as it was."""
    from forecast.core import check_models

    if config_path is None:
        raise click.UsageError("plan needs --config (queues, staffing targets and shift rules)")
    config = with_multi_skill(load_config(config_path), multi_skill)
    if timezone:  # --timezone wins over the config's, for loading and the forecast alike
        config = dataclasses.replace(config, timezone=timezone)
    rules = schedule_rules(config)
    settings = forecast_settings(config, model=model, country=country,
                                 fill_missing=fill_missing, volume_quantile=volume_quantile,
                                 interval_minutes=interval_minutes)
    check_models([settings["model"]])
    agents_path = agents_path or config.agents
    agents = (load_agents(agents_path, contracts={f.contract for f in rules.families})
              if agents_path is not None else None)

    def announce(start, horizon):
        console.info(f"plan: week {start:%Y-%m-%d} to {start + dt.timedelta(days=6):%Y-%m-%d}; "
                     f"forecasting {horizon} hours with {settings['model']}...")

    week_day = None if week is None else week.date()
    history, calendar = load_inputs(
        config, history_path, events, timestamp_col, queue_col, settings["fill_missing"],
        calendar_path, settings["country"], week_horizon(week_day),
        allow_outliers=allow_outliers, interval_minutes=settings["interval_minutes"],
        timezone=timezone)
    generation = Generation(out_dir, command=command_line())
    with generation:
        run, problems, week_forecast, requirement, resolved, simulated = _plan_into(
            generation.path, out_dir, config, rules, settings, history, calendar, week_day,
            agents, agents_path, announce, time_limit, gap, solver, exports,
            simulate_replications, workers, scheduler)
        generation.commit({"week_start": f"{week_forecast.start:%Y-%m-%d}",
                           "status": run.summary["status"]})
    run = dataclasses.replace(run, out_dir=out_dir)
    if len(problems):
        console.info(f"listed in {out_dir / 'failures.csv'}")
    if as_json:
        console.emit_json(schedule_json(run, command="plan", run_id=generation.run_id,
                                        problems=problems))
    report_schedule(run)
    if store is not None:
        run_id = record_plan_run(
            store, command=command_line(), week_forecast=week_forecast,
            requirement=requirement, run=run, config_yaml=resolved,
            inputs={"history": history_path, "calendar": calendar_path,
                    "config": config_path, "agents": agents_path},
            failures=problems)
        console.info(recorded_message(run_id, store))
    if simulated:
        console.info(simulated)
    exit_if_lost(problems, out_dir / "failures.csv")


def _plan_into(stage, out_dir, config, rules, settings, history, calendar, week_day, agents,
               agents_path, announce, time_limit, gap, solver, exports, simulate_replications,
               workers, scheduler):
    """Forecast, staff, schedule and export into the staged folder `stage`; returns (the
    schedule run, problems, the week's forecast, requirement, resolved config, simulation
    text or '')."""
    queues = queue_count(history)
    with (open_engine(workers, scheduler, tasks=queues) as engine,
          console.progress(queues, "forecast") as bar):
        week_forecast = forecast_week(config, history, calendar, week=week_day,
                                      model=settings["model"], on_start=announce, engine=engine,
                                      on_done=bar.step)
        start = week_forecast.start
        volume = forecast_volume(week_forecast.predicted, settings["volume_quantile"])
        staffing, hours = staffing_settings(config, sorted(volume["unique_id"].unique()))
        requirement, failures = requirements_many(
            volume, staffing, interval_minutes=rules.interval_minutes, opening_hours=hours,
            engine=engine)
    problems = pd.concat([week_forecast.problems, problems_frame(failures=failures)],
                         ignore_index=True)
    report_problems(problems)
    if len(problems):
        atomic_write_csv(problems, stage / "failures.csv")
    console.info(f"plan: solving shifts for peak {int(requirement['agents_required'].max())} "
                 f"agents ({solver}, time limit {time_limit:g} s)...")
    resolved = _resolved(config, settings, "plan")
    run = run_schedule(
        requirement, rules, stage, agents=agents, agents_source=str(agents_path),
        solver=solver, time_limit_s=time_limit, gap=gap,
        extra_files=plan_files(week_forecast, week_forecast.predicted, requirement, resolved),
        summary_extra={"week_start": f"{start:%Y-%m-%d}", "forecast_model": settings["model"],
                       "volume_quantile": settings["volume_quantile"]})
    if run.has_plan and exports:
        write_plan_exports(stage, requirement=requirement, coverage=run.coverage,
                           interval_minutes=rules.interval_minutes)
    simulated = ""
    if simulate_replications and run.has_plan:
        simulated = run_simulation(stage, replications=simulate_replications).replace(
            str(stage), str(out_dir))
    return run, problems, week_forecast, requirement, resolved, simulated


COMMANDS: tuple[click.Command, ...] = (plan_command,)

"""`staffcast plan`: forecast, requirements, schedule and roster in one command."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

import click

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
from staffcast.commands.simulation import simulate_option
from staffcast.config import load_config
from staffcast.outputs import Generation
from staffcast.parallel import engine_options, exit_if_lost, open_engine, report_problems
from staffcast.pipeline import QUANTILE_COLUMNS, schedule_rules, week_horizon, with_multi_skill
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
    from staffcast.forecasting.core import check_models
    from staffcast import api

    if config_path is None:
        raise click.UsageError("plan needs --config (queues, staffing targets and shift rules)")
    config = with_multi_skill(load_config(config_path), multi_skill)
    if timezone:  # --timezone wins over the config's, for loading and the forecast alike
        config = dataclasses.replace(config, timezone=timezone)
    schedule_rules(config)
    settings = forecast_settings(config, model=model, country=country,
                                 fill_missing=fill_missing, volume_quantile=volume_quantile,
                                 interval_minutes=interval_minutes)
    check_models([settings["model"]])
    agents_path = agents_path or config.agents
    week_day = None if week is None else week.date()
    history, calendar = load_inputs(
        config, history_path, events, timestamp_col, queue_col, settings["fill_missing"],
        calendar_path, settings["country"], week_horizon(week_day),
        allow_outliers=allow_outliers, interval_minutes=settings["interval_minutes"],
        timezone=timezone)

    def announce(start, horizon):
        console.info(f"plan: week {start:%Y-%m-%d} to {start + dt.timedelta(days=6):%Y-%m-%d}; "
                     f"forecasting {horizon} hours with {settings['model']}...")

    # Made first, so that a folder that cannot be replaced fails before the slow stages;
    # an error on the way discards the staged folder and keeps the old one.
    generation = Generation(out_dir, command=command_line())
    with generation:
        queues = queue_count(history)
        with contextlib.ExitStack() as stages:
            engine = stages.enter_context(open_engine(workers, scheduler, tasks=queues))
            bar = stages.enter_context(console.progress(queues, "forecast"))

            def before_solve(requirement):
                stages.close()  # the forecast is done: close the bar and the workers
                console.info(f"plan: solving shifts for peak "
                             f"{int(requirement['agents_required'].max())} agents ({solver}, "
                             f"time limit {time_limit:g} s)...")

            plan = api.plan(config, history, calendar, week=week_day, model=settings["model"],
                            volume_quantile=settings["volume_quantile"], agents=agents_path,
                            solver=solver, time_limit_s=time_limit, gap=gap, engine=engine,
                            on_start=announce, on_done=bar.step, on_solve=before_solve)
        plan = dataclasses.replace(plan, resolved_config=_resolved(config, settings, "plan"))
        report_problems(plan.problems)
        simulation = None
        if simulate_replications and plan.has_plan:
            simulation = api.simulate(plan, replications=simulate_replications)
        plan.write(generation, exports=exports, simulation=simulation)
    run_id, run = generation.run_id, plan.schedule_run(out_dir)
    if len(plan.problems):
        console.info(f"listed in {out_dir / 'failures.csv'}")
    if as_json:
        console.emit_json(schedule_json(run, command="plan", run_id=run_id,
                                        problems=plan.problems))
    report_schedule(run)
    if store is not None:
        recorded = record_plan_run(
            store, command=command_line(), week_forecast=plan.week,
            requirement=plan.requirements, run=run, config_yaml=plan.resolved_config,
            inputs={"history": history_path, "calendar": calendar_path,
                    "config": config_path, "agents": agents_path},
            failures=plan.problems)
        console.info(recorded_message(recorded, store))
    if simulation is not None:
        console.info(simulation.table(out_dir))
    exit_if_lost(plan.problems, out_dir / "failures.csv")


COMMANDS: tuple[click.Command, ...] = (plan_command,)

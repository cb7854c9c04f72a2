"""`staffcast whatif`: one forecast, several scenarios, one comparison."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import click
import pandas as pd

from staffcast.scheduler.agents import load_agents
from staffcast.scheduler.export import atomic_write_csv
from staffcast import console
from staffcast.commands.forecasting import forecast_settings, load_inputs, queue_count
from staffcast.commands.scheduling import multi_skill_option
from staffcast.commands.simulation import simulate_option
from staffcast.config import load_config
from staffcast.outputs import Generation
from staffcast.parallel import (
    engine_options,
    exit_if_lost,
    open_engine,
    problems_frame,
    report_problems,
)
from staffcast.pipeline import forecast_week, week_horizon, with_multi_skill
from staffcast.simulation import simulate
from staffcast.recording import (
    command_line,
    record_whatif_run,
    recorded_message,
    store_option,
)
from staffcast.scenarios import (
    comparison,
    format_comparison,
    load_scenarios,
    scenario_configs,
    scenario_plans,
)


@click.command("whatif")
@click.option("--scenarios", "scenarios_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario YAML: the base plan (history, calendar, config, week, model, "
                   "solver, time_limit_s, gap) and the scenarios' overrides (docs/whatif.md).")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one plan folder per scenario (base first) and "
                   "comparison.csv.")
@multi_skill_option
@simulate_option
@engine_options
@store_option
def whatif_command(scenarios_path: Path, out_dir: Path, multi_skill: bool | None,
                   simulate_replications: int, workers: int | None, scheduler: str | None,
                   store: Path | None) -> None:
    """Plan the base week and every scenario from ONE forecast and compare them.

    The forecast runs per queue and the scenarios one per task, in parallel on Dask when
    there are several; a failing scenario or queue is listed on stderr and in
    failures.csv, and the others complete."""
    from staffcast.forecasting.core import check_models

    spec = load_scenarios(scenarios_path)
    base = spec.base
    config = with_multi_skill(load_config(base.config), multi_skill)
    settings = forecast_settings(config, model=base.model, volume_quantile=base.volume_quantile)
    model, quantile = settings["model"], settings["volume_quantile"]
    check_models([model])
    # Every override is applied and checked before the slow forecast and solves.
    runs = scenario_configs(spec, config)
    rules = config.schedule
    agents = (load_agents(config.agents, contracts={f.contract for f in rules.families})
              if config.agents is not None else None)

    def announce(start, horizon):
        console.info(f"whatif: week {start:%Y-%m-%d}; forecasting {horizon} hours with {model} "
                     f"once for {len(runs)} scenario(s)...")

    history, calendar = load_inputs(config, base.history, False, "ds", None,
                                    config.forecast.fill_missing, base.calendar,
                                    config.forecast.country, week_horizon(base.week))
    generation = Generation(out_dir, command=command_line())
    with generation:
        stage = generation.path
        queues = queue_count(history)
        with (open_engine(workers, scheduler, tasks=max(queues, len(runs))) as engine):
            with console.progress(queues, "forecast") as bar:
                week = forecast_week(config, history, calendar, week=base.week, model=model,
                                     on_start=announce, engine=engine, on_done=bar.step)
            started = time.perf_counter()
            with console.progress(len(runs), "whatif") as bar:
                mapped = scenario_plans(runs, spec, week, agents=agents,
                                        agents_source=str(config.agents),
                                        volume_quantile=quantile, engine=engine,
                                        on_done=bar.step)
        problems = pd.concat([week.problems, problems_frame(failures=mapped.failures)],
                             ignore_index=True)
        report_problems(problems)
        if len(problems):
            atomic_write_csv(problems, stage / "failures.csv")
        outcomes, simulated = [], []
        for outcome in mapped.values:
            plan, simulation = outcome.plan, None
            if simulate_replications and plan.has_plan:
                simulation = simulate(plan, replications=simulate_replications)
                simulation = dataclasses.replace(simulation, settings={
                    **simulation.settings, "plan": str(out_dir / outcome.name)})
                simulated.append(f"scenario {outcome.name}:\n"
                                 + simulation.table(out_dir / outcome.name))
            run = plan.write_into(stage / outcome.name, exports=False, simulation=simulation)
            # The plan folders live under out_dir once the staged folder is swapped in.
            outcomes.append(dataclasses.replace(
                outcome, run=dataclasses.replace(run, out_dir=out_dir / outcome.name)))
        table = comparison(outcomes)
        atomic_write_csv(table, stage / "comparison.csv")
        generation.commit({"scenarios": [o.name for o in outcomes]})
    if len(problems):
        console.info(f"listed in {out_dir / 'failures.csv'}")
    click.echo(format_comparison(table))
    console.info(f"whatif: {len(outcomes)} scenario(s) solved in "
                 f"{time.perf_counter() - started:.0f} s; outputs in {out_dir}")
    if store is not None:
        run_id = record_whatif_run(
            store, command=command_line(), week_forecast=week, outcomes=outcomes,
            out_dir=out_dir, inputs={"scenarios": scenarios_path, "history": base.history,
                                     "calendar": base.calendar, "config": base.config},
            failures=problems)
        console.info(recorded_message(run_id, store))
    for text in simulated:
        console.info(text)
    exit_if_lost(problems, out_dir / "failures.csv")


COMMANDS: tuple[click.Command, ...] = (whatif_command,)

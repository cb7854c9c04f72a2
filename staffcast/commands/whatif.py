"""`staffcast whatif`: one forecast, several scenarios, one comparison."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from scheduler.agents import load_agents
from scheduler.export import atomic_write_csv
from staffcast.commands.forecasting import forecast_settings, load_inputs
from staffcast.commands.simulation import run_simulation, simulate_option
from staffcast.config import load_config
from staffcast.pipeline import forecast_week, week_horizon
from staffcast.whatif import (
    comparison,
    format_comparison,
    load_scenarios,
    run_scenario,
    scenario_configs,
)


@click.command("whatif")
@click.option("--scenarios", "scenarios_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario YAML: the base plan (history, calendar, config, week, model, "
                   "solver, time_limit_s, gap) and the scenarios' overrides (docs/whatif.md).")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one plan folder per scenario (base first) and "
                   "comparison.csv.")
@simulate_option
def whatif_command(scenarios_path: Path, out_dir: Path, simulate_replications: int) -> None:
    """Plan the base week and every scenario from ONE forecast and compare them."""
    from forecast.core import check_models

    spec = load_scenarios(scenarios_path)
    base = spec.base
    config = load_config(base.config)
    settings = forecast_settings(config, model=base.model, volume_quantile=base.volume_quantile)
    model, quantile = settings["model"], settings["volume_quantile"]
    check_models([model])
    # Every override is applied and checked before the slow forecast and solves.
    runs = scenario_configs(spec, config)
    rules = config.schedule
    agents = (load_agents(config.agents, contracts={f.contract for f in rules.families})
              if config.agents is not None else None)

    def announce(start, horizon):
        click.echo(f"whatif: week {start:%Y-%m-%d}; forecasting {horizon} hours with {model} "
                   f"once for {len(runs)} scenario(s)...", err=True)

    history, calendar = load_inputs(config, base.history, False, "ds", None,
                                    config.forecast.fill_missing, base.calendar,
                                    config.forecast.country, week_horizon(base.week))
    week = forecast_week(config, history, calendar, week=base.week, model=model,
                         on_start=announce)
    outcomes = []
    started = time.perf_counter()
    with click.progressbar(runs, label="whatif", file=sys.stderr,
                           item_show_func=lambda r: r[0] if r else None) as bar:
        for name, scenario_config, scenario in bar:
            outcomes.append(run_scenario(
                name, scenario_config, scenario, spec, week, out_dir / name, agents=agents,
                agents_source=str(config.agents), volume_quantile=quantile))
    table = comparison(outcomes)
    atomic_write_csv(table, out_dir / "comparison.csv")
    click.echo(format_comparison(table))
    click.echo(f"whatif: {len(outcomes)} scenario(s) solved in "
               f"{time.perf_counter() - started:.0f} s; outputs in {out_dir}", err=True)
    if simulate_replications:
        for outcome in outcomes:
            if outcome.run.has_plan:
                click.echo(f"scenario {outcome.name}:\n" + run_simulation(
                    outcome.run.out_dir, replications=simulate_replications), err=True)


COMMANDS: tuple[click.Command, ...] = (whatif_command,)

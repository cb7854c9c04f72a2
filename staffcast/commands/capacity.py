"""`staffcast capacity`: the long-range capacity plan (whom to recruit, train and buy)."""

from __future__ import annotations

import datetime as dt
import time
import warnings
from pathlib import Path

import click

from staffcast.recording import command_line, recorded_message, store_option

_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("capacity")
@click.option("--config", "config_path", type=_EXISTING, required=True,
              help="Capacity YAML: plan, queues (with bot containment), cohorts and "
                   "scenarios (docs/capacity.md; example configs/capacity.yaml).")
@click.option("--history", "history_path", type=_EXISTING, required=True,
              help="Hourly history CSV/Parquet: unique_id, ds, y (every contact, the bot's "
                   "included when a queue has bot_containment).")
@click.option("--calendar", "calendar_path", type=_EXISTING, default=None,
              help="Calendar CSV/YAML of promotions and holidays, merged with the built-in "
                   "country calendar (plan.country).")
@click.option("--weeks", type=click.IntRange(min=1, max=104), default=None,
              help="Weeks to plan [default: the config's plan.weeks, else 26].")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Monday of the first planned week [default: the config's plan.start, "
                   "else the Monday after the history ends].")
@click.option("--scenarios/--no-scenarios", default=True, show_default=True,
              help="Also plan the config's what-if scenarios and compare them.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for capacity.csv, hiring_plan.csv, summary.json, "
                   "weekly_forecast.csv, requirement_weekly.csv, overtime_daily.csv, "
                   "config.resolved.yaml and, with scenarios, comparison.csv and "
                   "scenarios/<name>/.")
@store_option
def capacity_command(config_path: Path, history_path: Path, calendar_path: Path | None,
                     weeks: int | None, start: dt.datetime | None, scenarios: bool,
                     out_dir: Path, store: Path | None) -> None:
    """Plan hires, temps, outsourced blocks, cloud hours and overtime week by week so the
    festival weeks meet the service targets at least cost (a MIP)."""
    from staffcast.capacity import (
        apply_scenario,
        comparison,
        format_comparison,
        plan_capacity,
        plan_texts,
        store_rows,
        write_files,
    )
    from staffcast.capacity_config import dump_capacity_config, load_capacity_config

    began = time.perf_counter()
    config = load_capacity_config(config_path)
    if start is not None:
        config = _with_start(config, start.date())
    if scenarios:  # a scenario's bad knob is reported before any work is done
        for name, scenario in config.scenarios.items():
            apply_scenario(config, scenario, f"{config_path}: scenarios.{name}")
    history, calendar = _load(config, history_path, calendar_path, weeks)
    n_weeks = weeks or config.plan.weeks
    base = plan_capacity(config, history, calendar, weeks=n_weeks)
    click.echo(f"capacity: {n_weeks} weeks from {base.start:%Y-%m-%d}; status "
               f"{base.result.status}, cost {_money(base.result.cost)}, shortfall "
               f"{_hours(base.result.shortfall_hours)}", err=True)
    plans = [base]
    if scenarios:
        for name, scenario in config.scenarios.items():
            plans.append(plan_capacity(config, history, calendar, weeks=n_weeks,
                                       scenario=scenario, name=name, base=base))
    texts = plan_texts(base)
    resolved = (f"# resolved config of: {command_line()}\n"
                + dump_capacity_config(config, start=base.start, weeks=n_weeks))
    texts["config.resolved.yaml"] = resolved
    table = comparison(plans)
    if len(plans) > 1:
        texts["comparison.csv"] = table.round(4).to_csv(index=False)
        for plan in plans[1:]:
            for name, text in plan_texts(plan).items():
                if name in ("capacity.csv", "hiring_plan.csv", "summary.json"):
                    texts[f"scenarios/{plan.name}/{name}"] = text
    write_files(out_dir, texts)
    _report(base)
    if len(plans) > 1:
        click.echo("\nscenarios:\n" + format_comparison(table))
    click.echo(f"capacity: wrote {out_dir} in {time.perf_counter() - began:.1f} s", err=True)
    if store is not None:
        from staffcast.recording import record_capacity_run

        run_id = record_capacity_run(
            store, command=command_line(), config_yaml=resolved,
            inputs={"history": history_path, "calendar": calendar_path,
                    "config": config_path},
            capacity=store_rows(plans), out_dir=out_dir,
            summary={"base": base.summary(), "scenarios": table.to_dict("records")})
        click.echo(recorded_message(run_id, store), err=True)


def _with_start(config, start: dt.date):
    from staffcast.capacity_config import with_plan

    return with_plan(config, "--start", start=start)


def _load(config, history_path: Path, calendar_path: Path | None, weeks: int | None):
    """History and calendar, each read once; calendar coverage gaps are warned about."""
    import pandas as pd

    from staffcast.forecasting.calendar import load_calendar
    from staffcast.forecasting.data import load_history

    calendar = load_calendar(calendar_path, country=config.plan.country)
    opening = {n: q.opening_hours for n, q in config.queues.items()
               if q.opening_hours is not None}
    history = load_history(history_path, opening_hours=opening,
                           closed_dates=calendar.closed_hours, columns=config.history_columns)
    from staffcast.capacity import plan_start

    first = plan_start(history, config.plan.start)
    last = pd.Timestamp(first) + pd.Timedelta(weeks=weeks or config.plan.weeks)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calendar = calendar.with_years(range(history["ds"].min().year, last.year + 1))
    for warning in caught:
        click.echo(f"Warning: {warning.message}", err=True)
    return history, calendar


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} h"


def _report(plan) -> None:
    """The hiring plan and the festival weeks on stdout."""
    res = plan.result
    if not res.has_plan:
        click.echo(f"no plan: solver status {res.status}")
        return
    click.echo("hiring plan:")
    if len(res.hiring):
        for row in res.hiring.itertuples(index=False):
            click.echo(f"  {row.cohort:<10} {row.count:>4} {row.unit:<22} recruit by "
                       f"{row.recruit_by:%Y-%m-%d}, start {row.start_training:%Y-%m-%d}, "
                       f"productive from {row.productive_from:%Y-%m-%d}")
    else:
        click.echo("  (nobody to recruit)")
    summary = plan.summary()
    click.echo("festival weeks:")
    for week in summary["festival_weeks"]:
        click.echo(f"  {week['week']}  required {week['required_hours']:>8,.0f} h  cover "
                   f"{week['cover']:.1%}  cost {week['cost']:>10,.0f}  "
                   f"({', '.join(week['festivals'])})")


COMMANDS: tuple[click.Command, ...] = (capacity_command,)

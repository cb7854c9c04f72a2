"""`staffcast` commands: the roster simulation check (`staffcast simulate`)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import click

from scheduler.export import atomic_write_csv, atomic_write_text
from scheduler.simulate import HANDLE_DISTS, simulate_plan

OUTPUT_FILES = ("simulation_intervals.csv", "simulation_days.csv", "simulation.json")


def _pct(value: float) -> str:
    return "  n/a" if not math.isfinite(value) else f"{value:6.1%}"


@click.command("simulate")
@click.option("--plan", "plan_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Plan folder written by `staffcast schedule`/`plan`: requirements.csv, "
                   "roster.csv and activities.csv.")
@click.option("--replications", default=20, show_default=True, type=click.IntRange(min=1),
              help="Independent runs; confidence intervals are over their results.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Random seed: the same seed and plan give identical results.")
@click.option("--handle-dist", default="exponential", show_default=True,
              type=click.Choice(HANDLE_DISTS),
              help="Handle-time distribution, with mean aht_s from requirements.csv.")
@click.option("--handle-cv", default=1.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Coefficient of variation of lognormal handle times.")
@click.option("--sl-seconds", type=click.FloatRange(min=0),
              help="Service-level threshold T in seconds (default: requirements.csv's "
                   "sl_seconds column).")
@click.option("--patience-s", type=click.FloatRange(min=0, min_open=True),
              help="Mean caller patience in seconds (default: requirements.csv's patience_s "
                   "column; blank there = nobody abandons).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write simulation_intervals.csv, simulation_days.csv and "
                   "simulation.json (default: the plan folder).")
def simulate_command(plan_dir: Path, replications: int, seed: int, handle_dist: str,
                     handle_cv: float, sl_seconds: float | None, patience_s: float | None,
                     out_dir: Path | None) -> None:
    """Simulate the plan's queues contact by contact and report the service level, ASA and
    abandonment it really delivers, per interval and per day, with 95% confidence
    intervals and the Erlang figure next to each."""
    started = time.perf_counter()
    res = simulate_plan(plan_dir, replications=replications, seed=seed,
                        handle_dist=handle_dist, handle_cv=handle_cv, sl_seconds=sl_seconds,
                        patience_s=patience_s)
    seconds = time.perf_counter() - started
    target = out_dir or plan_dir
    intervals = res.intervals.assign(ds=res.intervals["ds"].dt.strftime("%Y-%m-%d %H:%M"))
    days = res.days.assign(day=res.days["day"].dt.strftime("%Y-%m-%d"))
    atomic_write_csv(intervals, target / OUTPUT_FILES[0])
    atomic_write_csv(days, target / OUTPUT_FILES[1])
    settings = {"plan": str(plan_dir), "replications": replications, "seed": seed,
                "handle_dist": handle_dist, "handle_cv": handle_cv, "sl_seconds": sl_seconds,
                "patience_s": patience_s, "contacts_simulated": res.contacts,
                "seconds": round(seconds, 3), "skipped_queues": res.skipped}
    atomic_write_text(target / OUTPUT_FILES[2], json.dumps(settings, indent=2) + "\n")

    lines = [f"simulate: {res.contacts:,} contacts, {replications} replication(s), "
             f"{seconds:.1f} s",
             f"  {'queue':<14}{'day':<12}{'offered':>9}  {'SL':>6} {'95% CI':>15}  "
             f"{'Erlang':>6}  {'ASA s':>6}  {'aband.':>6}"]
    for row in res.days.itertuples(index=False):
        ci = f"[{_pct(row.service_level_lo_95).strip()}, {_pct(row.service_level_hi_95).strip()}]"
        lines.append(f"  {row.unique_id:<14}{row.day:%Y-%m-%d}  {row.offered:9,.0f}  "
                     f"{_pct(row.service_level)} {ci:>15}  {_pct(row.erlang_service_level)}  "
                     f"{row.asa_s:6.1f}  {_pct(row.abandon_rate)}")
    for queue, reason in res.skipped.items():
        lines.append(f"  skipped {queue}: {reason}")
    lines.append(f"  outputs in {target}")
    click.echo("\n".join(lines))


COMMANDS: tuple[click.Command, ...] = (simulate_command,)

"""`staffcast` commands: the roster simulation check (`staffcast simulate`)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from staffcast.simulation import OUTPUT_FILES
from staffcast.tableio.reader import read_table
HANDLE_DISTS = ("exponential", "lognormal")
"""staffcast.scheduler.simulate.HANDLE_DISTS, repeated so that `--help` need not import the simulator
(and scipy.stats); tests/staffcast/test_cli_simulation.py checks they agree."""
PLAN_INPUTS = ("requirements.csv", "roster.csv", "activities.csv")
"""The plan folder files a simulation reads: each must belong to the folder's run."""


def read_forecast_band(path: Path, model: str | None) -> pd.DataFrame:
    """``unique_id, ds, yhat, yhat_lo_80, yhat_hi_80`` of one model from a forecast CSV."""
    from staffcast.scheduler.simulate import FORECAST_BAND, PlanError

    raw = read_table(path, "forecast file", error=PlanError, text=False,
                     required=("unique_id", "ds", *FORECAST_BAND)).frame
    if "model" in raw.columns:
        models = sorted(raw["model"].astype(str).unique())
        if model is None and len(models) > 1:
            raise PlanError(f"{path}: holds several models ({', '.join(models)}); pick one "
                            "with --model")
        if model is not None and model not in models:
            raise PlanError(f"{path}: no rows for model {model!r}; models: "
                            f"{', '.join(models)}")
        raw = raw[raw["model"].astype(str) == (model or models[0])]
    ds = pd.to_datetime(raw["ds"], errors="coerce", format="mixed")
    if ds.isna().any():
        i = int(raw.index[ds.isna().to_numpy()][0])
        raise PlanError(f"{path}: data row {i + 1}, column 'ds': cannot read "
                        f"{raw['ds'].loc[i]!r} as a timestamp")
    band = raw[["unique_id", *FORECAST_BAND]].assign(ds=ds)
    for col in FORECAST_BAND:
        values = pd.to_numeric(band[col], errors="coerce")
        if values.isna().any():
            i = int(band.index[values.isna().to_numpy()][0])
            raise PlanError(f"{path}: data row {i + 1}, column {col!r}: must be a number, "
                            f"got {raw[col].loc[i]!r}")
        band[col] = values.clip(lower=0.0)
    return band


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
@click.option("--forecast", "forecast_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Forecast CSV (yhat, yhat_lo_80, yhat_hi_80): draw each replication's "
                   "volumes from the 80% band instead of using the planned volume.")
@click.option("--model", help="Model of the --forecast file, when it holds several.")
@click.option("--volume-shock", default="day", show_default=True,
              type=click.Choice(("day", "interval")),
              help="With --forecast: one forecast error per day (busy all day) or an "
                   "independent one per interval.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write simulation_intervals.csv, simulation_days.csv and "
                   "simulation.json (default: the plan folder).")
def simulate_command(plan_dir: Path, replications: int, seed: int, handle_dist: str,
                     handle_cv: float, sl_seconds: float | None, patience_s: float | None,
                     forecast_path: Path | None, model: str | None, volume_shock: str,
                     out_dir: Path | None) -> None:
    """Simulate the plan's queues contact by contact and report the service level, ASA and
    abandonment it really delivers, per interval and per day, with 95% confidence
    intervals and the Erlang figure next to each."""
    from staffcast.outputs import add_to_manifest, verify

    verify(plan_dir, names=PLAN_INPUTS)
    forecast = None if forecast_path is None else read_forecast_band(forecast_path, model)
    click.echo(run_simulation(plan_dir, replications=replications, seed=seed,
                              handle_dist=handle_dist, handle_cv=handle_cv,
                              sl_seconds=sl_seconds, patience_s=patience_s, forecast=forecast,
                              forecast_path=forecast_path, model=model,
                              volume_shock=volume_shock, out_dir=out_dir))
    if out_dir is None or Path(out_dir).resolve() == Path(plan_dir).resolve():
        add_to_manifest(plan_dir, {name: Path(plan_dir) / name for name in OUTPUT_FILES})


def run_simulation(plan_dir: Path, *, replications: int, seed: int = 0,
                   handle_dist: str = "exponential", handle_cv: float = 1.0,
                   sl_seconds: float | None = None, patience_s: float | None = None,
                   forecast: pd.DataFrame | None = None, forecast_path: Path | None = None,
                   model: str | None = None, volume_shock: str = "day",
                   out_dir: Path | None = None) -> str:
    """Simulate a plan folder, write simulation_intervals.csv, simulation_days.csv and
    simulation.json into `out_dir` (default: the plan folder) and return the day table as
    text (`staffcast.simulation.simulate`)."""
    from staffcast.simulation import simulate

    sim = simulate(plan_dir, replications=replications, seed=seed, handle_dist=handle_dist,
                   handle_cv=handle_cv, sl_seconds=sl_seconds, patience_s=patience_s,
                   forecast=forecast, forecast_path=forecast_path, model=model,
                   volume_shock=volume_shock)
    target = out_dir or plan_dir
    sim.write(target)
    return sim.table(target)


def simulate_option(command):
    """--simulate N for `plan` and `whatif`: check each written plan by simulation."""
    return click.option(
        "--simulate", "simulate_replications", default=0, show_default=True,
        type=click.IntRange(min=0),
        help="Also simulate each plan with this many replications (0 = no simulation); "
             "writes simulation_days.csv, simulation_intervals.csv and simulation.json "
             "into the plan folder.")(command)


COMMANDS: tuple[click.Command, ...] = (simulate_command,)

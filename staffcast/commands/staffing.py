"""`staffcast` commands: staffing (`staffcast erlang`, `staffcast requirements`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import pandas as pd

from staffcast.scheduler.export import atomic_write_csv, atomic_write_text
from staffcast.scheduler.requirements import QueueStaffing, staff_interval
from staffcast.config import dump_resolved, load_config
from staffcast.errors import StaffcastError
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
    requirements_many,
    staffing_settings,
)
from staffcast.tables import check_unique_keys, numeric_column, read_keyed_csv


def forecast_to_volume(path: str | Path, volume_quantile: str = "mean",
                       model: str | None = None) -> pd.DataFrame:
    """Read a forecast CSV (``unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, ...``) and
    return the volume frame ``unique_id, ds, volume`` the scheduler staffs (see
    `staffcast.pipeline.forecast_volume` for the column choice)."""
    path = Path(path)
    if volume_quantile not in QUANTILE_COLUMNS:
        raise StaffcastError(f"volume_quantile must be one of {', '.join(QUANTILE_COLUMNS)}, "
                             f"got {volume_quantile!r}")
    column = QUANTILE_COLUMNS[volume_quantile]
    raw = read_keyed_csv(path, "forecast file", ["model", column],
                         hint=f" (needed for --volume-quantile {volume_quantile})")
    raw[column] = numeric_column(raw, path, column)
    volume = forecast_volume(raw, volume_quantile, model, source=str(path))
    check_unique_keys(volume, path)
    return volume


def _fmt(value: float, spec: str) -> str:
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


@click.command("erlang")
@click.option("--volume", type=float, required=True,
              help="Contacts arriving in the interval.")
@click.option("--interval-s", type=float, default=1800.0, show_default=True,
              help="Interval length in seconds.")
@click.option("--aht-s", type=float, required=True,
              help="Average handle time in seconds (for chat: one chat at a time).")
@click.option("--sl-target", type=float, default=None,
              help="Service-level target, share answered within --sl-seconds (e.g. 0.8).")
@click.option("--sl-seconds", type=float, default=None,
              help="Service-level threshold in seconds (e.g. 20).")
@click.option("--max-asa-s", type=float, default=None,
              help="Ceiling on the average speed of answer, seconds.")
@click.option("--max-occupancy", type=float, default=None,
              help="Ceiling on agent occupancy, in (0, 1].")
@click.option("--shrinkage", type=float, default=0.0, show_default=True,
              help="Total shrinkage, share of paid time off the phones, in [0, 1).")
@click.option("--patience-s", type=float, default=None,
              help="Mean caller patience in seconds: use Erlang A and report abandonment.")
@click.option("--max-abandon", type=float, default=None,
              help="Ceiling on the abandoned share (needs --patience-s).")
@click.option("--concurrency", type=int, default=1, show_default=True,
              help="Chats per agent at once (more than 1 means a chat queue).")
@click.option("--concurrency-aht-factor", type=float, default=0.0, show_default=True,
              help="Slow-down per extra concurrent chat, share of --aht-s, in [0, 1].")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object instead of text.")
def erlang_command(volume, interval_s, aht_s, sl_target, sl_seconds, max_asa_s, max_occupancy,
                   shrinkage, patience_s, max_abandon, concurrency, concurrency_aht_factor,
                   as_json):
    """Agents needed for one interval (Erlang C, or Erlang A with --patience-s)."""
    q = QueueStaffing(
        aht_s=aht_s, channel="chat" if concurrency > 1 else "voice", sl_target=sl_target,
        sl_seconds=sl_seconds, max_asa_s=max_asa_s, max_occupancy=max_occupancy,
        patience_s=patience_s, max_abandon=max_abandon, concurrency=concurrency,
        concurrency_aht_factor=concurrency_aht_factor,
        shrinkage={"total": shrinkage} if shrinkage else {})
    res = staff_interval(volume, interval_s, q)
    keys = ["agents", "agents_with_shrinkage", "service_level", "asa_s", "occupancy", "p_wait"]
    if patience_s is not None:
        keys.append("abandon_rate")
    if as_json:
        click.echo(json.dumps({k: None if isinstance(res[k], float) and math.isnan(res[k])
                               else res[k] for k in keys}))
        return
    model = "Erlang A" if patience_s is not None else "Erlang C"
    slots = f" ({res['agents'] * concurrency} chat slots)" if concurrency > 1 else ""
    lines = [
        f"traffic               {res['erlangs']:.3f} Erlangs ({model})",
        f"agents                {res['agents']}{slots}",
        f"{f'with {shrinkage:.0%} shrinkage':<22}{res['agents_with_shrinkage']}",
        f"service level         {_fmt(res['service_level'], '.1%')}"
        + (f" within {sl_seconds:g} s" if sl_seconds is not None else ""),
        f"ASA                   {_fmt(res['asa_s'], '.1f')} s",
        f"occupancy             {_fmt(res['occupancy'], '.1%')}",
        f"probability of wait   {_fmt(res['p_wait'], '.1%')}",
    ]
    if patience_s is not None:
        lines.append(f"abandonment           {_fmt(res['abandon_rate'], '.2%')}")
    click.echo("\n".join(lines))


@click.command("requirements")
@click.option("--forecast", "forecast_path", type=click.Path(dir_okay=False), required=True,
              help="Forecast CSV: unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, ...")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="YAML config with a staffing block per queue (see configs/example.yaml).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="Requirement CSV to write (the resolved config is written next to it).")
@click.option("--interval-minutes", type=click.Choice(["15", "30", "60"]), default="30",
              show_default=True, help="Length of a staffing interval.")
@click.option("--volume-quantile", type=click.Choice(list(QUANTILE_COLUMNS)), default=None,
              help="Staff to yhat (mean) or the upper 80/95% bound [default: the config's "
                   "forecast.volume_quantile].")
@click.option("--model", default=None,
              help="Model to staff for when the forecast holds several.")
@engine_options
def requirements_command(forecast_path, config_path, out_path, interval_minutes,
                         volume_quantile, model, workers, scheduler):
    """Agents needed per queue and interval, from a forecast and the queue settings.

    Queues run in parallel on Dask when there are several; a failing queue is listed on
    stderr and in <out>.failures.csv, and the others complete."""
    config = load_config(config_path)
    quantile = volume_quantile or config.forecast.volume_quantile
    volume = forecast_to_volume(forecast_path, quantile, model)
    names = sorted(volume["unique_id"].unique())
    queues, hours = staffing_settings(config, names)
    with open_engine(workers, scheduler, tasks=len(names)) as engine:
        req, failures = requirements_many(volume, queues, interval_minutes=int(interval_minutes),
                                          opening_hours=hours, engine=engine)
    out = atomic_write_csv(req, out_path)
    atomic_write_text(out.with_name(out.stem + ".config.yaml"), dump_resolved(config))
    problems = problems_frame(failures=failures)
    report_problems(problems, f"{out}.failures.csv")
    names = sorted(req["unique_id"].unique())
    peak = req.groupby("unique_id", observed=True)["agents_required"].max()
    click.echo(f"wrote {out} ({len(req)} rows, {len(names)} queues, volume column "
               f"{QUANTILE_COLUMNS[quantile]}); peak agents required: "
               + ", ".join(f"{q} {int(v)}" for q, v in peak.items()))
    exit_if_lost(problems, f"{out}.failures.csv")


COMMANDS: tuple[click.Command, ...] = (erlang_command, requirements_command)

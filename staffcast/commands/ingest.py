"""`staffcast ingest`: raw contact logs -> history.csv (and the queues' patience).

A thin shell over `staffcast.forecasting.ingest.ingest`: resolve the interval and time zone against the
config, stream the logs with a progress line on stderr, write the history and the patience
table atomically, print what was read, dropped and estimated.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


def patience_path(out_path: Path) -> Path:
    """Where the patience table goes: beside the history, `<stem>.patience.csv`."""
    return out_path.with_name(f"{out_path.stem}.patience.csv")


@click.command("ingest")
@click.option("--contacts", "contacts", multiple=True, required=True,
              type=click.Path(exists=True, path_type=Path),
              help="Contact log CSV/Parquet (one row per contact: queue, arrived_at, "
                   "answered_at, ended_at; answered_at blank when abandoned), or a folder of "
                   "them; repeat for several.")
@click.option("--interval-minutes", type=int, default=None,
              help="Interval to count contacts in, minutes dividing the day [default: the "
                   "config's forecast.interval_minutes, else 60].")
@click.option("--timezone", default=None,
              help="IANA time zone of the queues (e.g. Asia/Shanghai): offset-aware "
                   "timestamps are converted to it, naive ones taken as local [default: the "
                   "config's timezone; without one, offset-aware timestamps are an error].")
@click.option("--columns", "columns", multiple=True,
              help="Map the log's column names: queue=skill_name,arrived_at=created,...")
@click.option("--on-bad", type=click.Choice(["error", "drop"]), default="error",
              show_default=True,
              help="A row breaking a rule (answered before arrival, ends before it starts, "
                   "handle time over 24 h, ...): stop with one line naming it, or drop it "
                   "and count it.")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path), default=None,
              help="YAML config (timezone, forecast.interval_minutes).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True,
              help="History CSV: unique_id, ds, y, answered, abandoned, aht_s, asa_s; the "
                   "patience table goes to <out stem>.patience.csv beside it.")
def ingest_command(contacts, interval_minutes, timezone, columns, on_bad, config_path,
                   out_path):
    """Turn raw contact logs into an interval history with handle and wait times."""
    from staffcast.forecasting.ingest import ingest, ingest_summary, parse_column_map
    from staffcast.scheduler.export import atomic_write_csv
    from staffcast.config import load_config

    config = load_config(config_path)
    interval = interval_minutes or config.forecast.interval_minutes or 60
    zone = timezone or config.timezone
    started = time.perf_counter()
    interactive = sys.stderr.isatty()

    def progress(rows: int, done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 1.0
        line = (f"ingest: {rows:,} rows, {share:5.1%} of {total / 1e6:,.0f} MB, "
                f"{time.perf_counter() - started:4.0f} s")
        click.echo(("\r" + line) if interactive else line, err=True, nl=not interactive)

    result = ingest(list(contacts), interval_minutes=interval, timezone=zone,
                    columns=parse_column_map(columns), on_bad=on_bad, progress=progress)
    if interactive:
        click.echo("", err=True)
    atomic_write_csv(result.history, out_path)
    atomic_write_csv(result.patience, patience_path(out_path))
    for line in ingest_summary(result):
        click.echo(line)
    click.echo(f"wrote {len(result.history)} rows ({interval}-minute intervals) to {out_path} "
               f"and patience to {patience_path(out_path)} in "
               f"{time.perf_counter() - started:.1f} s")


COMMANDS: tuple[click.Command, ...] = (ingest_command,)

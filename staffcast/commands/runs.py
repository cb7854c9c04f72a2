"""`staffcast actuals` and `staffcast runs list|show|diff`: load what really happened into
the run store, and read back what earlier runs recorded (docs/runs.md).

`actuals` writes; `runs` only reads, opening the store read-only.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click
import pandas as pd

from staffcast.config import load_config
from staffcast.store import RUN_KINDS, RunStore, default_store_path, fingerprint

_STORE_READ_HELP = "Run store (DuckDB) to read [default: $STAFFCAST_STORE, else " \
                   ".staffcast/runs.duckdb]."
_SHA = 12  # sha256 characters shown: enough to tell inputs apart at a glance


def _read_store_option(command):
    return click.option("--store", "store_path", default=None,
                        type=click.Path(dir_okay=False, path_type=Path),
                        help=_STORE_READ_HELP)(command)


def _open(store_path: Path | None) -> RunStore:
    return RunStore(store_path or default_store_path(), read_only=True)


@click.command("actuals")
@click.option("--history", "history_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="History CSV/Parquet of what really happened: ds, y and optional "
                   "unique_id (hourly counts), checked as `forecast` checks its history.")
@click.option("--store", "store_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Run store (DuckDB) to load the actuals into [default: $STAFFCAST_STORE, "
                   "else .staffcast/runs.duckdb].")
@click.option("--config", "config_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML config: its per-queue opening hours say which missing hours are "
                   "closed (zero contacts).")
@click.option("--calendar", "calendar_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Calendar CSV/YAML: hours inside its closure events are zero contacts.")
@click.option("--fill-missing", type=click.Choice(["error", "zero"]), default=None,
              help="Missing hours inside the history: an error listing them, or zero "
                   "[default: the config's forecast.fill_missing, else error].")
def actuals_command(history_path, store_path, config_path, calendar_path, fill_missing):
    """Load actual hourly contacts into the run store; an hour loaded before is replaced."""
    from staffcast.forecasting.calendar import load_calendar
    from staffcast.forecasting.data import load_history

    config = load_config(config_path)
    opening_hours = {name: q.opening_hours for name, q in config.queues.items()
                     if q.opening_hours is not None}
    closures = (load_calendar(calendar_path, country=None).closed_hours
                if calendar_path is not None else None)
    history = load_history(history_path, opening_hours=opening_hours,
                           fill_missing=fill_missing or config.forecast.fill_missing,
                           closed_dates=closures, min_hours=1)
    store = store_path or default_store_path()
    with RunStore(store) as opened:
        load = opened.add_actuals(history, source=fingerprint("history", history_path))
    click.echo(f"actuals load {load.load_id} into {store}: {load.rows} hour(s) read from "
               f"{history_path}, {load.new_rows} new, {load.replaced_rows} replaced "
               f"({load.changed_rows} with a changed value); "
               f"{history['unique_id'].nunique()} queue(s), "
               f"{history['ds'].min():%Y-%m-%d %H:%M} to {history['ds'].max():%Y-%m-%d %H:%M}")


@click.group("runs")
def runs_group():
    """List, show and compare the runs recorded in the run store."""


def _inputs_text(inputs: pd.DataFrame) -> str:
    return " ".join(f"{row.name}:{row.sha256[:8]}" for row in inputs.itertuples(index=False))


def _stamp(value) -> str:
    return "" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


@runs_group.command("list")
@_read_store_option
@click.option("--kind", type=click.Choice(list(RUN_KINDS)), default=None,
              help="Only runs of this kind.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many runs, newest first.")
def list_command(store_path, kind, limit):
    """The recorded runs, newest first: id, kind, when, status, model, horizon, queues and
    short input fingerprints."""
    with _open(store_path) as store:
        runs = store.runs()
        inputs = store.query("SELECT run_id, name, sha256 FROM run_inputs ORDER BY run_id, name")
        path = store.path
    if kind is not None:
        runs = runs[runs["kind"] == kind]
    if runs.empty:
        click.echo(f"no {kind + ' ' if kind else ''}runs in {path}")
        return
    shown = runs.head(limit)
    table = pd.DataFrame({
        "id": shown["run_id"].astype(int),
        "kind": shown["kind"],
        "created": shown["created_at"].map(_stamp),
        "status": shown["status"],
        "model": shown["model"].fillna(""),
        "horizon": [f"{_stamp(a)} to {_stamp(b)}" if pd.notna(a) else ""
                    for a, b in zip(shown["horizon_start"], shown["horizon_end"])],
        "queues": shown["n_queues"].fillna(0).astype(int),
        "inputs": [_inputs_text(inputs[inputs["run_id"] == rid]) for rid in shown["run_id"]],
    })
    click.echo(table.to_string(index=False))
    if len(runs) > limit:
        click.echo(f"({len(runs) - limit} older run(s) not shown; --limit to see more)")


def forecast_totals(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Contacts over the horizon per queue and model (`unique_id, model, hours,
    contacts`) from a run's forecast rows."""
    return (forecasts.groupby(["unique_id", "model"], sort=True)
            .agg(hours=("ds", "size"), contacts=("yhat", "sum")).reset_index())


def requirement_hours(requirements: pd.DataFrame) -> pd.DataFrame:
    """Agent-hours required per scenario and queue (`scenario, unique_id, agent_hours`):
    agents required in each interval times its length in hours."""
    frame = requirements.assign(agent_hours=requirements["agents_required"]
                                * requirements["interval_minutes"] / 60.0)
    return (frame.groupby(["scenario", "unique_id"], sort=True)["agent_hours"].sum()
            .reset_index())


_SCHEDULE_SHOWN = ["scenario", "status", "solver", "labour_cost", "paid_hours",
                   "shortfall_agent_hours", "mip_gap"]


def _block(title: str, frame: pd.DataFrame, empty: str = "none") -> str:
    if frame.empty:
        return f"{title}: {empty}"
    body = frame.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:,.2f}")
    return f"{title}:\n" + "\n".join(f"  {line}" for line in body.splitlines())


@runs_group.command("show")
@click.argument("run_id", type=int)
@_read_store_option
@click.option("--config", "show_config", is_flag=True,
              help="Print the run's resolved config (YAML) instead of its facts.")
def show_command(run_id, store_path, show_config):
    """One run: its facts, inputs, forecast totals, requirement agent-hours, schedules and
    failures."""
    with _open(store_path) as store:
        run = store.run(run_id)
        if show_config:
            click.echo(run["config_yaml"] or f"run {run_id} recorded no config", nl=False)
            return
        inputs = store.table("run_inputs", run_id)
        forecasts = store.table("forecasts", run_id)
        requirements = store.table("requirements", run_id)
        schedules = store.table("schedules", run_id)
        failures = store.table("failures", run_id)
    horizon = (f"{_stamp(run['horizon_start'])} to {_stamp(run['horizon_end'])}"
               if pd.notna(run["horizon_start"]) else "none")
    lines = [(f"run {run_id}: {run['kind']}, status {run['status']}, created "
             f"{_stamp(run['created_at'])} (staffcast {run['staffcast_version']})"),
             f"command: {run['command']}",
             (f"model: {run['model'] or 'none'}; horizon: {horizon}; "
             f"queues: {int(run['n_queues'] or 0)}")]
    shown_inputs = inputs.assign(sha256=inputs["sha256"].str[:_SHA])[
        ["name", "path", "sha256", "bytes"]] if len(inputs) else inputs
    blocks = [_block("inputs", shown_inputs)]
    if len(forecasts):
        blocks.append(_block("forecast totals (contacts over the horizon)",
                             forecast_totals(forecasts)))
    if len(requirements):
        blocks.append(_block("requirements (agent-hours)", requirement_hours(requirements)))
    if len(schedules):
        shown = schedules[_SCHEDULE_SHOWN].rename(columns={"mip_gap": "mip_gap_%"})
        shown["mip_gap_%"] = 100 * shown["mip_gap_%"]  # a fraction; 2 decimals hid it
        blocks.append(_block("schedules", shown))
    blocks.append(_block("failures", failures))
    click.echo("\n".join(lines + blocks))


def _side_by_side(left: pd.DataFrame, right: pd.DataFrame, keys: list[str], value: str,
                  a: int, b: int) -> pd.DataFrame:
    """`keys`, value in run a, value in run b, change and change % (NaN where a side has
    no row or run a's value is zero)."""
    merged = left[keys + [value]].rename(columns={value: f"run {a}"}).merge(
        right[keys + [value]].rename(columns={value: f"run {b}"}), on=keys, how="outer")
    before, after = merged[f"run {a}"], merged[f"run {b}"]
    merged["change"] = after - before
    merged["change %"] = (100.0 * merged["change"] / before.where(before != 0)).round(2)
    return merged.sort_values(keys).reset_index(drop=True)


_DIFFED_METRICS = ("labour_cost", "paid_hours", "shortfall_agent_hours")


def _schedule_metrics(schedules: pd.DataFrame) -> pd.DataFrame:
    """`scenario, metric, value`: each schedule's cost, paid hours and shortfall
    (agent-hours), metrics in that order within a scenario."""
    long = schedules.melt(id_vars="scenario", value_vars=list(_DIFFED_METRICS),
                          var_name="metric", value_name="value")
    # Ordered categories keep the metrics in this order when the diff sorts its rows.
    return long.astype({"value": float, "metric": pd.CategoricalDtype(_DIFFED_METRICS,
                                                                      ordered=True)})


def _input_changes(left: pd.DataFrame, right: pd.DataFrame, a: int, b: int) -> list[str]:
    old = dict(zip(left["name"], left["sha256"]))
    new = dict(zip(right["name"], right["sha256"]))
    lines = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            lines.append(f"  {name}: only in run {a} ({old[name][:_SHA]})")
        elif name not in old:
            lines.append(f"  {name}: only in run {b} ({new[name][:_SHA]})")
        elif old[name] != new[name]:
            lines.append(f"  {name}: changed {old[name][:_SHA]} -> {new[name][:_SHA]}")
        else:
            lines.append(f"  {name}: same ({old[name][:_SHA]})")
    return lines or ["  none recorded"]


@runs_group.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@_read_store_option
def diff_command(run_a, run_b, store_path):
    """Compare two runs on what they share: inputs (by sha256), resolved config (unified
    diff), forecast totals, requirement agent-hours and schedules, run A then run B."""
    if run_a == run_b:
        raise click.UsageError(f"runs diff compares two different runs, got run {run_a} twice")
    with _open(store_path) as store:
        runs = {rid: store.run(rid) for rid in (run_a, run_b)}
        tables = {rid: {name: store.table(name, rid) for name in
                        ("run_inputs", "forecasts", "requirements", "schedules")}
                  for rid in (run_a, run_b)}
    ta, tb = tables[run_a], tables[run_b]
    out = [(f"run {run_a} ({runs[run_a]['kind']}, {_stamp(runs[run_a]['created_at'])}) vs "
           f"run {run_b} ({runs[run_b]['kind']}, {_stamp(runs[run_b]['created_at'])})"),
           "inputs:", *_input_changes(ta["run_inputs"], tb["run_inputs"], run_a, run_b)]
    config_diff = list(difflib.unified_diff(
        (runs[run_a]["config_yaml"] or "").splitlines(),
        (runs[run_b]["config_yaml"] or "").splitlines(),
        fromfile=f"run {run_a} config", tofile=f"run {run_b} config", lineterm=""))
    out.append("config: identical" if not config_diff else "config:")
    out.extend(f"  {line}" for line in config_diff)
    if len(ta["forecasts"]) and len(tb["forecasts"]):
        out.append(_block("forecast totals (contacts over each run's horizon)", _side_by_side(
            forecast_totals(ta["forecasts"]), forecast_totals(tb["forecasts"]),
            ["unique_id", "model"], "contacts", run_a, run_b)))
    if len(ta["requirements"]) and len(tb["requirements"]):
        out.append(_block("requirements (agent-hours)", _side_by_side(
            requirement_hours(ta["requirements"]), requirement_hours(tb["requirements"]),
            ["scenario", "unique_id"], "agent_hours", run_a, run_b)))
    if len(ta["schedules"]) and len(tb["schedules"]):
        out.append(_block("schedules", _side_by_side(
            _schedule_metrics(ta["schedules"]), _schedule_metrics(tb["schedules"]),
            ["scenario", "metric"], "value", run_a, run_b)))
    click.echo("\n".join(out))


COMMANDS: tuple[click.Command, ...] = (actuals_command, runs_group)

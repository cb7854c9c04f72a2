"""`staffcast accuracy` and `staffcast reforecast`: how good the recorded forecasts were
once the actuals arrived, and the rest of today rescaled from the actuals so far
(docs/accuracy.md).

`accuracy` only reads the run store (opened read-only). `reforecast` reads its morning
forecast from a file, the store or a fresh fit, and records the re-forecast in the store.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from staffcast.scheduler.export import atomic_write_csv, atomic_write_text
from staffcast import console
from staffcast.config import Config, load_config
from staffcast.errors import StaffcastError
from staffcast.recording import (
    command_line,
    record_forecast_run,
    recorded_message,
    store_option,
)
from staffcast.store import (
    RunStore,
    default_store_path,
)
from staffcast.tableio.reader import read_table

_PATH = click.Path(dir_okay=False, path_type=Path)
_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)
_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)


def _percent(value: float, signed: bool = False) -> str:
    if pd.isna(value):
        return "-"
    return f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"


def format_report(report) -> str:
    """The printed summary of an `AccuracyReport`: forecast accuracy by week, queue and
    model (pooled over runs), staffing over/under agent-hours per run, waiting runs, notes."""
    runs = report.runs
    compared = runs[runs["status"] == "compared"]
    waiting = runs[runs["status"] == "waiting"]
    lines = [(f"accuracy: {len(compared)} run(s) compared, {len(waiting)} waiting for actuals; "
             f"actuals up to {report.latest_actual:%Y-%m-%d %H:%M}; runs whose horizon "
             f"starts from {report.since:%Y-%m-%d %H:%M}")]
    if len(report.by_week):
        week = report.by_week
        table = pd.DataFrame({
            "week": week["week"].dt.strftime("%Y-%m-%d"), "queue": week["unique_id"],
            "model": week["model"], "runs": week["runs"], "hours": week["hours"],
            "WAPE %": week["wape"].map(_percent),
            "bias %": week["bias"].map(lambda v: _percent(v, signed=True)),
            "cover80 %": week["coverage_80"].map(_percent),
            "cover95 %": week["coverage_95"].map(_percent),
            "IS80": week["interval_score_80"].map(
                lambda v: "-" if pd.isna(v) else f"{v:,.1f}")})
        lines += ["", "forecast accuracy by week of the target hour (pooled over runs):",
                  table.to_string(index=False)]
    if len(report.staffing):
        staff = report.staffing

        def hours(column):
            return staff[column].map(lambda v: "-" if pd.isna(v) else f"{v:,.1f}")

        table = pd.DataFrame({
            "run": staff["run_id"], "scenario": staff["scenario"],
            "queue": staff["unique_id"], "model": staff["model"],
            "intervals": staff["intervals"], "over": hours("over_staffed_agent_hours"),
            "under": hours("under_staffed_agent_hours"),
            "roster over": hours("roster_over_agent_hours"),
            "roster under": hours("roster_under_agent_hours")})
        lines += ["", ("staffing against what the actuals needed (agent-hours; 'roster' = "
                  "scheduled agents):"), table.to_string(index=False)]
    for row in waiting.itertuples(index=False):
        span = (f"{row.horizon_start:%Y-%m-%d %H:%M} to {row.horizon_end:%Y-%m-%d %H:%M}"
                if pd.notna(row.horizon_start) else "no horizon")
        lines.append(f"waiting: run {row.run_id} ({row.kind}, {span}) has no actuals yet")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


@click.command("accuracy")
@click.option("--store", "store_path", default=None, type=_PATH,
              help="Run store (DuckDB) to read [default: $STAFFCAST_STORE, else "
                   ".staffcast/runs.duckdb].")
@click.option("--weeks", type=click.IntRange(min=1), default=8, show_default=True,
              help="Compare runs whose horizon starts at most this many weeks before the "
                   "latest actual.")
@click.option("--out", "out_path", type=_PATH, default=None,
              help="CSV of whole-horizon metrics: run_id, unique_id, model, metric, value "
                   "(wape, bias, coverage_80, coverage_95, interval_score_80, "
                   "interval_score_95, mae, hours, actual_total, "
                   "forecast_total and the staffing agent-hours).")
@click.option("--detail-out", "detail_path", type=_PATH, default=None,
              help="CSV of the same metrics by week and horizon day: run_id, unique_id, "
                   "model, week, horizon_day, metric, value.")
@console.json_option
def accuracy_command(store_path, weeks, out_path, detail_path, as_json):
    """Compare each recorded forecast with the actuals that arrived later: WAPE, bias and
    interval coverage by week, queue, model and horizon, and over- and under-staffed
    agent-hours."""
    from staffcast.accuracy import accuracy

    with RunStore(store_path or default_store_path(), read_only=True) as store:
        report = accuracy(store, weeks=weeks)
    say = console.info if as_json else click.echo
    if as_json:
        console.emit_json(accuracy_json(report))
    else:
        click.echo(format_report(report))
    if out_path is not None:
        atomic_write_csv(report.metrics, out_path)
        say(f"wrote {len(report.metrics)} metric rows to {out_path}")
    if detail_path is not None:
        atomic_write_csv(report.detail.assign(week=report.detail["week"].dt.strftime(
            "%Y-%m-%d")), detail_path)
        say(f"wrote {len(report.detail)} detail rows to {detail_path}")


def accuracy_json(report) -> dict:
    """The `accuracy --json` object: the window, each run's status, the pooled weekly
    table (WAPE, bias and coverage as shares) and the notes."""
    def records(frame: pd.DataFrame) -> list[dict]:
        out = frame.copy()
        for col in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M")
        return out.to_dict(orient="records")

    return {"command": "accuracy",
            "latest_actual": None if pd.isna(report.latest_actual)
            else f"{report.latest_actual:%Y-%m-%d %H:%M}",
            "since": None if pd.isna(report.since) else f"{report.since:%Y-%m-%d %H:%M}",
            "runs": records(report.runs), "by_week": records(report.by_week),
            "notes": list(report.notes)}


# ---------------------------------------------------------------- reforecast

def parse_as_of(text: str) -> pd.Timestamp:
    """`--as-of` as a naive timestamp on a whole minute (reforecast checks it starts an
    interval of the forecast)."""
    try:
        as_of = pd.Timestamp(text)
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(f"must be a time like '2026-11-11 10:00', got {text!r}",
                                 param_hint="--as-of") from exc
    if as_of.tzinfo is not None or as_of != as_of.floor("min"):
        raise click.BadParameter(f"must be a local time on a whole minute (an interval start "
                                 f"such as 10:00 or 10:30), got {text!r}",
                                 param_hint="--as-of")
    return as_of


def check_as_of(history: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """The interval before `as_of` must lie inside every queue's history (its actual is
    the latest the re-forecast learns from)."""
    for uid, ds in history.groupby("unique_id", sort=True)["ds"]:
        first, last = ds.min(), ds.max()
        gaps = ds.sort_values().diff().dropna()
        step = gaps.min() if len(gaps) else _HOUR
        if as_of != as_of.floor(step):
            what = ("on the hour (minute 0)" if step == _HOUR else
                    f"at the start of a {step.total_seconds() / 60:g}-minute interval")
            raise click.BadParameter(f"must be a local time {what} for queue {uid!r}'s "
                                     f"history, got {as_of:%Y-%m-%d %H:%M}",
                                     param_hint="--as-of")
        if not first <= as_of - step <= last:
            raise StaffcastError(f"--as-of {as_of:%Y-%m-%d %H:%M} is outside the history of "
                                 f"queue {uid!r} ({first:%Y-%m-%d %H:%M} to "
                                 f"{last:%Y-%m-%d %H:%M}): the interval before it must have "
                                 "an actual")


def _pick_model(frame: pd.DataFrame, model: str | None, source: str) -> pd.DataFrame:
    models = sorted(frame["model"].astype(str).unique())
    if model is not None:
        if model not in models:
            raise StaffcastError(f"{source} has no rows for model {model!r}; models: "
                                 f"{', '.join(models) or 'none'}")
        return frame[frame["model"].astype(str) == model]
    if len(models) > 1:
        raise StaffcastError(f"{source} holds several models ({', '.join(models)}); pick one "
                             "with --model")
    return frame


def _full_days(frame: pd.DataFrame, queues: list[str]) -> bool:
    """Does `frame` (one day) hold every interval of the day for every queue, at its own
    interval (24 hours, 48 half hours, ...)?"""
    counts = frame.groupby("unique_id")["ds"].nunique()
    gaps = frame.groupby("unique_id")["ds"].diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    per_day = int(_DAY / gaps.min()) if len(gaps) else 24
    return all(counts.get(q, 0) == per_day for q in queues)


def morning_from_file(path: Path, day: pd.Timestamp, model: str | None) -> pd.DataFrame:
    """The day's rows of a forecast CSV (the forecast contract)."""
    frame = read_table(path, "forecast file", error=StaffcastError, text=False,
                       required=("ds",), hint="; a forecast CSV has unique_id, ds, model, yhat "
                                           "and the bands").frame
    frame = frame.astype({c: "string" for c in ("unique_id", "model") if c in frame.columns})
    ds = pd.to_datetime(frame["ds"], errors="coerce", format="mixed")
    if ds.isna().any():
        i = int(ds.isna().to_numpy().argmax())
        raise StaffcastError(f"{path}: data row {i + 1} (line {i + 2}), column 'ds': cannot "
                             f"read {frame['ds'].iloc[i]!r} as a timestamp")
    frame["ds"] = ds
    frame = frame[(frame["ds"] >= day) & (frame["ds"] < day + _DAY)]
    if frame.empty:
        raise StaffcastError(f"{path}: no forecast covers {day:%Y-%m-%d}")
    return _pick_model(frame, model, str(path))


def morning_from_store(store_path: Path, day: pd.Timestamp, queues: list[str],
                       model: str | None) -> tuple[int, pd.DataFrame] | None:
    """(run id, rows) of the newest run in the store whose forecast covers every hour of
    `day` for every queue and was made from history ending before the day; None if none."""
    with RunStore(store_path, read_only=True) as store:
        rows = store.query(
            "SELECT f.run_id, r.model AS run_model, f.unique_id, f.ds, f.model, f.yhat, "
            "f.yhat_lo_80, f.yhat_hi_80, f.yhat_lo_95, f.yhat_hi_95 FROM forecasts f JOIN "
            "runs r USING (run_id) WHERE r.kind <> 'reforecast' AND f.ds >= ? AND f.ds < ? "
            "AND f.origin < ? ORDER BY f.run_id DESC, f.unique_id, f.ds",
            [day.to_pydatetime(), (day + _DAY).to_pydatetime(), day.to_pydatetime()])
    for run_id, run_rows in rows.groupby("run_id", sort=False):
        candidates = [m for m in sorted(run_rows["model"].unique())
                      if (model is None or m == model)
                      and _full_days(run_rows[run_rows["model"] == m], queues)]
        if not candidates:
            continue
        preferred = run_rows["run_model"].iloc[0]
        chosen = (preferred if preferred in candidates else candidates[0]
                  if len(candidates) == 1 else None)
        if chosen is None:
            raise StaffcastError(f"run {run_id} in {store_path} forecasts {day:%Y-%m-%d} with "
                                 f"several models ({', '.join(candidates)}); pick one with --model")
        picked = run_rows[(run_rows["model"] == chosen) & run_rows["unique_id"].isin(queues)]
        return int(run_id), picked.drop(columns=["run_id", "run_model"])
    return None


def morning_fitted(config: Config, history: pd.DataFrame, calendar, day: pd.Timestamp,
                   model: str) -> pd.DataFrame:
    """The day forecast now with `model` from the history strictly before the day."""
    from staffcast.forecasting.core import forecast
    from staffcast.forecasting.data import MIN_HOURS

    before = history[history["ds"] < day]
    ds = pd.DatetimeIndex(history["ds"].drop_duplicates().sort_values())
    step = pd.Timedelta(ds[1] - ds[0]) if len(ds) > 1 else _HOUR
    spans = (before.groupby("unique_id")["ds"].size().reindex(
        history["unique_id"].unique(), fill_value=0) * (step / _HOUR))
    short = spans[spans < MIN_HOURS]
    if len(short):
        raise StaffcastError(
            f"history: queue {short.index[0]!r} has {short.iloc[0]:g} hour(s) before "
            f"{day:%Y-%m-%d}; fitting a morning forecast needs at least {MIN_HOURS} (two "
            "weeks). Give the morning forecast with --forecast, or record a forecast of the "
            "day in the store (--store)")
    horizon = int(np.ceil((day + _DAY - (before["ds"].max() + step)) / _HOUR))
    predicted = forecast(before, horizon=horizon, models=[model], calendar=calendar,
                         queue_settings=config.queue, params=config.forecast.models)
    return predicted[predicted["ds"] >= day].reset_index(drop=True)


@click.command("reforecast")
@click.option("--history", "history_path", type=_EXISTING, required=True,
              help="History CSV/Parquet (ds, y, optional unique_id; hourly counts) holding "
                   "today's actuals up to --as-of.")
@click.option("--as-of", "as_of_text", required=True,
              help="Local time on the hour, e.g. '2026-11-11 10:00': the actuals before it "
                   "rescale every hour from it to the end of its day.")
@click.option("--forecast", "forecast_path", type=_EXISTING, default=None,
              help="Morning forecast CSV covering the day [default: the newest run in the "
                   "store made before the day, else a fit now on the history before the day].")
@store_option
@click.option("--config", "config_path", type=_EXISTING, default=None,
              help="YAML config: per-queue opening hours and rest day, forecast defaults.")
@click.option("--calendar", "calendar_path", type=_EXISTING, default=None,
              help="Calendar CSV/YAML of events merged with the built-in country calendar.")
@click.option("--country", default=None,
              help="Built-in holidays: a holidays country code or 'none' [default: the "
                   "config's forecast.country, else CN].")
@click.option("--fill-missing", type=click.Choice(["error", "zero"]), default=None,
              help="Missing hours inside the history: an error, or zero [default: the "
                   "config's forecast.fill_missing, else error].")
@click.option("--model", default=None,
              help="Model of the morning forecast: picks it from a file or run holding "
                   "several, or fits it [default: the config's forecast.model, else auto].")
@click.option("--out", "out_path", type=_PATH, required=True,
              help="Output CSV: unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, "
                   "yhat_lo_95, yhat_hi_95, yhat_morning, scale_factor.")
def reforecast_command(history_path, as_of_text, forecast_path, store, config_path,
                       calendar_path, country, fill_missing, model, out_path):
    """Re-forecast the rest of today: the morning forecast rescaled by the ratio of actual
    to forecast volume so far, shrunk towards 1 while little of the day has been seen."""
    from staffcast.forecasting.core import check_models
    from staffcast.forecasting.intraday import BAND_COLUMNS, reforecast_day
    from staffcast.commands.forecasting import _resolved, forecast_settings, load_inputs

    as_of = parse_as_of(as_of_text)
    day = as_of.normalize()
    config = load_config(config_path)
    settings = forecast_settings(config, model=model, country=country,
                                 fill_missing=fill_missing)
    check_models([settings["model"]])
    history, calendar = load_inputs(
        config, history_path, False, "ds", None, settings["fill_missing"], calendar_path,
        settings["country"],
        lambda h: max(int((day + _DAY - h["ds"].max()) / _HOUR), 0))
    check_as_of(history, as_of)
    later = int((history["ds"] >= as_of).sum())
    if later:
        click.echo(f"reforecast: {later} history hour(s) from {as_of:%Y-%m-%d %H:%M} on are "
                   "ignored (only the actuals before --as-of count)", err=True)
    queues = sorted(history["unique_id"].astype(str).unique())
    if forecast_path is not None:
        morning = morning_from_file(forecast_path, day, model)
        source = str(forecast_path)
    else:
        found = (morning_from_store(store, day, queues, model)
                 if store is not None and Path(store).is_file() else None)
        if found is not None:
            morning, source = found[1], f"run {found[0]} in {store}"
        else:
            click.echo(f"reforecast: no recorded forecast of {day:%Y-%m-%d}; fitting "
                       f"{settings['model']} on the history before it...", err=True)
            morning = morning_fitted(config, history, calendar, day, settings["model"])
            source = f"{settings['model']} fitted on the history before {day:%Y-%m-%d}"
    today = history[(history["ds"] >= day) & (history["ds"] < as_of)]
    result = reforecast_day(morning, today, as_of)
    atomic_write_csv(result.frame, out_path)
    resolved = _resolved(config, settings, "reforecast")
    atomic_write_text(f"{out_path}.config.yaml", resolved)
    click.echo(f"morning forecast: {source}")
    for scale in result.scales:
        ratio = "-" if scale.ratio is None else f"{scale.ratio:.3f}"
        click.echo(f"queue {scale.unique_id}: actual {scale.actual_so_far:,.0f} vs morning "
                   f"forecast {scale.forecast_so_far:,.0f} before {as_of:%H:%M} (ratio "
                   f"{ratio}, weight {scale.weight:.2f}) -> scale factor {scale.factor:.3f}")
    click.echo(f"wrote {len(result.frame)} rows ({len(result.scales)} queue(s), "
               f"{as_of:%H:%M} to the end of {day:%Y-%m-%d}) to {out_path}")
    if store is not None:
        recorded = result.frame[["unique_id", "ds", "model", "yhat", *BAND_COLUMNS]]
        summary = {"as_of": f"{as_of:%Y-%m-%d %H:%M}", "morning_forecast": source,
                   "scale_factors": {s.unique_id: s.factor for s in result.scales}}
        run_id = record_forecast_run(
            store, command=command_line(), config_yaml=resolved,
            model=str(result.frame["model"].iloc[0]),
            inputs={"history": history_path, "config": config_path,
                    "calendar": calendar_path, "forecast": forecast_path},
            forecasts=recorded, origin=as_of - _HOUR, outputs=out_path, summary=summary,
            kind="reforecast")
        click.echo(recorded_message(run_id, store))


COMMANDS: tuple[click.Command, ...] = (accuracy_command, reforecast_command)

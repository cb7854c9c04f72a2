"""`staffcast` commands: forecasting (`forecast`, `backtest`).

A thin shell over `staffcast.pipeline.forecast_many` and `backtest_many` (the per-queue
functions of `staffcast.forecasting.core` and `staffcast.forecasting.backtest` on the engine of
`staffcast.parallel`): resolve the options against the config file, load history and
calendar, call the library, write the outputs atomically with the resolved config next to
them.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd

from staffcast.scheduler.export import atomic_write_csv, atomic_write_text
from staffcast import console
from staffcast.config import Config, dump_resolved, load_config, with_forecast
from staffcast.parallel import (
    engine_options,
    exit_if_lost,
    open_engine,
    problems_frame,
    report_problems,
)
from staffcast.pipeline import backtest_many, forecast_many
from staffcast.recording import (
    command_line,
    history_ends,
    record_forecast_run,
    recorded_message,
    store_option,
)

_PATH = click.Path(dir_okay=False, path_type=Path)
_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


def _input_options(command: Callable) -> Callable:
    """Options shared by `forecast` and `backtest`: history, calendar, config."""
    options = [
        click.option("--history", "history_path", type=_EXISTING, required=True,
                     help="History CSV/Parquet: ds, y and optional unique_id (counts per "
                          "interval, 5 to 60 minutes; optional aht_s is forecast too), or a "
                          "raw contact log with --events (full logs: staffcast ingest)."),
        click.option("--events", is_flag=True,
                     help="The history file is a contact log, one row per contact; it is "
                          "counted per interval (--interval-minutes, else hourly)."),
        click.option("--timestamp-col", default="ds", show_default=True,
                     help="With --events: the column holding each contact's arrival time."),
        click.option("--queue-col", default=None,
                     help="With --events: the column holding each contact's queue "
                          "(default: one queue named 'default')."),
        click.option("--fill-missing", type=click.Choice(["error", "zero"]), default=None,
                     help="Missing intervals inside the history: an error listing them, or zero "
                          "[default: the config's forecast.fill_missing, else error]."),
        click.option("--calendar", "calendar_path", type=_EXISTING, default=None,
                     help="Calendar CSV/YAML of events (event, start, end, kind, unique_id) "
                          "merged with the built-in country calendar."),
        click.option("--country", default=None,
                     help="Built-in public holidays and adjusted workdays: a country code of "
                          "the holidays package, or 'none' [default: the config's "
                          "forecast.country, else CN]."),
        click.option("--config", "config_path", type=_EXISTING, default=None,
                     help="YAML config: per-queue opening hours and rest day, forecast "
                          "defaults."),
        click.option("--allow-outliers", is_flag=True,
                     help="Keep history values more than 1000x their queue's 99th "
                          "percentile (refused by default as typos or unit errors)."),
        click.option("--interval-minutes", type=int, default=None,
                     help="Forecast at this interval in minutes (it must divide the day and "
                          "be a multiple of the history's, which is summed into it) "
                          "[default: the config's forecast.interval_minutes, else the "
                          "history's own interval]."),
        click.option("--timezone", default=None,
                     help="IANA time zone of the queues (e.g. Asia/Shanghai): offset-aware "
                          "timestamps are converted to it, naive ones are taken as local "
                          "[default: the config's timezone]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_inputs(config: Config, history_path: Path, events: bool, timestamp_col: str,
                queue_col: str | None, fill_missing: str, calendar_path: Path | None,
                country: str, horizon_for: Callable[[pd.DataFrame], int], *,
                allow_outliers: bool = False, interval_minutes: int | None = None,
                timezone: str | None = None):
    """(history frame, calendar), each file read once. `horizon_for(history)` gives the
    hours the run will forecast after the history, so the calendar covers them; a year the
    built-in data lacks is warned about on stderr, and so is anything the loader merged
    (a daylight-saving hour). The loader's two-week minimum span per queue is not applied
    (except for --events): a queue too short to forecast fails on its own in the forecast
    stage and the other queues go on; reforecast needs only today. A value 1000x its
    queue's 99th percentile is refused unless `allow_outliers`. `interval_minutes` and
    `timezone` default to the config's `forecast.interval_minutes` and `timezone`."""
    from staffcast.forecasting.calendar import load_calendar
    from staffcast.forecasting.data import load_events, load_history
    from staffcast.forecasting.sanity import check_outliers

    interval_minutes = interval_minutes or config.forecast.interval_minutes
    timezone = timezone or config.timezone
    opening_hours = {name: q.opening_hours for name, q in config.queues.items()
                     if q.opening_hours is not None}
    calendar = load_calendar(calendar_path, country=country)
    kwargs = dict(opening_hours=opening_hours, fill_missing=fill_missing,
                  closed_dates=calendar.closed_hours, timezone=timezone)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if events:
            history = load_events(history_path, timestamp_col=timestamp_col,
                                  queue_col=queue_col, interval_minutes=interval_minutes or 60,
                                  **kwargs)
        else:
            history = load_history(history_path, min_hours=1,
                                   interval_minutes=interval_minutes,
                                   columns=config.history_columns, **kwargs)
        if not allow_outliers:
            check_outliers(history, str(history_path))
        last = history["ds"].max() + pd.Timedelta(hours=horizon_for(history))
        calendar = calendar.with_years(range(history["ds"].min().year, last.year + 1))
    for warning in caught:
        console.warn(f"Warning: {warning.message}")
    return history, calendar


def interval_label(history: pd.DataFrame) -> str:
    """The history's interval as text, "30-minute intervals" or "hourly intervals"."""
    ds = history["ds"].drop_duplicates().sort_values()
    minutes = int((ds.diff().min() / pd.Timedelta(minutes=1))) if len(ds) > 1 else 60
    return "hourly intervals" if minutes == 60 else f"{minutes}-minute intervals"


def queue_count(history: pd.DataFrame) -> int:
    """How many queues a loaded history holds (the number of per-queue tasks)."""
    return int(history["unique_id"].nunique()) if "unique_id" in history else 1


def forecast_settings(config: Config, **given) -> dict:
    """Each named forecast setting from its command-line option, or from the config's
    `forecast:` section when the option was not given (None)."""
    return {key: getattr(config.forecast, key) if value is None else value
            for key, value in given.items()}


def _resolved(config: Config, settings: dict, command: str) -> str:
    """The config with the options this run used, as YAML headed by the command line."""
    header = f"# resolved config of: staffcast {command} {shlex.join(sys.argv[2:])}\n"
    return dump_resolved(with_forecast(config, **settings), header)


@click.command("forecast")
@_input_options
@click.option("--horizon", type=click.IntRange(min=1), default=None,
              help="Hours to forecast after the end of history [default: the config's "
                   "forecast.horizon, else 168].")
@click.option("--model", default=None,
              help="Model: auto, arima, prophet, histavg or snaive [default: the config's "
                   "forecast.model, else auto].")
@click.option("--out", "out_path", type=_PATH, required=True,
              help="Output CSV: unique_id, ds, model, yhat, yhat_lo_80, yhat_hi_80, "
                   "yhat_lo_95, yhat_hi_95; the resolved config goes to <out>.config.yaml, "
                   "failed queues and model fallbacks to <out>.failures.csv.")
@engine_options
@store_option
@console.json_option
def forecast_command(history_path, events, timestamp_col, queue_col, fill_missing,
                     calendar_path, country, config_path, allow_outliers, interval_minutes,
                     timezone, horizon, model, out_path, workers, scheduler, store, as_json):
    """Forecast contact volume per queue and interval with 80% and 95% intervals (and
    handle time, aht_s, when the history has it).

    Queues run in parallel on Dask when there are several; a queue whose model fails falls
    back to snaive (its rows say so in `model`), a queue that cannot be forecast at all is
    listed and the others complete."""
    from staffcast.forecasting.core import check_models

    config = load_config(config_path)
    settings = forecast_settings(config, model=model, country=country, horizon=horizon,
                                 fill_missing=fill_missing, interval_minutes=interval_minutes)
    check_models([settings["model"]])
    history, calendar = load_inputs(config, history_path, events, timestamp_col, queue_col,
                                    settings["fill_missing"], calendar_path,
                                    settings["country"], lambda _: settings["horizon"],
                                    allow_outliers=allow_outliers,
                                    interval_minutes=settings["interval_minutes"],
                                    timezone=timezone)
    queues = queue_count(history)
    with (open_engine(workers, scheduler, tasks=queues) as engine,
          console.progress(queues, "forecast") as bar):
        many = forecast_many(history, horizon=settings["horizon"], models=[settings["model"]],
                             calendar=calendar, queue_settings=config.queue, engine=engine,
                             on_done=bar.step, timezone=timezone or config.timezone,
                             params=config.forecast.models)
    result = many.predicted
    resolved = _resolved(config, settings, "forecast")
    atomic_write_csv(result, out_path)
    atomic_write_text(f"{out_path}.config.yaml", resolved)
    report_problems(many.problems, f"{out_path}.failures.csv")
    done = result["unique_id"].nunique()
    message = (f"wrote {len(result)} rows ({done} queue(s) x {settings['horizon']} hours "
               f"at {interval_label(history)}, model {settings['model']}) to {out_path}")
    run_id = None
    if store is not None:
        run_id = record_forecast_run(
            store, command=command_line(), config_yaml=resolved, model=settings["model"],
            inputs={"history": history_path, "calendar": calendar_path,
                    "config": config_path},
            forecasts=result, origin=history_ends(history), outputs=out_path,
            failures=many.problems)
        console.info(recorded_message(run_id, store))
    if as_json:
        console.emit_json(_forecast_summary(result, many.problems, settings, out_path, run_id))
    else:
        click.echo(message)
    exit_if_lost(many.problems, f"{out_path}.failures.csv")


def _forecast_summary(result: pd.DataFrame, problems: pd.DataFrame, settings: dict,
                      out_path: Path, run_id) -> dict:
    """The `forecast --json` object: what was written, per-queue totals, and the problems."""
    totals = result.groupby("unique_id", observed=True)["yhat"].sum()
    models = result.groupby("unique_id", observed=True)["model"].first()
    return {
        "command": "forecast", "out": str(out_path), "rows": len(result),
        "horizon_hours": settings["horizon"], "model": settings["model"],
        "first_ds": f"{result['ds'].min():%Y-%m-%d %H:%M}" if len(result) else None,
        "queues": [{"unique_id": str(q), "model": str(models[q]),
                    "total_yhat": float(totals[q])} for q in totals.index],
        "failed": sorted(problems.loc[problems["stage"] != "fallback", "unique_id"]
                         .astype(str)) if len(problems) else [],
        "fell_back": sorted(problems.loc[problems["stage"] == "fallback", "unique_id"]
                            .astype(str)) if len(problems) else [],
        "run_id": run_id,
    }


ALWAYS_SHOWN = ("snaive", "histavg")


@click.command("backtest")
@_input_options
@click.option("--horizon", type=click.IntRange(min=1), default=168, show_default=True,
              help="Hours forecast from each origin.")
@click.option("--windows", type=click.IntRange(min=1), default=8, show_default=True,
              help="Number of rolling origins; the last window ends at the end of history.")
@click.option("--step", type=click.IntRange(min=1), default=None,
              help="Hours between origins [default: the horizon].")
@click.option("--models", "models_text", default="snaive,histavg,arima,auto", show_default=True,
              help="Comma-separated models; snaive and histavg are always added as benchmarks.")
@click.option("--out", "out_path", type=_PATH, required=True,
              help="Output CSV of metrics in long form: unique_id, model, metric, value; "
                   "failed queues go to <out>.failures.csv.")
@engine_options
def backtest_command(history_path, events, timestamp_col, queue_col, fill_missing,
                     calendar_path, country, config_path, allow_outliers, interval_minutes,
                     timezone, horizon, windows, step, models_text, out_path, workers,
                     scheduler):
    """Rolling-origin backtest: MASE, WAPE, bias, 80% coverage and fit time per model."""
    from staffcast.forecasting.core import check_models

    config = load_config(config_path)
    requested = [m.strip() for m in models_text.split(",") if m.strip()]
    models = check_models([*ALWAYS_SHOWN, *(m for m in requested if m not in ALWAYS_SHOWN)])
    settings = forecast_settings(config, country=country, fill_missing=fill_missing,
                                 interval_minutes=interval_minutes)
    history, calendar = load_inputs(config, history_path, events, timestamp_col, queue_col,
                                    settings["fill_missing"], calendar_path,
                                    settings["country"], lambda _: 0,
                                    allow_outliers=allow_outliers,
                                    interval_minutes=settings["interval_minutes"],
                                    timezone=timezone)
    queues = queue_count(history)
    with (open_engine(workers, scheduler, tasks=queues) as engine,
          console.progress(queues, "backtest") as bar):
        _, metrics, failures = backtest_many(
            history, models=models, horizon=horizon, windows=windows, step=step,
            calendar=calendar, queue_settings=config.queue, engine=engine,
            on_done=bar.step, params=config.forecast.models)
    atomic_write_csv(metrics, out_path)
    problems = problems_frame(failures=failures, requested_model=",".join(models))
    report_problems(problems, f"{out_path}.failures.csv")
    settings["horizon"] = horizon
    atomic_write_text(f"{out_path}.config.yaml", _resolved(config, settings, "backtest"))
    click.echo(format_metrics(metrics))
    click.echo(f"wrote {len(metrics)} metric rows to {out_path}")
    exit_if_lost(problems, f"{out_path}.failures.csv")


def format_metrics(metrics: pd.DataFrame) -> str:
    """A readable table per queue: models as rows, metrics as columns (WAPE, bias and
    coverage in percent; interval scores in contacts per hour)."""
    blocks = []
    order = {name: i for i, name in enumerate(dict.fromkeys(metrics["model"]))}
    for uid, sub in metrics.groupby("unique_id", sort=True):
        table = sub.pivot(index="model", columns="metric", values="value")
        table = table.loc[sorted(table.index, key=order.get)]
        shown = pd.DataFrame(index=table.index)
        shown["MASE"] = table["mase"].map("{:.3f}".format)
        shown["WAPE %"] = (100 * table["wape"]).map("{:.2f}".format)
        shown["bias %"] = (100 * table["bias"]).map("{:+.2f}".format)
        shown["cover80 %"] = (100 * table["coverage_80"]).map("{:.1f}".format)
        shown["cover95 %"] = (100 * table["coverage_95"]).map("{:.1f}".format)
        shown["IS80"] = table["interval_score_80"].map("{:.1f}".format)
        shown["IS95"] = table["interval_score_95"].map("{:.1f}".format)
        shown["fit s"] = table["fit_seconds"].map("{:.2f}".format)
        shown.index.name = None
        blocks.append(f"queue {uid}\n{shown.to_string()}")
    return "\n\n".join(blocks)


COMMANDS: tuple[click.Command, ...] = (forecast_command, backtest_command)

"""Recording glue: what `forecast`, `plan` and `whatif` call to put a finished run into the
run store (`staffcast.store`), so each command's wiring is one option and one call.

A run is recorded after its outputs are written. If the store cannot take it (locked by
another process for longer than the wait, not a run store, disk full), the outputs stay
where they are and the error says so: "outputs are in X but the run was not recorded:
<reason>" (a `StoreError`, so the CLI prints one line and exits 1).
"""

from __future__ import annotations

import functools
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click
import pandas as pd

from staffcast.store import (
    InputFile,
    RunRecord,
    RunStore,
    ScheduleRecord,
    StoreError,
    default_store_path,
    fingerprint,
)
from staffcast.tableio.reader import read_table

STORE_HELP = ("Run store (DuckDB) to record this run in [default: $STAFFCAST_STORE, else "
              ".staffcast/runs.duckdb].")


def store_option(command: Callable) -> Callable:
    """Add `--store PATH` and `--no-store` to a click command. The command receives one
    keyword argument, `store`: the store file to record the run in (the option, else
    $STAFFCAST_STORE, else .staffcast/runs.duckdb), or None with `--no-store`."""

    @functools.wraps(command)
    def wrapper(*args, store_path: Path | None, no_store: bool, **kwargs):
        if no_store and store_path is not None:
            raise click.UsageError("--store and --no-store contradict each other; give one")
        store = None if no_store else (store_path or default_store_path())
        return command(*args, store=store, **kwargs)

    wrapper = click.option("--no-store", is_flag=True,
                           help="Record nothing in the run store.")(wrapper)
    return click.option("--store", "store_path", default=None,
                        type=click.Path(dir_okay=False, path_type=Path),
                        help=STORE_HELP)(wrapper)


def command_line() -> str:
    """This process's command line as the user typed it, e.g. "staffcast plan --history
    h.csv ...", for a run's `command`."""
    return shlex.join(["staffcast", *sys.argv[1:]])


def recorded_message(run_id: int, store: Path) -> str:
    """The line a command prints after recording: "recorded run N in <store>"."""
    return f"recorded run {run_id} in {store}"


def history_ends(history: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Each queue's last history hour (`unique_id -> ds`): the origin of its forecast."""
    ends = history.groupby("unique_id", sort=True, observed=True)["ds"].max()
    return {str(uid): pd.Timestamp(ds) for uid, ds in ends.items()}


def _inputs(inputs: Mapping[str, str | os.PathLike[str] | None]) -> list[InputFile]:
    return [fingerprint(name, path) for name, path in inputs.items() if path is not None]


def _with_origin(forecasts: pd.DataFrame,
                 origin: pd.Timestamp | Mapping[str, pd.Timestamp]) -> pd.DataFrame:
    """`forecasts` plus `origin`: one timestamp for all queues, or per queue."""
    if isinstance(origin, Mapping):
        uid = forecasts["unique_id"].astype(str)
        missing = sorted(set(uid) - set(origin))
        if missing:
            raise StoreError(f"forecast origin: no last history hour for queue(s) "
                             f"{', '.join(missing[:5])}")
        return forecasts.assign(origin=pd.to_datetime(uid.map(dict(origin))).to_numpy())
    return forecasts.assign(origin=pd.Timestamp(origin))


def _write(store_path: Path, outputs: str | os.PathLike[str], build: Callable[[], RunRecord],
           wait_s: float) -> int:
    """Build the record and write it in one transaction, waiting up to `wait_s` seconds
    for the store's lock; any failure becomes the "outputs are in X but the run was not
    recorded" StoreError."""
    import duckdb

    try:
        record = build()
        with RunStore(store_path, wait_s=wait_s) as store:
            return store.record(record)
    except (StoreError, OSError, duckdb.Error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreError(f"outputs are in {outputs} but the run was not recorded: "
                         f"{reason}") from exc


def record_forecast_run(store_path: Path, *, command: str, config_yaml: str, model: str,
                        inputs: Mapping[str, str | os.PathLike[str] | None],
                        forecasts: pd.DataFrame,
                        origin: pd.Timestamp | Mapping[str, pd.Timestamp],
                        outputs: str | os.PathLike[str], failures: pd.DataFrame | None = None,
                        summary: Mapping[str, Any] | None = None,
                        wait_s: float = 30.0, kind: str = "forecast") -> int:
    """Record a `forecast` run (or, with `kind`, a `reforecast`); returns its run id.

    `forecasts` is the forecast frame (contacts per hour), `origin` each queue's last
    history hour (see `history_ends`) or one hour for all, `inputs` input name -> file
    (None: not given), `outputs` where the run's files are (named in the error if the store
    cannot be written), `failures` the run's fallbacks and failed queues as
    `staffcast.parallel.problems_frame` gives them (None: none).
    """
    def build() -> RunRecord:
        return RunRecord(
            kind=kind, command=command, config_yaml=config_yaml, model=model,
            inputs=_inputs(inputs), forecasts=_with_origin(forecasts, origin),
            failures=failures,
            summary={"outputs": str(outputs), **dict(summary or {})})

    return _write(store_path, outputs, build, wait_s)


def record_plan_run(store_path: Path, *, command: str, week_forecast: Any,
                    requirement: pd.DataFrame, run: Any, config_yaml: str,
                    inputs: Mapping[str, str | os.PathLike[str] | None],
                    failures: pd.DataFrame | None = None,
                    summary: Mapping[str, Any] | None = None,
                    wait_s: float = 30.0) -> int:
    """Record a `plan` run; returns its run id.

    `week_forecast` is the `staffcast.pipeline.WeekForecast` (its history gives each
    queue's origin, `predicted` the week's forecast), `requirement` the staffed requirement
    frame, `run` the `staffcast.pipeline.ScheduleRun` (its summary and coverage become the
    schedule of scenario 'base'; its folder is named if the store cannot be written).
    """
    def build() -> RunRecord:
        return RunRecord(
            kind="plan", command=command, config_yaml=config_yaml, model=week_forecast.model,
            inputs=_inputs(inputs),
            forecasts=_with_origin(week_forecast.predicted,
                                   history_ends(week_forecast.history)),
            requirements=requirement.assign(scenario="base"),
            schedules=[ScheduleRecord("base", dict(run.summary), config_yaml, run.coverage)],
            failures=failures,
            summary={"outputs": str(run.out_dir), "week_start": f"{week_forecast.start:%Y-%m-%d}",
                     **dict(summary or {})})

    return _write(store_path, run.out_dir, build, wait_s)


def _scenario_files(name: str, folder: Path) -> tuple[str, pd.DataFrame | None]:
    """(config.resolved.yaml text, requirements frame with `scenario`) of one scenario's
    plan folder, as `whatif` wrote them."""
    config = folder / "config.resolved.yaml"
    requirements = folder / "requirements.csv"
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    if not requirements.is_file():
        return text, None
    frame = read_table(requirements, "requirement file", error=StoreError, text=False).frame
    frame = frame.astype({"unique_id": "string"}).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    return text, frame.assign(scenario=name)


def record_whatif_run(store_path: Path, *, command: str, week_forecast: Any,
                      outcomes: Iterable[Any], out_dir: str | os.PathLike[str],
                      inputs: Mapping[str, str | os.PathLike[str] | None],
                      failures: pd.DataFrame | None = None,
                      summary: Mapping[str, Any] | None = None,
                      wait_s: float = 30.0) -> int:
    """Record a `whatif` run; returns its run id.

    `week_forecast` is the shared forecast (recorded once, before any scenario's volume
    uplift), `outcomes` the `staffcast.scenarios.ScenarioOutcome`s (name, run): each becomes
    a schedule with its summary and coverage, with its requirement frame and resolved config
    taken from the plan in memory (`outcome.plan`), or read back from the scenario's plan
    folder (requirements.csv, config.resolved.yaml) when the outcome holds no plan. The run's config is the base scenario's (the first outcome).
    """
    outcomes = list(outcomes)

    def build() -> RunRecord:
        schedules, requirements = [], []
        for outcome in outcomes:
            plan = getattr(outcome, "plan", None)
            if plan is not None:
                text, frame = (plan.resolved_config,
                               plan.requirements.assign(scenario=outcome.name))
            else:
                text, frame = _scenario_files(outcome.name, Path(outcome.run.out_dir))
            schedules.append(ScheduleRecord(outcome.name, dict(outcome.run.summary), text,
                                            outcome.run.coverage))
            if frame is not None:
                requirements.append(frame)
        return RunRecord(
            kind="whatif", command=command,
            config_yaml=schedules[0].config_yaml if schedules else "",
            model=week_forecast.model, inputs=_inputs(inputs),
            forecasts=_with_origin(week_forecast.predicted,
                                   history_ends(week_forecast.history)),
            requirements=pd.concat(requirements, ignore_index=True) if requirements else None,
            schedules=schedules, failures=failures,
            summary={"outputs": str(out_dir), "week_start": f"{week_forecast.start:%Y-%m-%d}",
                     "scenarios": [o.name for o in outcomes], **dict(summary or {})})

    return _write(store_path, out_dir, build, wait_s)


def record_capacity_run(store_path: Path, *, command: str, config_yaml: str,
                        inputs: Mapping[str, str | os.PathLike[str] | None],
                        capacity: pd.DataFrame, out_dir: str | os.PathLike[str],
                        summary: Mapping[str, Any] | None = None,
                        wait_s: float = 30.0) -> int:
    """Record a `capacity` run; returns its run id. `capacity` holds every scenario's
    capacity.csv rows with a `scenario` column (see `staffcast.capacity.store_rows`)."""
    def build() -> RunRecord:
        return RunRecord(kind="capacity", command=command, config_yaml=config_yaml,
                         model="glm_daily", inputs=_inputs(inputs), capacity=capacity,
                         summary={"outputs": str(out_dir), **dict(summary or {})})

    return _write(store_path, out_dir, build, wait_s)

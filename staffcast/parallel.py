"""Per-queue (or per-scenario) work on Dask, or inline when there is nothing to share.

`open_engine(workers, scheduler, tasks)` gives an `Engine` whose `map(func, items, ...)`
calls `func(item, **shared)` once per item and returns the results in input order plus a
typed `TaskFailure` for every item that raised: one bad queue never stops the others.
Many items are grouped into fewer Dask tasks (`batch_size`), each item still run alone.

- Inline: one task, or `workers == 1` without a scheduler. Nothing from Dask is imported
  and no process is started, so a single-queue run costs what it did before.
- Local cluster: `workers` processes (default: the machine's cores), one thread each, so
  each task has a core and statsmodels' BLAS calls do not fight over them (the workers get
  OPENBLAS/OMP/MKL_NUM_THREADS=1).
- Existing cluster: `scheduler="tcp://host:port"`; the workers there must have this
  package installed, and outputs written by tasks (whatif's plan folders) land on the
  workers' file system.

Large objects every task needs (calendar, config, the shared forecast) are sent to the
workers once (`shared=`, scattered with broadcast), not pickled again with every task.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import click
import pandas as pd

from staffcast.errors import StaffcastError

T = TypeVar("T")
CONNECT_TIMEOUT_S = 5.0
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1"}
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://[^\s:/]+(:\d+)?/?$")


class EngineError(StaffcastError):
    """The engine cannot start: a bad worker count or scheduler address (the message
    names the option and the value)."""


@dataclass(frozen=True)
class TaskFailure:
    """One item that failed: its `key` (the queue's unique_id or the scenario's name),
    the `stage` it failed in (forecast, backtest, requirements, whatif) and the `reason`,
    "ExceptionType: message" on one line."""

    key: str
    stage: str
    reason: str


@dataclass(frozen=True)
class Mapped(Generic[T]):
    """What `Engine.map` returns: (key, result) of the items that succeeded, in input
    order, and the failures, also in input order."""

    done: tuple[tuple[str, T], ...]
    failures: tuple[TaskFailure, ...]

    @property
    def values(self) -> list[T]:
        return [value for _, value in self.done]


@dataclass(frozen=True)
class _Raised:
    # A task's exception travels back as a value, so Dask neither retries nor logs it.
    reason: str


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _guarded(func: Callable[..., T], item: Any, **shared: Any) -> T | _Raised:
    try:
        return func(item, **shared)
    except Exception as exc:  # noqa: BLE001 - reported per item; the others go on
        return _Raised(_reason(exc))


def _guarded_batch(func: Callable[..., T], batch: Sequence[Any], **shared: Any
                   ) -> list[T | _Raised]:
    return [_guarded(func, item, **shared) for item in batch]


class Engine:
    """Maps tasks inline or on a Dask client; see the module docstring."""

    def __init__(self, client=None, workers: int = 1):
        self.client = client
        self.workers = workers

    @property
    def parallel(self) -> bool:
        return self.client is not None

    def describe(self) -> str:
        """One line for the user: where the tasks run."""
        if self.client is None:
            return "inline (no cluster)"
        return f"Dask, {self.workers} worker(s) at {self.client.scheduler.address}"

    def map(self, func: Callable[..., T], items: Sequence[Any], *, keys: Sequence[Hashable],
            stage: str, shared: Mapping[str, Any] | None = None,
            on_done: Callable[[str], None] | None = None) -> Mapped[T]:
        """`func(item, **shared)` for every item; `keys` name the items in failures (e.g.
        the queue ids), `stage` says what was being done. `func` must be importable by
        name (a module-level function) for the workers to load it. `on_done(key)` is
        called as each item finishes, in completion order."""
        keys = [str(k) for k in keys]
        if len(keys) != len(items):
            raise ValueError(f"map: {len(items)} items but {len(keys)} keys")
        shared = dict(shared or {})
        if self.client is None:
            outcomes = []
            for key, item in zip(keys, items):
                outcomes.append(_guarded(func, item, **shared))
                if on_done is not None:
                    on_done(key)
        else:
            outcomes = self._run(func, items, keys, stage, shared, on_done)
        done, failures = [], []
        for key, outcome in zip(keys, outcomes):
            if isinstance(outcome, _Raised):
                failures.append(TaskFailure(key, stage, outcome.reason))
            else:
                done.append((key, outcome))
        return Mapped(tuple(done), tuple(failures))

    def _run(self, func, items, keys, stage, shared, on_done) -> list[Any]:
        from distributed import as_completed

        handles = {}
        if shared:
            names = list(shared)
            futures = self.client.scatter([shared[n] for n in names], broadcast=True,
                                          hash=False)
            handles = dict(zip(names, futures))
        size = batch_size(len(items), max(self.workers, 1))
        starts = range(0, len(items), size)
        futures = [self.client.submit(_guarded_batch, func, items[start:start + size],
                                      pure=False, key=f"{stage}-{start}-{os.urandom(4).hex()}",
                                      **handles)
                   for start in starts]
        first = {future.key: start for future, start in zip(futures, starts)}
        outcomes: list[Any] = [None] * len(items)
        try:
            for future in as_completed(futures, loop=self.client.loop):
                start = first[future.key]
                stop = min(start + size, len(items))
                try:
                    outcomes[start:stop] = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died, the task was lost
                    outcomes[start:stop] = [_Raised(_reason(exc))] * (stop - start)
                if on_done is not None:
                    for key in keys[start:stop]:
                        on_done(key)
        finally:
            self.client.cancel(futures + list(handles.values()))
        return outcomes


TASKS_PER_WORKER = 32


def batch_size(items: int, workers: int) -> int:
    """Items per Dask task: one, unless there are more than `TASKS_PER_WORKER` per worker.

    Each task costs the scheduler and the client a few milliseconds, taken from the same
    cores as the workers on one machine; with 1,000 queues on 2 workers that was ~5% of
    the run. Grouping consecutive items keeps at least `TASKS_PER_WORKER` tasks per worker,
    so the last tasks still balance across workers (each item is still guarded alone)."""
    return max(1, items // (workers * TASKS_PER_WORKER))


def _check_workers(workers: int | None) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise EngineError(f"--workers must be a whole number >= 1, got {workers!r}")


@contextlib.contextmanager
def open_engine(workers: int | None = None, scheduler: str | None = None, *,
                tasks: int, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> Iterator[Engine]:
    """An `Engine` for `tasks` tasks: inline for one task or `workers == 1` without a
    scheduler; else a client of the cluster at `scheduler`, or of a new local cluster of
    `workers` single-threaded worker processes (default: the machine's cores). The
    cluster and client are closed on exit, also after an error or Ctrl-C. A scheduler
    that does not answer within `connect_timeout_s` seconds is an `EngineError`."""
    _check_workers(workers)
    if scheduler is None and (tasks <= 1 or workers == 1):
        yield Engine()
        return
    if scheduler is not None:
        with _connect(scheduler, connect_timeout_s) as client:
            yield Engine(client, len(client.scheduler_info().get("workers", {})))
        return
    with local_cluster(workers or os.cpu_count() or 1) as client:
        yield Engine(client, len(client.scheduler_info()["workers"]))


@contextlib.contextmanager
def _connect(scheduler: str, timeout_s: float) -> Iterator[Any]:
    if not _ADDRESS.match(scheduler):
        raise EngineError(f"--scheduler must look like tcp://host:port, got {scheduler!r}")
    from distributed import Client

    try:
        client = Client(scheduler, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise EngineError(f"--scheduler {scheduler}: no Dask scheduler answered within "
                          f"{timeout_s:g} s ({_reason(exc)})") from None
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A client of a new local cluster of `workers` single-threaded worker processes
    (even for one worker, unlike `open_engine`); closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    # Single-threaded BLAS in the workers; numpy reads these at import, so they must be
    # set before the worker processes spawn (Dask's defaults agree; a user config may not).
    # Dask's default MALLOC_TRIM_THRESHOLD_ is left out: setting it turns off glibc's
    # adaptive mmap threshold, so every model's multi-megabyte design matrices were mapped
    # and page-faulted afresh, which made a forecast ~20% slower in a worker than inline;
    # these workers live for one command, so returning memory to the OS early buys nothing.
    environ = {key: value for key, value
               in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if key != "MALLOC_TRIM_THRESHOLD_"}
    environ.update(SINGLE_THREADED)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        # No dashboard; the scheduler's small HTTP server takes any free port, so a second
        # cluster on the machine does not warn about port 8787.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": ":0"})
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def engine_options(command: Callable) -> Callable:
    """`--workers N` and `--scheduler ADDRESS`, passed as `workers` and `scheduler`; the
    environment variables STAFFCAST_WORKERS and STAFFCAST_SCHEDULER set their defaults."""
    command = click.option(
        "--scheduler", default=None, metavar="tcp://HOST:PORT", envvar="STAFFCAST_SCHEDULER",
        show_envvar=True,
        help="Run the per-queue work on an existing Dask cluster instead of a local one.",
    )(command)
    return click.option(
        "--workers", type=click.IntRange(min=1), default=None, envvar="STAFFCAST_WORKERS",
        show_envvar=True,
        help="Worker processes of the local Dask cluster; 1 runs inline without Dask; "
             "ignored with --scheduler [default: the machine's cores when there is more "
             "than one queue].",
    )(command)


PROBLEM_COLUMNS = ("unique_id", "stage", "requested_model", "used_model", "reason")


def problems_frame(fallbacks: Sequence[Any] = (), failures: Sequence[TaskFailure] = (),
                   requested_model: str = "") -> pd.DataFrame:
    """`unique_id, stage, requested_model, used_model, reason`: one row per fallback
    (`staffcast.forecasting.core.Fallback`; stage "fallback") and per failed item (`used_model` empty:
    nothing was used; for a whatif scenario `unique_id` holds the scenario's name)."""
    rows = [(f.unique_id, "fallback", f.requested_model, f.used_model, f.reason)
            for f in fallbacks]
    rows += [(f.key, f.stage, requested_model, "", f.reason) for f in failures]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS), dtype="string")


def report_problems(problems: pd.DataFrame, path: str | Path | None = None) -> None:
    """Print fallbacks and failures (`PROBLEM_COLUMNS` rows) on stderr, a count line then
    one line each, and write them to the CSV `path` when there are any (an older file
    there is removed when there are none, so it never describes another run)."""
    from staffcast.scheduler.export import atomic_write_csv

    if path is not None and not len(problems):
        Path(path).unlink(missing_ok=True)
    if not len(problems):
        return
    failed = int((problems["stage"] != "fallback").sum())
    click.echo(f"{failed} failed, {len(problems) - failed} fell back to another model:",
               err=True)
    for row in problems.itertuples(index=False):
        if row.stage == "fallback":
            click.echo(f"  {row.unique_id}: {row.requested_model} failed, used "
                       f"{row.used_model}: {row.reason}", err=True)
        else:
            click.echo(f"  {row.unique_id}: {row.stage} failed: {row.reason}", err=True)
    if path is not None:
        atomic_write_csv(problems, path)
        click.echo(f"listed in {path}", err=True)


EXIT_QUEUES_LOST = 3
"""Exit status of a run that wrote its outputs but lost one or more queues (1 is an error
with no output, 2 a usage error)."""


class QueuesLost(click.ClickException):
    """Some queues failed: the others' outputs are written, the exit status is 3."""

    exit_code = EXIT_QUEUES_LOST


def exit_if_lost(problems: pd.DataFrame, listed_in: str | Path | None = None) -> None:
    """`QueuesLost` (exit status 3) when `problems` holds a failed queue or scenario (a
    fallback to another model is not a loss): a script must not take a partial run for a
    whole one."""
    if not len(problems):
        return
    lost = sorted(problems.loc[problems["stage"] != "fallback", "unique_id"].astype(str).unique())
    if lost:
        where = f" (listed in {listed_in})" if listed_in is not None else ""
        raise QueuesLost(f"{len(lost)} lost: {', '.join(lost[:10])}"
                         f"{' ...' if len(lost) > 10 else ''}{where}; the other outputs are "
                         "written")

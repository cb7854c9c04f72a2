"""The run store: every forecast, plan and what-if run, and the actuals that arrived later,
in one embedded DuckDB file (default `.staffcast/runs.duckdb`).

A run is written in ONE transaction (`RunStore.record`): its row in `runs`, its input
fingerprints, forecasts, requirements, schedule summaries, interval coverage and per-queue
failures either all land or none does, so a run killed mid-write leaves no trace and every
earlier run intact (DuckDB replays its write-ahead log up to the last commit on open).

Tables (one row per ...):
- `runs`: run. run_id (1, 2, ...), kind (forecast | plan | whatif | reforecast | capacity),
  created_at (local wall clock), command, staffcast_version, status (ok | partial),
  model, horizon_start / horizon_end (first / last forecast hour), n_queues, config_yaml
  (the resolved config), summary_json (free-form run facts).
- `run_inputs`: input file of a run: name (history, calendar, config, agents, scenarios),
  path, sha256, bytes.
- `forecasts`: run, queue, hour, model: the forecast contract columns in contacts per
  hour, plus `origin` (the last history hour the forecast was made from).
- `requirements`: run, scenario, queue, interval: volume (contacts per interval), aht_s,
  agents_required, service_level, interval_minutes.
- `schedules`: run, scenario: status, solver, labour_cost, paid_hours,
  shortfall_agent_hours, mip_gap, summary_json and config_yaml (the scenario's resolved
  config, which `accuracy` re-staffs the actuals with).
- `coverage`: run, scenario, queue, interval: required, scheduled, shortfall (agents),
  service_level.
- `failures`: run, queue, stage: requested_model, used_model (empty when the queue
  failed outright), reason.
- `capacity`: run, scenario, week, queue (or 'total'): required_hours, supply_hours (productive
  hours of every cohort plus overtime), overtime_hours, shortfall_hours, cost (money, on
  'total' rows), cover (share of required hours covered); the hiring plan is in the run's
  summary_json.
- `actuals`: queue, hour: y (contacts), loaded_at, source_sha256; a later load of the same
  hour replaces it. `actuals_loads` records each load.

The file is locked by the process that writes it; another process waits up to `wait_s`
seconds for the lock and then fails with a message naming the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from staffcast import __version__
from staffcast.errors import StaffcastError

DEFAULT_STORE = Path(".staffcast") / "runs.duckdb"
STORE_ENV = "STAFFCAST_STORE"
SCHEMA_VERSION = "1"
RUN_KINDS = ("forecast", "plan", "whatif", "reforecast", "capacity")
RUN_STATUSES = ("ok", "partial")

_FORECAST_COLUMNS = ("unique_id", "ds", "model", "yhat", "yhat_lo_80", "yhat_hi_80",
                     "yhat_lo_95", "yhat_hi_95", "origin")
_REQUIREMENT_COLUMNS = ("scenario", "unique_id", "ds", "interval_minutes", "volume", "aht_s",
                        "agents_required", "service_level")
_COVERAGE_COLUMNS = ("scenario", "unique_id", "ds", "required", "scheduled", "shortfall",
                     "service_level")
_FAILURE_COLUMNS = ("unique_id", "stage", "requested_model", "used_model", "reason")
_CAPACITY_COLUMNS = ("scenario", "week", "queue", "required_hours", "supply_hours",
                     "overtime_hours", "shortfall_hours", "cost", "cover")
_SCHEDULE_FIELDS = ("status", "solver", "labour_cost", "paid_hours", "shortfall_agent_hours",
                    "mip_gap")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
    command VARCHAR, staffcast_version VARCHAR, status VARCHAR NOT NULL, model VARCHAR,
    horizon_start TIMESTAMP, horizon_end TIMESTAMP, n_queues INTEGER, config_yaml VARCHAR,
    summary_json VARCHAR);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id INTEGER NOT NULL, name VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR,
    bytes BIGINT);
CREATE TABLE IF NOT EXISTS forecasts (
    run_id INTEGER NOT NULL, unique_id VARCHAR NOT NULL, ds TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL, yhat DOUBLE, yhat_lo_80 DOUBLE, yhat_hi_80 DOUBLE,
    yhat_lo_95 DOUBLE, yhat_hi_95 DOUBLE, origin TIMESTAMP);
CREATE TABLE IF NOT EXISTS requirements (
    run_id INTEGER NOT NULL, scenario VARCHAR NOT NULL, unique_id VARCHAR NOT NULL,
    ds TIMESTAMP NOT NULL, interval_minutes INTEGER, volume DOUBLE, aht_s DOUBLE,
    agents_required DOUBLE, service_level DOUBLE);
CREATE TABLE IF NOT EXISTS schedules (
    run_id INTEGER NOT NULL, scenario VARCHAR NOT NULL, status VARCHAR, solver VARCHAR,
    labour_cost DOUBLE, paid_hours DOUBLE, shortfall_agent_hours DOUBLE, mip_gap DOUBLE,
    summary_json VARCHAR, config_yaml VARCHAR);
CREATE TABLE IF NOT EXISTS coverage (
    run_id INTEGER NOT NULL, scenario VARCHAR NOT NULL, unique_id VARCHAR NOT NULL,
    ds TIMESTAMP NOT NULL, required DOUBLE, scheduled DOUBLE, shortfall DOUBLE,
    service_level DOUBLE);
CREATE TABLE IF NOT EXISTS failures (
    run_id INTEGER NOT NULL, unique_id VARCHAR NOT NULL, stage VARCHAR NOT NULL,
    requested_model VARCHAR, used_model VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS capacity (
    run_id INTEGER NOT NULL, scenario VARCHAR NOT NULL, week DATE NOT NULL,
    queue VARCHAR NOT NULL, required_hours DOUBLE, supply_hours DOUBLE,
    overtime_hours DOUBLE, shortfall_hours DOUBLE, cost DOUBLE, cover DOUBLE);
CREATE TABLE IF NOT EXISTS actuals (
    unique_id VARCHAR NOT NULL, ds TIMESTAMP NOT NULL, y DOUBLE NOT NULL,
    loaded_at TIMESTAMP NOT NULL, source_sha256 VARCHAR, PRIMARY KEY (unique_id, ds));
CREATE TABLE IF NOT EXISTS actuals_loads (
    load_id INTEGER PRIMARY KEY, loaded_at TIMESTAMP NOT NULL, path VARCHAR,
    sha256 VARCHAR, rows BIGINT, new_rows BIGINT, replaced_rows BIGINT, changed_rows BIGINT);
"""


class StoreError(StaffcastError):
    """The run store cannot be opened or read, or a record breaks a rule; the message
    names the store file."""


def default_store_path() -> Path:
    """The store used when `--store` is not given: $STAFFCAST_STORE, else
    .staffcast/runs.duckdb under the current folder."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


@dataclass(frozen=True)
class InputFile:
    """An input file's fingerprint: what it was called in the run, where it was, its
    SHA-256 and its size in bytes."""

    name: str
    path: str
    sha256: str
    bytes: int


def fingerprint(name: str, path: str | os.PathLike[str]) -> InputFile:
    """Fingerprint the file at `path` as the run's input `name`."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return InputFile(name, str(Path(path).resolve()), digest.hexdigest(), size)


@dataclass(frozen=True)
class ScheduleRecord:
    """One scenario's solved schedule: its summary.json dict, its resolved config (YAML
    text) and its coverage frame (`unique_id, ds, required, scheduled, shortfall,
    service_level`, agents per interval; may be empty)."""

    scenario: str
    summary: dict[str, Any]
    config_yaml: str = ""
    coverage: pd.DataFrame | None = None


@dataclass(frozen=True)
class RunRecord:
    """Everything one run recorded. `forecasts` follows the forecast contract (plus an
    optional `origin` column); `requirements` is the requirement frame with a `scenario`
    column; `failures` has `unique_id, stage, requested_model, used_model, reason`."""

    kind: str
    command: str
    config_yaml: str = ""
    model: str | None = None
    inputs: Sequence[InputFile] = ()
    forecasts: pd.DataFrame | None = None
    requirements: pd.DataFrame | None = None
    schedules: Sequence[ScheduleRecord] = ()
    failures: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    capacity: pd.DataFrame | None = None
    """Weekly capacity rows (`scenario, week, queue, required_hours, supply_hours,
    overtime_hours, shortfall_hours, cost, cover`) of a capacity run."""

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise StoreError(f"run kind must be one of {', '.join(RUN_KINDS)}, "
                             f"got {self.kind!r}")


@dataclass(frozen=True)
class ActualsLoad:
    """What one `add_actuals` did: rows read, hours new to the store, hours replaced and,
    of those, hours whose value changed."""

    load_id: int
    rows: int
    new_rows: int
    replaced_rows: int
    changed_rows: int


def _frame(frame: pd.DataFrame | None, columns: Sequence[str], what: str,
           fill: dict[str, Any] | None = None) -> pd.DataFrame:
    """`frame` cut to `columns` in order (missing optional ones filled from `fill`)."""
    if frame is None:
        return pd.DataFrame(columns=list(columns))
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        if column in frame.columns:
            out[column] = frame[column].to_numpy()
        elif fill is not None and column in fill:
            out[column] = fill[column]
        else:
            raise StoreError(f"{what}: missing column {column!r}; expected "
                             f"{', '.join(columns)}")
    for column in ("unique_id", "scenario", "model", "stage", "requested_model",
                   "used_model", "reason", "queue"):
        if column in out.columns:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out.reset_index(drop=True)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class Transaction:
    """Inserts of one run inside an open transaction (see `RunStore.transaction`)."""

    def __init__(self, con, run_id: int):
        self._con = con
        self.run_id = run_id

    def _insert(self, table: str, frame: pd.DataFrame) -> None:
        if len(frame) == 0:
            return
        frame = frame.copy()
        frame.insert(0, "run_id", self.run_id)
        self._con.register("_staged", frame)
        try:
            columns = ", ".join(frame.columns)
            self._con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _staged")
        finally:
            self._con.unregister("_staged")

    def add_run(self, run: RunRecord) -> None:
        forecasts = run.forecasts
        start = end = None
        if forecasts is not None and len(forecasts):
            start, end = pd.Timestamp(forecasts["ds"].min()), pd.Timestamp(forecasts["ds"].max())
        elif run.capacity is not None and len(run.capacity):
            # A capacity run's horizon: its first hour to the last hour of its last week.
            start = pd.Timestamp(run.capacity["week"].min())
            end = pd.Timestamp(run.capacity["week"].max()) + pd.Timedelta(hours=7 * 24 - 1)
        queues = (forecasts["unique_id"].nunique() if forecasts is not None and len(forecasts)
                  else run.requirements["unique_id"].nunique()
                  if run.requirements is not None and len(run.requirements)
                  else run.capacity.loc[run.capacity["queue"] != "total", "queue"].nunique()
                  if run.capacity is not None and len(run.capacity) else 0)
        failed = run.failures is not None and len(run.failures) > 0
        self._con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.run_id, run.kind, _now(), run.command, __version__,
             "partial" if failed else "ok", run.model,
             None if start is None else start.to_pydatetime(),
             None if end is None else end.to_pydatetime(), int(queues),
             run.config_yaml, _json(run.summary)])
        if run.inputs:
            self._insert("run_inputs", pd.DataFrame(
                [(f.name, f.path, f.sha256, f.bytes) for f in run.inputs],
                columns=["name", "path", "sha256", "bytes"]))

    def add_forecasts(self, forecasts: pd.DataFrame) -> None:
        self._insert("forecasts", _frame(forecasts, _FORECAST_COLUMNS, "forecasts",
                                         fill={"origin": None}))

    def add_requirements(self, requirements: pd.DataFrame) -> None:
        frame = requirements
        if "interval_minutes" not in frame.columns:
            frame = frame.assign(interval_minutes=_interval_minutes(frame))
        self._insert("requirements", _frame(frame, _REQUIREMENT_COLUMNS, "requirements",
                                            fill={"scenario": "base"}))

    def add_schedule(self, schedule: ScheduleRecord) -> None:
        summary = schedule.summary
        row = {key: summary.get(key) for key in _SCHEDULE_FIELDS}
        row.update(scenario=schedule.scenario, summary_json=_json(summary),
                   config_yaml=schedule.config_yaml)
        self._insert("schedules", pd.DataFrame([row]))
        if schedule.coverage is not None and len(schedule.coverage):
            self._insert("coverage", _frame(schedule.coverage.assign(
                scenario=schedule.scenario), _COVERAGE_COLUMNS, "coverage"))

    def add_failures(self, failures: pd.DataFrame) -> None:
        self._insert("failures", _frame(failures, _FAILURE_COLUMNS, "failures"))

    def add_capacity(self, capacity: pd.DataFrame) -> None:
        self._insert("capacity", _frame(capacity, _CAPACITY_COLUMNS, "capacity",
                                        fill={"scenario": "base"}))


def _interval_minutes(requirements: pd.DataFrame) -> int:
    """The interval length of a requirement frame: the smallest gap within a queue."""
    gaps = (pd.to_datetime(requirements["ds"]).groupby(requirements["unique_id"]).diff()
            .dropna())
    gaps = gaps[gaps > pd.Timedelta(0)]
    return int(gaps.min() / pd.Timedelta(minutes=1)) if len(gaps) else 60


class RunStore:
    """An open run store. Use as a context manager; `read_only=True` opens an existing
    store for reading (it never creates one)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
                 wait_s: float = 30.0):
        import duckdb

        self.path = Path(path) if path is not None else default_store_path()
        if read_only and not self.path.is_file():
            raise StoreError(f"run store {self.path}: no such file (runs are recorded by "
                             "staffcast forecast, plan and whatif; pass --store to pick "
                             "another file)")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                locked = "lock" in str(exc).lower()
                if not locked or time.monotonic() >= deadline:
                    what = ("is in use by another process (waited "
                            f"{wait_s:g} s for its lock)" if locked else "cannot be opened")
                    raise StoreError(f"run store {self.path} {what}: "
                                     f"{' '.join(str(exc).split())}") from exc
                time.sleep(0.2)
            except duckdb.Error as exc:
                raise StoreError(f"run store {self.path} cannot be opened (is it a DuckDB "
                                 f"file?): {' '.join(str(exc).split())}") from exc
        try:
            if not read_only:
                self._refuse_foreign_file()
                self._con.execute(_SCHEMA)
                self._con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                  [SCHEMA_VERSION])
            self._check_schema()
        except BaseException:
            self._con.close()
            raise

    def _tables(self) -> set[str]:
        return {row[0] for row in self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()}

    def _refuse_foreign_file(self) -> None:
        # Opening for writing creates the schema: never add it to someone else's database.
        tables = self._tables()
        if tables and "meta" not in tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreError(f"run store {self.path} is not a staffcast run store (it holds "
                             f"other tables: {shown}); pass --store to pick another file")

    def _check_schema(self) -> None:
        import duckdb

        try:
            found = self._con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.Error as exc:
            raise StoreError(f"run store {self.path} is not a staffcast run store (no "
                             "schema_version in a meta table)") from exc
        if found is None or found[0] != SCHEMA_VERSION:
            raise StoreError(f"run store {self.path} has schema version "
                             f"{None if found is None else found[0]!r}; this staffcast "
                             f"reads version {SCHEMA_VERSION}")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One run's inserts: committed when the block ends, rolled back on any error;
        the run id is the next free one."""
        self._con.execute("BEGIN TRANSACTION")
        try:
            run_id = int(self._con.execute(
                "SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0])
            yield Transaction(self._con, run_id)
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def record(self, run: RunRecord) -> int:
        """Write the whole run in one transaction; returns its run id."""
        with self.transaction() as tx:
            tx.add_run(run)
            if run.forecasts is not None:
                tx.add_forecasts(run.forecasts)
            if run.requirements is not None:
                tx.add_requirements(run.requirements)
            for schedule in run.schedules:
                tx.add_schedule(schedule)
            if run.failures is not None:
                tx.add_failures(run.failures)
            if run.capacity is not None:
                tx.add_capacity(run.capacity)
        return tx.run_id

    def add_actuals(self, history: pd.DataFrame, source: InputFile | None = None
                    ) -> ActualsLoad:
        """Upsert `unique_id, ds, y` (contacts per hour) into the actuals, one transaction;
        an hour already stored is replaced by the new value."""
        frame = _frame(history, ("unique_id", "ds", "y"), "actuals")
        frame["y"] = frame["y"].astype(float)
        frame["loaded_at"] = _now()
        frame["source_sha256"] = None if source is None else source.sha256
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("_staged", frame)
            replaced, changed = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE a.y <> s.y) FROM _staged s "
                "JOIN actuals a USING (unique_id, ds)").fetchone()
            con.execute("INSERT OR REPLACE INTO actuals SELECT unique_id, ds, y, loaded_at, "
                        "source_sha256 FROM _staged")
            con.unregister("_staged")
            load_id = int(con.execute(
                "SELECT coalesce(max(load_id), 0) + 1 FROM actuals_loads").fetchone()[0])
            load = ActualsLoad(load_id, len(frame), len(frame) - int(replaced), int(replaced),
                               int(changed))
            con.execute("INSERT INTO actuals_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [load_id, _now(), None if source is None else source.path,
                         None if source is None else source.sha256, load.rows,
                         load.new_rows, load.replaced_rows, load.changed_rows])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return load

    # ------------------------------------------------------------------ reading

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A read query as a DataFrame (string columns as object, timestamps naive)."""
        return self._con.execute(sql, list(params)).df()

    def runs(self) -> pd.DataFrame:
        """Every run, newest first: run_id, kind, created_at, status, model, horizon_start,
        horizon_end, n_queues, command."""
        return self.query("SELECT run_id, kind, created_at, status, model, horizon_start, "
                          "horizon_end, n_queues, command FROM runs ORDER BY run_id DESC")

    def run(self, run_id: int) -> dict[str, Any]:
        """The `runs` row of `run_id` as a dict; an unknown id lists the known range."""
        found = self.query("SELECT * FROM runs WHERE run_id = ?", [int(run_id)])
        if found.empty:
            raise StoreError(f"run store {self.path}: no run {run_id}; {self._known_ids()}")
        return found.iloc[0].to_dict()

    def _known_ids(self) -> str:
        """The valid run ids in words: all of them when few, else the range."""
        ids = [int(i) for i in self.query("SELECT run_id FROM runs ORDER BY run_id")["run_id"]]
        if not ids:
            return "the store holds no runs"
        if len(ids) <= 10:
            return f"valid run ids: {', '.join(map(str, ids))}"
        return f"valid run ids: {ids[0]} to {ids[-1]} ({len(ids)} runs)"

    def table(self, name: str, run_id: int) -> pd.DataFrame:
        """One run's rows of `name` (run_inputs, forecasts, requirements, schedules,
        coverage, failures, capacity) without the run_id column."""
        if name not in ("run_inputs", "forecasts", "requirements", "schedules", "coverage",
                        "failures", "capacity"):
            raise StoreError(f"unknown store table {name!r}")
        order = {"run_inputs": "name", "schedules": "scenario", "failures": "unique_id",
                 "capacity": "scenario, week, queue"}
        by = order.get(name, "scenario, unique_id, ds" if name in ("requirements", "coverage")
                       else "unique_id, model, ds")
        frame = self.query(f"SELECT * FROM {name} WHERE run_id = ? ORDER BY {by}", [run_id])
        return frame.drop(columns="run_id")

    def actuals(self, unique_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Stored actuals `unique_id, ds, y` (contacts per hour), sorted."""
        if unique_ids is None:
            return self.query("SELECT unique_id, ds, y FROM actuals ORDER BY unique_id, ds")
        return self.query("SELECT unique_id, ds, y FROM actuals WHERE list_contains(?, "
                          "unique_id) ORDER BY unique_id, ds", [list(unique_ids)])

"""The run store: round trips, actuals upserts, run ids, the lock, foreign files, and a
run killed mid-write (a real SIGKILL) leaving every earlier run intact and no trace."""

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from staffcast.store import (
    RunRecord,
    RunStore,
    ScheduleRecord,
    StoreError,
    default_store_path,
    fingerprint,
)

RUN_TABLES = ("runs", "run_inputs", "forecasts", "requirements", "schedules", "coverage",
              "failures")
START = pd.Timestamp("2026-11-09 00:00")


def forecast_frame(queues=("chat", "phone"), hours=6, scale=1.0) -> pd.DataFrame:
    ds = pd.date_range(START, periods=hours, freq="h")
    rows = []
    for k, uid in enumerate(queues):
        yhat = scale * (np.arange(hours, dtype=float) + 10 * (k + 1))
        rows.append(pd.DataFrame({
            "unique_id": pd.array([uid] * hours, dtype="string"), "ds": ds, "model": "histavg",
            "yhat": yhat, "yhat_lo_80": yhat - 2, "yhat_hi_80": yhat + 2,
            "yhat_lo_95": yhat - 4, "yhat_hi_95": yhat + 4}))
    return pd.concat(rows, ignore_index=True)


def requirement_frame(minutes=30) -> pd.DataFrame:
    ds = pd.date_range(START, periods=4, freq=f"{minutes}min")
    return pd.DataFrame({"unique_id": "chat", "ds": ds, "volume": [5.0, 7.5, 10.0, 2.5],
                         "aht_s": 300.0, "erlangs": [0.8, 1.2, 1.7, 0.4],
                         "agents_required": [2.0, 3.0, 4.0, 1.0],
                         "service_level": [0.9, 0.85, 0.82, 0.99]})


def coverage_frame() -> pd.DataFrame:
    req = requirement_frame()
    return pd.DataFrame({"unique_id": req["unique_id"], "ds": req["ds"],
                         "required": req["agents_required"], "scheduled": [2.0, 3.0, 3.0, 1.0],
                         "shortfall": [0.0, 0.0, 1.0, 0.0], "service_level": [0.9, 0.85, 0.6,
                                                                               0.99]})


SUMMARY = {"status": "optimal", "solver": "cbc", "labour_cost": 480.5, "paid_hours": 24.0,
           "shortfall_agent_hours": 0.5, "mip_gap": 0.001, "service_level_by_day": {
               "2026-11-09": 0.87}}


def plan_record(tmp_path: Path, scale=1.0) -> RunRecord:
    history = tmp_path / "history.csv"
    if not history.exists():
        history.write_text("unique_id,ds,y\nchat,2026-11-08 23:00,4\n")
    return RunRecord(
        kind="plan", command="staffcast plan --history history.csv", config_yaml="a: 1\n",
        model="histavg", inputs=[fingerprint("history", history)],
        forecasts=forecast_frame(scale=scale).assign(origin=pd.Timestamp("2026-11-08 23:00")),
        requirements=requirement_frame(),
        schedules=[ScheduleRecord("base", SUMMARY, "b: 2\n", coverage_frame())],
        summary={"week_start": "2026-11-09"})


def table_rows(path: Path, run_id: int) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?",
                               [run_id]).fetchone()[0] for t in RUN_TABLES}
    finally:
        con.close()


def test_record_and_read_back_exact_values(tmp_path):
    path = tmp_path / "s.duckdb"
    record = plan_record(tmp_path)
    with RunStore(path) as store:
        run_id = store.record(record)
        run = store.run(run_id)
        forecasts = store.table("forecasts", run_id)
        requirements = store.table("requirements", run_id)
        schedules = store.table("schedules", run_id)
        coverage = store.table("coverage", run_id)
        inputs = store.table("run_inputs", run_id)
    assert run_id == 1
    assert (run["kind"], run["status"], run["model"], run["n_queues"]) == (
        "plan", "ok", "histavg", 2)
    assert run["horizon_start"] == START
    assert run["horizon_end"] == START + pd.Timedelta(hours=5)
    assert run["config_yaml"] == "a: 1\n"
    assert json.loads(run["summary_json"]) == {"week_start": "2026-11-09"}

    expected = forecast_frame()
    got = forecasts.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    assert list(got["unique_id"]) == list(expected["unique_id"])
    assert (got["ds"].to_numpy() == expected["ds"].to_numpy()).all()
    for column in ("yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
        np.testing.assert_array_equal(got[column], expected[column])
    assert (got["origin"] == pd.Timestamp("2026-11-08 23:00")).all()

    assert list(requirements["scenario"].unique()) == ["base"]
    # The interval is the gap between a queue's rows: 30 minutes here.
    assert (requirements["interval_minutes"] == 30).all()
    np.testing.assert_array_equal(requirements["agents_required"], [2.0, 3.0, 4.0, 1.0])

    row = schedules.iloc[0]
    assert (row["scenario"], row["status"], row["solver"]) == ("base", "optimal", "cbc")
    assert (row["labour_cost"], row["paid_hours"], row["shortfall_agent_hours"],
            row["mip_gap"]) == (480.5, 24.0, 0.5, 0.001)
    assert json.loads(row["summary_json"]) == SUMMARY
    assert row["config_yaml"] == "b: 2\n"
    np.testing.assert_array_equal(coverage["scheduled"], [2.0, 3.0, 3.0, 1.0])
    np.testing.assert_array_equal(coverage["shortfall"], [0.0, 0.0, 1.0, 0.0])

    content = (tmp_path / "history.csv").read_bytes()
    assert list(inputs["name"]) == ["history"]
    assert inputs["sha256"].iloc[0] == hashlib.sha256(content).hexdigest()
    assert inputs["bytes"].iloc[0] == len(content)
    assert inputs["path"].iloc[0] == str((tmp_path / "history.csv").resolve())


def test_run_ids_count_up_and_failures_make_a_run_partial(tmp_path):
    path = tmp_path / "s.duckdb"
    failures = pd.DataFrame({"unique_id": ["phone"], "stage": ["forecast"],
                             "requested_model": ["arima"], "used_model": ["snaive"],
                             "reason": ["LinAlgError: singular matrix"]})
    with RunStore(path) as store:
        first = store.record(RunRecord(kind="forecast", command="a", forecasts=forecast_frame()))
        second = store.record(RunRecord(kind="forecast", command="b", forecasts=forecast_frame(),
                                        failures=failures))
        third = store.record(plan_record(tmp_path))
        runs = store.runs()
        stored = store.table("failures", second)
    assert (first, second, third) == (1, 2, 3)
    assert list(runs["run_id"]) == [3, 2, 1]
    assert list(runs["status"]) == ["ok", "partial", "ok"]
    assert stored.to_dict("records") == failures.to_dict("records")


def test_unknown_kind_and_unknown_run_id_name_the_valid_ones(tmp_path):
    with pytest.raises(StoreError, match="run kind must be one of forecast, plan, whatif"):
        RunRecord(kind="plans", command="x")
    path = tmp_path / "s.duckdb"
    with RunStore(path) as store:
        with pytest.raises(StoreError, match="no run 1; the store holds no runs"):
            store.run(1)
        store.record(RunRecord(kind="forecast", command="a", forecasts=forecast_frame()))
        store.record(RunRecord(kind="forecast", command="b", forecasts=forecast_frame()))
        with pytest.raises(StoreError, match=rf"{path}: no run 7; valid run ids: 1, 2$"):
            store.run(7)


def test_a_failing_record_leaves_nothing(tmp_path):
    path = tmp_path / "s.duckdb"
    bad = RunRecord(kind="plan", command="x", forecasts=forecast_frame(),
                    requirements=requirement_frame().drop(columns="agents_required"))
    with RunStore(path) as store:
        store.record(plan_record(tmp_path))
        with pytest.raises(StoreError, match="requirements: missing column 'agents_required'"):
            store.record(bad)
        assert store.record(plan_record(tmp_path)) == 2
    assert table_rows(path, 3) == dict.fromkeys(RUN_TABLES, 0)


def test_actuals_upsert_counts_new_replaced_and_changed(tmp_path):
    path = tmp_path / "s.duckdb"
    ds = pd.date_range("2026-11-09", periods=4, freq="h")
    first = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": [1.0, 2.0, 3.0, 4.0]})
    # Overlaps the last two hours (one of them changed) and adds two new ones.
    second = pd.DataFrame({"unique_id": "chat", "ds": ds[2:].append(
        pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=2, freq="h")),
        "y": [3.0, 40.0, 5.0, 6.0]})
    with RunStore(path) as store:
        a = store.add_actuals(first)
        b = store.add_actuals(second)
        stored = store.actuals()
        loads = store.query("SELECT * FROM actuals_loads ORDER BY load_id")
    assert (a.load_id, a.rows, a.new_rows, a.replaced_rows, a.changed_rows) == (1, 4, 4, 0, 0)
    assert (b.load_id, b.rows, b.new_rows, b.replaced_rows, b.changed_rows) == (2, 4, 2, 2, 1)
    np.testing.assert_array_equal(stored["y"], [1.0, 2.0, 3.0, 40.0, 5.0, 6.0])
    assert list(loads["new_rows"]) == [4, 2]
    assert list(loads["changed_rows"]) == [0, 1]


def test_default_store_path_reads_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("STAFFCAST_STORE", raising=False)
    assert default_store_path() == Path(".staffcast") / "runs.duckdb"
    monkeypatch.setenv("STAFFCAST_STORE", str(tmp_path / "x.duckdb"))
    assert default_store_path() == tmp_path / "x.duckdb"


def test_read_only_never_creates_a_store(tmp_path):
    path = tmp_path / "none.duckdb"
    with pytest.raises(StoreError, match=rf"run store {path}: no such file"):
        RunStore(path, read_only=True)
    assert not path.exists()


def test_a_foreign_duckdb_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="is not a staffcast run store"):
        RunStore(path, read_only=True)
    with pytest.raises(StoreError, match=r"not a staffcast run store \(it holds other tables: "
                                         r"sales\)"):
        RunStore(path)
    con = duckdb.connect(str(path), read_only=True)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    con.close()
    assert tables == {"sales"}

    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n" * 100)
    with pytest.raises(StoreError, match=rf"run store {text} cannot be opened"):
        RunStore(text)


def test_a_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "s.duckdb"
    RunStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="has schema version '99'; this staffcast reads "
                                         "version 1"):
        RunStore(path, read_only=True)


def _holder(path: Path) -> subprocess.Popen:
    """A process that holds the store open (and so its lock) until killed."""
    script = textwrap.dedent(f"""
        import time
        from staffcast.store import RunStore
        store = RunStore({str(path)!r})
        print("HOLDING", flush=True)
        time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout.readline().strip() == "HOLDING"
    return proc


def test_a_locked_store_waits_then_names_the_file(tmp_path):
    path = tmp_path / "s.duckdb"
    holder = _holder(path)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match=rf"run store {path} is in use by another process "
                                             r"\(waited 0.6 s for its lock\)"):
            RunStore(path, wait_s=0.6)
        assert time.monotonic() - started >= 0.6
    finally:
        holder.kill()
        holder.wait()
    with RunStore(path, wait_s=5) as store:  # free again once the holder is gone
        assert store.runs().empty


# A writer that opens a run's transaction, inserts a large forecast, says so and hangs
# before committing, so the test can SIGKILL it mid-run.
CRASH_SCRIPT = """
import sys, time
import numpy as np, pandas as pd
from staffcast.store import RunRecord, RunStore

path, queues, hours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ds = pd.date_range("2026-11-09", periods=hours, freq="h")
n = queues * hours
frame = pd.DataFrame({
    "unique_id": np.repeat([f"q{i:04d}" for i in range(queues)], hours),
    "ds": np.tile(ds.to_numpy(), queues), "model": "arima",
    "yhat": np.arange(n, dtype=float)})
for col in ("yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
    frame[col] = frame["yhat"]
store = RunStore(path)
with store.transaction() as tx:
    tx.add_run(RunRecord(kind="forecast", command="doomed", model="arima", forecasts=frame))
    tx.add_forecasts(frame)
    tx.add_failures(pd.DataFrame({"unique_id": ["q0000"], "stage": ["forecast"],
                                  "requested_model": ["arima"], "used_model": ["snaive"],
                                  "reason": ["boom"]}))
    print("INSIDE", tx.run_id, flush=True)
    time.sleep(120)
"""


def _snapshot(path: Path) -> dict[str, pd.DataFrame]:
    """Every run table's rows (all columns but created_at), sorted, for equality checks."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in RUN_TABLES}
    finally:
        con.close()


def test_a_run_killed_mid_transaction_leaves_earlier_runs_intact_and_no_trace(tmp_path):
    path = tmp_path / "s.duckdb"
    with RunStore(path) as store:
        assert store.record(plan_record(tmp_path)) == 1
        assert store.record(plan_record(tmp_path, scale=2.0)) == 2
    before = _snapshot(path)
    counts_before = {rid: table_rows(path, rid) for rid in (1, 2)}
    assert counts_before[1]["forecasts"] == 12 and counts_before[1]["coverage"] == 4

    size = path.stat().st_size
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(path), "500", "336"],
                            stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    line = proc.stdout.readline().split()
    assert line == ["INSIDE", "3"]
    # The uncommitted run's 168,000 forecast rows already reached the file.
    assert path.stat().st_size > size
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    after = _snapshot(path)
    for table in RUN_TABLES:
        pd.testing.assert_frame_equal(after[table], before[table], obj=table)
    assert {rid: table_rows(path, rid) for rid in (1, 2)} == counts_before
    assert table_rows(path, 3) == dict.fromkeys(RUN_TABLES, 0)
    with RunStore(path) as store:
        assert store.record(plan_record(tmp_path, scale=3.0)) == 3
        np.testing.assert_array_equal(store.table("forecasts", 3)["yhat"].sort_values(),
                                      np.sort(forecast_frame(scale=3.0)["yhat"]))
    assert table_rows(path, 3)["forecasts"] == 12


def _staffcast() -> list[str]:
    script = Path(sys.executable).parent / "staffcast"
    return [str(script)] if script.exists() else [
        sys.executable, "-c", "from staffcast.cli import main; main()"]


def test_a_killed_staffcast_actuals_leaves_no_partial_load(tmp_path):
    path = tmp_path / "s.duckdb"
    with RunStore(path) as store:
        run_id = store.record(plan_record(tmp_path))
        store.add_actuals(pd.DataFrame({"unique_id": "chat", "ds": [START], "y": [9.0]}))
    before = _snapshot(path)
    size = path.stat().st_size
    # 400,800 hours: reading and checking them takes about two seconds, the write less.
    ds = pd.date_range("2026-01-05", periods=24 * 50, freq="h")
    queues = [f"q{i:03d}" for i in range(334)]
    pd.DataFrame({"unique_id": np.repeat(queues, len(ds)), "ds": np.tile(ds, len(queues)),
                  "y": 3.0}).to_csv(tmp_path / "big.csv", index=False)

    proc = subprocess.Popen([*_staffcast(), "actuals", "--history", str(tmp_path / "big.csv"),
                             "--store", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 60
    # DuckDB writes a large uncommitted insert's blocks into the file before the commit:
    # once the file grows, the load's transaction is writing rows.
    while path.stat().st_size == size:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "staffcast actuals never wrote to the store"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert proc.stdout.read() == b""  # it never reported a finished load

    after = _snapshot(path)
    for table in RUN_TABLES:
        pd.testing.assert_frame_equal(after[table], before[table], obj=table)
    with RunStore(path, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM actuals")["n"].iloc[0] == 1
        assert store.query("SELECT count(*) AS n FROM actuals_loads")["n"].iloc[0] == 1
        assert store.run(run_id)["kind"] == "plan"
    with RunStore(path) as store:  # and the same load then goes in whole
        assert store.add_actuals(pd.read_csv(tmp_path / "big.csv", parse_dates=["ds"])
                                 ).new_rows == len(ds) * len(queues)

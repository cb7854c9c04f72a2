"""`staffcast actuals` and `staffcast runs list|show|diff` through the CLI, on stores built
with `RunStore.record`; expected figures computed here from the frames themselves."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main
from staffcast.store import RunRecord, RunStore, ScheduleRecord, fingerprint
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

START = pd.Timestamp("2026-11-09")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def forecast(scale: float, queues=("chat", "mail")) -> pd.DataFrame:
    ds = pd.date_range(START, periods=24, freq="h")
    frames = []
    for k, uid in enumerate(queues):
        yhat = scale * (10.0 * (k + 1) + np.arange(24) % 7)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "model": "histavg",
                                    "yhat": yhat, "yhat_lo_80": yhat - 1, "yhat_hi_80": yhat + 1,
                                    "yhat_lo_95": yhat - 2, "yhat_hi_95": yhat + 2}))
    return pd.concat(frames, ignore_index=True)


def requirement(agents: list[float]) -> pd.DataFrame:
    ds = pd.date_range(START + pd.Timedelta(hours=8), periods=len(agents), freq="30min")
    return pd.DataFrame({"unique_id": "chat", "ds": ds, "volume": 10.0, "aht_s": 300.0,
                         "agents_required": agents, "service_level": 0.8})


def summary(cost: float, paid: float, short: float) -> dict:
    return {"status": "optimal", "solver": "cbc", "labour_cost": cost, "paid_hours": paid,
            "shortfall_agent_hours": short, "mip_gap": 0.0}


@pytest.fixture
def store(tmp_path) -> Path:
    """Run 1: forecast from history v1; run 2: forecast from history v2 (+10%); run 3: a
    plan with a requirement and a schedule."""
    v1, v2 = tmp_path / "h1.csv", tmp_path / "h2.csv"
    v1.write_text("unique_id,ds,y\nchat,2026-11-08 23:00,4\n")
    v2.write_text("unique_id,ds,y\nchat,2026-11-08 23:00,5\n")
    path = tmp_path / "runs.duckdb"
    with RunStore(path) as opened:
        opened.record(RunRecord(kind="forecast", command="forecast one", model="histavg",
                                config_yaml="forecast:\n  model: histavg\n  horizon: 24\n",
                                inputs=[fingerprint("history", v1)], forecasts=forecast(1.0)))
        opened.record(RunRecord(kind="forecast", command="forecast two", model="histavg",
                                config_yaml="forecast:\n  model: histavg\n  horizon: 48\n",
                                inputs=[fingerprint("history", v2)], forecasts=forecast(1.1)))
        opened.record(RunRecord(
            kind="plan", command="plan", model="histavg", inputs=[fingerprint("history", v2)],
            forecasts=forecast(1.1, queues=("chat",)), requirements=requirement([2, 3, 4, 1]),
            schedules=[ScheduleRecord("base", summary(1234.5, 60.0, 1.5))]))
    return path


def test_runs_list_newest_first_with_filters(store):
    result = invoke("runs", "list", "--store", store)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "kind", "created", "status", "model", "horizon", "queues",
                                "inputs"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1"]
    h1 = hashlib.sha256((store.parent / "h1.csv").read_bytes()).hexdigest()
    assert lines[3].split()[-2:] == ["2", f"history:{h1[:8]}"]
    assert "2026-11-09 00:00 to 2026-11-09 23:00" in lines[3]

    only_plans = invoke("runs", "list", "--store", store, "--kind", "plan").output
    assert [line.split()[0] for line in only_plans.splitlines()[1:]] == ["3"]
    limited = invoke("runs", "list", "--store", store, "--limit", "1").output.splitlines()
    assert [line.split()[0] for line in limited[1:-1]] == ["3"]
    assert limited[-1] == "(2 older run(s) not shown; --limit to see more)"
    assert invoke("runs", "list", "--store", store, "--kind", "whatif").output == (
        f"no whatif runs in {store}\n")


def test_runs_show_totals_agent_hours_and_schedule(store):
    result = invoke("runs", "show", "3", "--store", store)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("run 3: plan, status ok, created ")
    total = forecast(1.1, queues=("chat",))["yhat"].sum()
    assert re.search(rf"chat histavg\s+24\s+{total:,.2f}", out)
    # 30-minute intervals: (2 + 3 + 4 + 1) agents x 0.5 h = 5 agent-hours.
    assert re.search(r"base\s+chat\s+5.00", out)
    assert re.search(r"base\s+optimal\s+cbc\s+1,234.50\s+60.00\s+1.50\s+0.00", out)
    assert out.rstrip().endswith("failures: none")
    config = invoke("runs", "show", "1", "--store", store, "--config")
    assert config.output == "forecast:\n  model: histavg\n  horizon: 24\n"


def test_runs_diff_shows_changed_inputs_config_and_totals(store, tmp_path):
    result = invoke("runs", "diff", "1", "2", "--store", store)
    assert result.exit_code == 0, result.output
    out = result.output
    h1, h2 = (hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("h1.csv",
                                                                                 "h2.csv"))
    assert f"  history: changed {h1[:12]} -> {h2[:12]}" in out
    assert "  -  horizon: 24\n  +  horizon: 48" in out
    for uid in ("chat", "mail"):
        a = forecast(1.0).query("unique_id == @uid")["yhat"].sum()
        b = forecast(1.1).query("unique_id == @uid")["yhat"].sum()
        assert re.search(rf"{uid} histavg\s+{a:,.2f}\s+{b:,.2f}\s+{b - a:,.2f}\s+10.00", out), uid
    # Runs of different kinds: compared on what they share (forecasts of chat only in run 3).
    mixed = invoke("runs", "diff", "2", "3", "--store", store).output
    assert "  history: same" in mixed
    assert "config:\n" in mixed
    assert re.search(r"mail histavg\s+[\d,.]+\s+-\s+-\s+-\n", mixed)
    assert "requirements" not in mixed and "schedules" not in mixed


def test_runs_diff_of_two_plans_compares_agent_hours_and_schedules(tmp_path):
    path = tmp_path / "runs.duckdb"
    with RunStore(path) as opened:
        for agents, cost in (([2, 3, 4, 1], 1000.0), ([2, 4, 4, 2], 1100.0)):
            opened.record(RunRecord(kind="plan", command="plan", requirements=requirement(agents),
                                    schedules=[ScheduleRecord("base", summary(cost, 50, 0))]))
    out = invoke("runs", "diff", "1", "2", "--store", path).output
    assert "config: identical" in out
    assert re.search(r"base\s+chat\s+5.00\s+6.00\s+1.00\s+20.00", out)
    assert re.search(r"scenario\s+metric\s+run 1\s+run 2\s+change\s+change %", out)
    assert re.search(r"base\s+labour_cost\s+1,000.00\s+1,100.00\s+100.00\s+10.00", out)
    assert re.search(r"base\s+paid_hours\s+50.00\s+50.00\s+0.00\s+0.00", out)
    assert re.search(r"base\s+shortfall_agent_hours\s+0.00\s+0.00\s+0.00\s+-\n", out)
    same = invoke("runs", "diff", "2", "2", "--store", path)
    assert same.exit_code == 2 and "got run 2 twice" in same.output


def test_missing_store_and_unknown_run_are_one_line_errors(store, tmp_path):
    missing = tmp_path / "nope.duckdb"
    result = invoke("runs", "list", "--store", missing)
    assert result.exit_code == 1
    assert result.output == (f"Error: run store {missing}: no such file (runs are recorded by "
                             "staffcast forecast, plan and whatif; pass --store to pick "
                             "another file)\n")
    assert not missing.exists()
    unknown = invoke("runs", "show", "9", "--store", store)
    assert unknown.exit_code == 1
    assert unknown.output == f"Error: run store {store}: no run 9; valid run ids: 1, 2, 3\n"
    assert invoke("runs", "diff", "1", "9", "--store", store).output == unknown.output


def test_actuals_loads_then_replaces(tmp_path):
    write_small_shop(tmp_path, SMALL_SHOP_CONFIG)
    store = tmp_path / "runs.duckdb"
    first = invoke("actuals", "--history", tmp_path / "history.csv", "--store", store,
                   "--config", tmp_path / "config.yaml")
    assert first.exit_code == 0, first.output
    assert first.output == (
        f"actuals load 1 into {store}: 672 hour(s) read from {tmp_path / 'history.csv'}, "
        "672 new, 0 replaced (0 with a changed value); 1 queue(s), 2026-10-12 00:00 to "
        "2026-11-08 23:00\n")
    # A later export of the last two weeks, with 3 hours of the last day corrected, and
    # one more day.
    history = pd.read_csv(tmp_path / "history.csv", parse_dates=["ds"])
    history = history[history["ds"] >= "2026-10-26"].copy()
    history.loc[(history["ds"] >= "2026-11-08") & history["ds"].dt.hour.isin([9, 10, 11]),
                "y"] += 1
    last_day = history[history["ds"] >= "2026-11-08"]
    later = pd.concat([history, last_day.assign(ds=last_day["ds"] + pd.Timedelta(days=1))])
    later.to_csv(tmp_path / "later.csv", index=False)
    second = invoke("actuals", "--history", tmp_path / "later.csv", "--store", store)
    assert second.exit_code == 0, second.output
    assert "360 hour(s) read" in second.output
    assert "24 new, 336 replaced (3 with a changed value)" in second.output
    with RunStore(store, read_only=True) as opened:
        stored = opened.actuals()
        loads = opened.query("SELECT path, sha256 FROM actuals_loads ORDER BY load_id")
    assert len(stored) == 672 + 24
    np.testing.assert_array_equal(stored["y"].to_numpy()[-360:], later["y"].to_numpy())
    assert loads["sha256"].iloc[1] == hashlib.sha256((tmp_path / "later.csv").read_bytes()
                                                     ).hexdigest()


def test_actuals_takes_a_single_morning(tmp_path):
    # Intraday actuals arrive hours at a time; a forecast's two-week minimum does not apply.
    write_small_shop(tmp_path, SMALL_SHOP_CONFIG)
    history = pd.read_csv(tmp_path / "history.csv")
    morning = history[history["ds"].str.startswith("2026-11-08")].head(10)
    morning.to_csv(tmp_path / "morning.csv", index=False)
    store = tmp_path / "runs.duckdb"
    result = invoke("actuals", "--history", tmp_path / "morning.csv", "--store", store)
    assert result.exit_code == 0, result.output
    assert "10 hour(s) read" in result.output and "10 new" in result.output
    with RunStore(store, read_only=True) as opened:
        np.testing.assert_array_equal(opened.actuals()["y"].to_numpy(),
                                      morning["y"].to_numpy(dtype=float))


def test_actuals_checks_the_history_like_forecast(tmp_path):
    write_small_shop(tmp_path, SMALL_SHOP_CONFIG)
    history = pd.read_csv(tmp_path / "history.csv")
    history.drop(index=[400]).to_csv(tmp_path / "gap.csv", index=False)
    store = tmp_path / "runs.duckdb"
    result = invoke("actuals", "--history", tmp_path / "gap.csv", "--store", store)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert history.loc[400, "ds"][:13] in result.output  # the missing hour is named
    assert not store.exists()
    filled = invoke("actuals", "--history", tmp_path / "gap.csv", "--store", store,
                    "--fill-missing", "zero")
    assert filled.exit_code == 0, filled.output
    assert "672 hour(s) read" in filled.output

"""Accuracy of recorded runs against later actuals: a hand-made store with values worked
out by hand, and the real bank data replayed week by week against an independent pandas
computation."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from staffcast.forecasting import metrics as forecast_metrics
from staffcast.scheduler.requirements import QueueStaffing, compute_requirements
from staffcast.accuracy import (
    METRICS,
    AccuracyError,
    accuracy,
    horizon_day,
    metric_rows,
)
from staffcast.store import RunRecord, RunStore, ScheduleRecord

CONFIG = """# resolved config of: staffcast plan ...
queues:
  q1: {aht_s: 180, sl_target: 0.8, sl_seconds: 20, opening_hours: '08:00-20:00'}
"""
MON = pd.Timestamp("2026-01-05")  # a Monday
NEXT_MON = MON + pd.Timedelta(days=7)


def _forecast_rows(ds, yhat, model, origin=None):
    yhat = np.asarray(yhat, dtype=float)
    return pd.DataFrame({"unique_id": "q1", "ds": pd.to_datetime(ds), "model": model,
                         "yhat": yhat, "yhat_lo_80": yhat - 3, "yhat_hi_80": yhat + 3,
                         "yhat_lo_95": yhat - 10, "yhat_hi_95": yhat + 10, "origin": origin})


def _hand_store(path):
    hours = [MON + pd.Timedelta(hours=h) for h in (8, 9, 10, 11)]
    late = [NEXT_MON + pd.Timedelta(hours=8), NEXT_MON + pd.Timedelta(hours=9)]
    with RunStore(path) as store:
        store.record(RunRecord(kind="forecast", command="old", model="arima",
                               forecasts=_forecast_rows(["2025-06-02 08:00"], [5], "arima")))
        store.record(RunRecord(kind="forecast", command="f", model="arima",
                               forecasts=_forecast_rows(hours + late, [12, 18, 0, 36, 30, 50],
                                                        "arima", MON + pd.Timedelta(hours=7))))
        requirements = pd.DataFrame({
            "unique_id": "q1", "ds": [late[0], late[0] + pd.Timedelta(minutes=30), late[1]],
            "interval_minutes": 30, "volume": 1.0, "aht_s": 180.0,
            "agents_required": [5.0, 2.0, 9.0], "service_level": 0.8})
        coverage = pd.DataFrame({"unique_id": "q1", "ds": requirements["ds"][:2],
                                 "required": [5.0, 2.0], "scheduled": [4.0, 6.0],
                                 "shortfall": [1.0, 0.0], "service_level": 0.8})
        store.record(RunRecord(
            kind="plan", command="p", model="histavg", config_yaml=CONFIG,
            forecasts=_forecast_rows([late[0]], [44], "histavg"),
            requirements=pd.concat([requirements.assign(scenario="base"),
                                    requirements.assign(scenario="busy",
                                                        agents_required=1.0)]),
            schedules=[ScheduleRecord("base", {"status": "optimal"}, CONFIG, coverage),
                       ScheduleRecord("busy", {"status": "optimal"})]))
        store.record(RunRecord(kind="forecast", command="later", model="arima",
                               forecasts=_forecast_rows(["2026-02-02 08:00"], [5], "arima")))
        store.add_actuals(pd.DataFrame({"unique_id": "q1", "ds": hours + [late[0]],
                                        "y": [10.0, 20.0, 0.0, 30.0, 40.0]}))


def _value(frame, run_id, metric, **cell):
    rows = frame[(frame["run_id"] == run_id) & (frame["metric"] == metric)]
    for key, want in cell.items():
        rows = rows[rows[key] == want]
    assert len(rows) == 1, (run_id, metric, cell, rows)
    return float(rows["value"].iloc[0])


def test_hand_made_store(tmp_path):
    _hand_store(tmp_path / "runs.duckdb")
    with RunStore(tmp_path / "runs.duckdb", read_only=True) as store:
        report = accuracy(store, weeks=8)
    assert report.latest_actual == NEXT_MON + pd.Timedelta(hours=8)
    listing = report.runs.set_index("run_id")
    assert list(listing.index) == [2, 3, 4]  # run 1 starts before the 8-week window
    assert list(listing["status"]) == ["compared", "compared", "waiting"]
    assert list(listing["hours_with_actuals"]) == [5, 1, 0]

    m = report.metrics
    # Run 2: 5 hours with actuals (10:00 is closed: y = yhat = 0), errors 2, 2, 0, 6, 10.
    assert _value(m, 2, "wape") == pytest.approx(20 / 100)
    assert _value(m, 2, "bias") == pytest.approx(-4 / 100)
    assert _value(m, 2, "coverage_80") == pytest.approx(2 / 4)
    assert _value(m, 2, "coverage_95") == pytest.approx(4 / 4)
    assert _value(m, 2, "mae") == pytest.approx(20 / 4)
    assert _value(m, 2, "hours") == 4
    assert _value(m, 2, "actual_total") == 100
    assert _value(m, 2, "forecast_total") == 96
    assert set(m.loc[m["run_id"] == 2, "model"]) == {"arima"}

    d = report.detail
    assert _value(d, 2, "wape", week=MON, horizon_day=1) == pytest.approx(10 / 60)
    # 2026-01-12 08:00 is 7 days and 1 hour after the origin: the last bucket.
    assert _value(d, 2, "wape", week=NEXT_MON, horizon_day=7) == pytest.approx(10 / 40)
    # Run 3 has no origin: its forecast starts the hour after it, lead 1 hour.
    assert _value(d, 3, "wape", week=NEXT_MON, horizon_day=1) == pytest.approx(4 / 40)

    # Staffing of run 3: the 08:00 and 08:30 intervals have an actual (40 calls that
    # hour), 09:00 has none. Needed agents from the Erlang C staffing of 20 calls per
    # half hour (by hand: 3 agents answer 60% within 20 s, 4 agents 86%); implied 5 and 2
    # (base), 1 and 1 (busy); scheduled 4 and 6 (base only).
    need = compute_requirements(
        pd.DataFrame({"unique_id": ["q1"], "ds": [NEXT_MON + pd.Timedelta(hours=8)],
                      "volume": [40.0]}),
        {"q1": QueueStaffing(aht_s=180, sl_target=0.8, sl_seconds=20)},
        interval_minutes=30)["agents_required"].to_numpy(float)
    assert list(need) == [4.0, 4.0]  # 2 erlangs per half hour at 80/20
    assert _value(m, 3, "over_staffed_agent_hours") == pytest.approx(0.5 * (5 - 4))
    assert _value(m, 3, "under_staffed_agent_hours") == pytest.approx(0.5 * (4 - 2))
    assert _value(m, 3, "roster_over_agent_hours") == pytest.approx(0.5 * (6 - 4))
    assert _value(m, 3, "roster_under_agent_hours") == 0
    assert _value(m, 3, "under_staffed_agent_hours:busy") == pytest.approx(0.5 * 3 * 2)
    assert _value(m, 3, "over_staffed_agent_hours:busy") == 0
    assert m.loc[m["metric"] == "roster_over_agent_hours:busy"].empty  # no coverage
    assert _value(d, 3, "over_staffed_agent_hours", week=NEXT_MON, horizon_day=1) == 0.5
    assert set(m.loc[m["run_id"] == 3, "model"]) == {"histavg"}
    assert report.notes == ()

    week = report.by_week.set_index(["week", "model"])
    assert week.loc[(NEXT_MON, "arima"), "wape"] == pytest.approx(0.25)
    assert week.loc[(MON, "arima"), "hours"] == 3


def test_a_scenario_without_any_config_is_noted(tmp_path):
    with RunStore(tmp_path / "s.duckdb") as store:
        store.record(RunRecord(
            kind="plan", command="p", model="histavg",
            requirements=pd.DataFrame({"unique_id": "q1", "ds": [MON], "interval_minutes": 60,
                                       "volume": 1.0, "aht_s": 1.0, "agents_required": 1.0,
                                       "service_level": 1.0})))
        store.add_actuals(pd.DataFrame({"unique_id": ["q1"], "ds": [MON], "y": [3.0]}))
        report = accuracy(store)
    assert report.notes == (("run 1 scenario 'base': no config recorded, staffing not "
                            "compared"),)
    assert list(report.runs["status"]) == ["waiting"]


def test_hours_missing_from_the_actuals_do_not_stretch_the_others(tmp_path):
    ds = pd.date_range(MON + pd.Timedelta(hours=8), periods=4, freq="h")
    with RunStore(tmp_path / "g.duckdb") as store:
        store.record(RunRecord(
            kind="plan", command="p", model="histavg", config_yaml=CONFIG,
            requirements=pd.DataFrame({"unique_id": "q1", "ds": ds, "interval_minutes": 60,
                                       "volume": 1.0, "aht_s": 180.0,
                                       "agents_required": 10.0, "service_level": 1.0})))
        # 09:00 and 10:00 never arrived: 08:00 and 11:00 are one hour each, 40 calls.
        store.add_actuals(pd.DataFrame({"unique_id": "q1", "ds": ds[[0, 3]], "y": 40.0}))
        report = accuracy(store)
    # 40 calls of 180 s in an hour = 2 erlangs: 4 agents for 80% within 20 s.
    assert _value(report.metrics, 1, "over_staffed_agent_hours") == pytest.approx(2 * 6)
    assert report.staffing["intervals"].tolist() == [2]


def test_no_actuals_and_bad_weeks_are_errors(tmp_path):
    with RunStore(tmp_path / "e.duckdb") as store:
        with pytest.raises(AccuracyError, match="holds no actuals yet; load them with "
                                                "`staffcast actuals"):
            accuracy(store)
        with pytest.raises(AccuracyError, match="weeks must be a whole number >= 1, got 0"):
            accuracy(store, weeks=0)


def test_horizon_day_buckets():
    origin = pd.Series(pd.to_datetime(["2026-01-05 07:00"] * 4))
    ds = pd.Series(pd.to_datetime(["2026-01-05 08:00", "2026-01-06 07:00", "2026-01-06 08:00",
                                   "2026-01-20 08:00"]))
    assert list(horizon_day(ds, origin)) == [1, 1, 2, 7]


@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4), st.floats(0, 50)),
                min_size=1, max_size=40))
def test_registry_sums_agree_with_forecast_metrics(rows):
    y = np.array([r[0] for r in rows])
    yhat = np.array([r[1] for r in rows])
    width = np.array([r[2] for r in rows])
    hours = pd.DataFrame({"k": 1, "y": y, "yhat": yhat, "yhat_lo_80": yhat - width,
                          "yhat_hi_80": yhat + width, "yhat_lo_95": yhat - 2 * width,
                          "yhat_hi_95": yhat + 2 * width})
    got = metric_rows(hours, ["k"]).set_index("metric")["value"]
    is_open = (y != 0) | (yhat != 0)
    if y.sum() > 0:
        assert got["wape"] == pytest.approx(forecast_metrics.wape(y, yhat))
        assert got["bias"] == pytest.approx(forecast_metrics.bias(y, yhat))
    else:
        assert "wape" not in got and "bias" not in got
    if is_open.any():
        assert got["coverage_80"] == pytest.approx(forecast_metrics.coverage_80(
            y[is_open], yhat[is_open], lo_80=(yhat - width)[is_open],
            hi_80=(yhat + width)[is_open]))
        for level, w in ((80, width), (95, 2 * width)):
            assert got[f"interval_score_{level}"] == pytest.approx(
                forecast_metrics.interval_score(y[is_open], (yhat - w)[is_open],
                                                (yhat + w)[is_open], level))
    assert got["hours"] == is_open.sum()
    assert set(got.index) <= set(METRICS)


# ---------------------------------------------------------------- the real bank data

REPLAY_ORIGINS = ("2003-08-29 21:00", "2003-09-05 21:00", "2003-09-12 21:00",
                  "2003-09-19 21:00", "2003-09-26 21:00")


@pytest.mark.shared_data
def test_bank_data_replayed_week_by_week_matches_an_independent_computation(shared_data,
                                                                              tmp_path):
    from staffcast.forecasting.core import forecast
    from staffcast.cli import main
    from tests.bank_data import (
        CALENDAR_CSV,
        CONFIG_YAML,
        QUEUE_SETTINGS,
        bank_history,
        raw_rows,
    )

    history, calendar = bank_history(shared_data, tmp_path)
    store_path = tmp_path / "runs.duckdb"
    forecasts = {}
    with RunStore(store_path) as store:
        for origin in map(pd.Timestamp, REPLAY_ORIGINS):
            predicted = forecast(history[history["ds"] <= origin], horizon=168,
                                 models=["arima"], calendar=calendar,
                                 queue_settings=QUEUE_SETTINGS)
            run_id = store.record(RunRecord(kind="forecast", command="replay", model="arima",
                                            forecasts=predicted.assign(origin=origin)))
            forecasts[run_id] = predicted
    # What really happened, loaded as a planner would: the published rows as ds, y.
    raw = raw_rows(shared_data)
    raw.to_csv(tmp_path / "actuals.csv", index=False)
    (tmp_path / "config.yaml").write_text(CONFIG_YAML)
    (tmp_path / "closures.csv").write_text(CALENDAR_CSV)
    runner = CliRunner()
    loaded = runner.invoke(main, ["actuals", "--history", str(tmp_path / "actuals.csv"),
                                  "--store", str(store_path), "--config",
                                  str(tmp_path / "config.yaml"), "--calendar",
                                  str(tmp_path / "closures.csv")])
    assert loaded.exit_code == 0, loaded.output
    out = tmp_path / "acc.csv"
    detail_out = tmp_path / "detail.csv"
    result = runner.invoke(main, ["accuracy", "--store", str(store_path), "--weeks", "8",
                                  "--out", str(out), "--detail-out", str(detail_out)])
    assert result.exit_code == 0, result.output
    print(result.output)
    got = pd.read_csv(out)
    assert list(got.columns) == ["run_id", "unique_id", "model", "metric", "value"]

    # Independent: each run's forecast against the published rows (open hours of open
    # days; the closed hours the loaded grid adds are zero on both sides).
    expected, cells = [], []
    for run_id, predicted in forecasts.items():
        both = predicted.merge(raw, on="ds", how="inner")
        both["week"] = (both["ds"] - pd.to_timedelta(both["ds"].dt.day_of_week, unit="D")
                        ).dt.strftime("%Y-%m-%d")
        lead_hours = (both["ds"] - pd.Timestamp(REPLAY_ORIGINS[run_id - 1])) / pd.Timedelta(
            hours=1)
        both["horizon_day"] = np.minimum((lead_hours + 23) // 24, 7).astype(int)
        for (week, day), cell in both.groupby(["week", "horizon_day"]):
            cells.append((run_id, week, day, np.abs(cell["y"] - cell["yhat"]).sum()
                          / cell["y"].sum()))
        y, yhat = both["y"].to_numpy(float), both["yhat"].to_numpy(float)
        assert len(both) == 15 * both["ds"].dt.normalize().nunique()  # 07:00-21:00
        in80 = (y >= both["yhat_lo_80"]) & (y <= both["yhat_hi_80"])
        in95 = (y >= both["yhat_lo_95"]) & (y <= both["yhat_hi_95"])
        # Closed hours in the loaded actuals: zero calls, and the forecast is zero there.
        closed = predicted[~predicted["ds"].isin(raw["ds"])]
        assert (closed["yhat"] == 0).all()
        scores = {level: forecast_metrics.interval_score(
            y, both[f"yhat_lo_{level}"].to_numpy(float), both[f"yhat_hi_{level}"].to_numpy(float),
            level) for level in (80, 95)}
        values = {"wape": np.abs(y - yhat).sum() / y.sum(), "bias": (yhat - y).sum() / y.sum(),
                  "coverage_80": in80.mean(), "coverage_95": in95.mean(),
                  "interval_score_80": scores[80], "interval_score_95": scores[95],
                  "mae": np.abs(y - yhat).mean(), "hours": len(both),
                  "actual_total": y.sum(), "forecast_total": yhat.sum()}
        expected += [(run_id, "default", "arima", k, float(v)) for k, v in values.items()]
    expected = pd.DataFrame(expected, columns=got.columns)
    merged = expected.merge(got, on=["run_id", "unique_id", "model", "metric"],
                            how="outer", suffixes=("_expected", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    np.testing.assert_allclose(merged["value_got"], merged["value_expected"], rtol=1e-9)
    detail = pd.read_csv(detail_out)
    assert list(detail.columns) == ["run_id", "unique_id", "model", "week", "horizon_day",
                                    "metric", "value"]
    detail = detail[(detail["metric"] == "wape")].set_index(["run_id", "week", "horizon_day"])
    cells = pd.DataFrame(cells, columns=["run_id", "week", "horizon_day", "wape"]).set_index(
        ["run_id", "week", "horizon_day"])
    assert sorted(detail.index) == sorted(cells.index)
    np.testing.assert_allclose(detail.loc[cells.index, "value"], cells["wape"], rtol=1e-9)
    weekly = expected[expected["metric"] == "wape"].set_index("run_id")["value"]
    print("replay WAPE per week:", {REPLAY_ORIGINS[i - 1][:10]: round(v, 4)
                                    for i, v in weekly.items()})
    assert (weekly < 0.15).all()


def test_a_recorded_small_shop_plan_against_busier_actuals(tmp_path):
    """A real plan (histavg forecast, Erlang C requirement, CBC shift plan) recorded as
    `plan` records it; the week then runs 30% above the forecast."""
    from staffcast.forecasting.calendar import load_calendar
    from staffcast.forecasting.data import load_history
    from staffcast.config import dump_resolved, load_config
    from staffcast.pipeline import (
        forecast_volume,
        forecast_week,
        run_schedule,
        schedule_rules,
        staffing_settings,
    )
    from staffcast.recording import record_plan_run
    from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

    folder = write_small_shop(tmp_path, SMALL_SHOP_CONFIG)
    config = load_config(folder / "config.yaml")
    week = forecast_week(config, load_history(folder / "history.csv"),
                         load_calendar(None, country=None), week=None, model="histavg")
    queues, opening = staffing_settings(config, ["chat"])
    requirement = compute_requirements(forecast_volume(week.predicted), queues,
                                       interval_minutes=60, opening_hours=opening)
    plan = run_schedule(requirement, schedule_rules(config), folder / "plan", solver="cbc",
                        time_limit_s=20, gap=0.0)
    resolved = "# resolved config of: staffcast plan --config config.yaml\n" + \
        dump_resolved(config)
    store_path = tmp_path / "runs.duckdb"
    record_plan_run(store_path, command="staffcast plan", week_forecast=week,
                    requirement=requirement, run=plan, config_yaml=resolved,
                    inputs={"history": folder / "history.csv"})
    actual = week.predicted[["unique_id", "ds"]].assign(
        y=(1.3 * week.predicted["yhat"]).round())
    with RunStore(store_path) as store:
        store.add_actuals(actual)
        report = accuracy(store)

    # Independent: the actual volume staffed with the same settings, against the plan.
    needed = compute_requirements(actual.rename(columns={"y": "volume"}), queues,
                                  interval_minutes=60, opening_hours=opening)
    both = requirement[["ds", "agents_required"]].merge(
        needed[["ds", "agents_required"]], on="ds", suffixes=("_plan", "_needed")).merge(
        plan.coverage[["ds", "scheduled"]], on="ds")
    gap = both["agents_required_needed"] - both["agents_required_plan"]
    roster_gap = both["agents_required_needed"] - both["scheduled"]
    m = report.metrics
    assert _value(m, 1, "under_staffed_agent_hours") == pytest.approx(gap.clip(lower=0).sum())
    assert _value(m, 1, "over_staffed_agent_hours") == pytest.approx((-gap).clip(lower=0).sum())
    assert _value(m, 1, "roster_under_agent_hours") == pytest.approx(
        roster_gap.clip(lower=0).sum())
    assert _value(m, 1, "roster_over_agent_hours") == pytest.approx(
        (-roster_gap).clip(lower=0).sum())
    assert _value(m, 1, "under_staffed_agent_hours") > 0  # 30% more calls need more agents
    assert _value(m, 1, "bias") == pytest.approx(
        (week.predicted["yhat"].sum() - actual["y"].sum()) / actual["y"].sum())
    assert report.notes == ()

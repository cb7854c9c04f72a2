"""Tests for scheduler/simulate.py: agreement with queueing theory computed here
independently (closed-form Erlang C with mpmath, an Erlang A birth-death chain), the
capacity-change semantics on hand-made cases, reproducibility and input validation."""

import json
import random

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.erlang import agents_for_targets, erlang_a_metrics
from staffcast.scheduler.simulate import (PlanError, StaffingSteps, VolumeDraw, _draw_volume, _run,
                                simulate_plan, simulate_queue)


def erlang_c_sl(n: int, a: float, aht: float, t: float) -> float:
    """Closed-form Erlang C service level from the textbook sums, in mpmath."""
    a, n = mpmath.mpf(a), int(n)
    top = a ** n / mpmath.factorial(n) * n / (n - a)
    p_wait = top / (mpmath.fsum(a ** k / mpmath.factorial(k) for k in range(n)) + top)
    return float(1 - p_wait * mpmath.exp(-(n - a) * t / aht))


def erlang_a_chain(n: int, lam: float, mu: float, theta: float, k_max: int = 400):
    """Abandon rate and mean queue time of M/M/n+M from its birth-death chain:
    birth lam, death min(k, n) mu + max(k - n, 0) theta, truncated at k_max."""
    k = np.arange(k_max + 1)
    death = np.minimum(k, n) * mu + np.maximum(k - n, 0) * theta
    log_p = np.r_[0.0, np.cumsum(np.log(lam) - np.log(death[1:]))]
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    queue = (np.maximum(k - n, 0) * p).sum()
    return theta * queue / lam, queue / lam  # abandon share, Little's law on the queue


def steady(intervals: pd.DataFrame, first: int = 1) -> dict[str, float]:
    """Pooled ratios over intervals `first:` (the first starts from an empty queue)."""
    rows = intervals.iloc[first:]
    return {"sl": rows["answered_within_t"].sum() / rows["offered"].sum(),
            "abandon": rows["abandoned"].sum() / rows["offered"].sum(),
            "offered": rows["offered"].sum()}


# ---------------------------------------------------------------- theory

def test_agrees_with_erlang_c_on_a_stationary_queue():
    a, n, aht, t = 10.0, 14, 180.0, 20.0
    # ~190,000 contacts: the SL estimate's standard error is ~0.005 (queue states are
    # strongly correlated over time, so it is well above the binomial figure).
    hours, reps = 49, 20
    res = simulate_queue(np.full(hours, a * 3600 / aht), 3600.0, np.full(hours, n),
                         aht_s=aht, sl_seconds=t, seed=2024, replications=reps)
    got = steady(res.intervals)
    assert got["offered"] * reps > 5000
    reference = erlang_c_sl(n, a, aht, t)
    assert reference == pytest.approx(0.8884, abs=1e-3)  # the textbook figure
    assert abs(got["sl"] - reference) < 0.02


def test_abandonment_agrees_with_an_erlang_a_birth_death_chain():
    n, aht, patience, a = 11, 180.0, 120.0, 10.5
    hours, reps = 49, 20
    res = simulate_queue(np.full(hours, a * 3600 / aht), 3600.0, np.full(hours, n),
                         aht_s=aht, sl_seconds=20.0, patience_s=patience, seed=7,
                         replications=reps)
    abandon, queue_time = erlang_a_chain(n, a / aht, 1 / aht, 1 / patience)
    got = steady(res.intervals)
    assert 0.03 < abandon < 0.2  # a case where abandonment matters
    assert got["abandon"] == pytest.approx(abandon, rel=0.1)
    rows = res.intervals.iloc[1:]
    sim_queue_time = (rows["queue_time_s"] * (rows["answered"] + rows["abandoned"])).sum() / \
        (rows["answered"] + rows["abandoned"]).sum()
    assert sim_queue_time == pytest.approx(queue_time, rel=0.1)
    # SL with abandoned calls counted as misses: cross-checked with staffcast.scheduler.erlang's
    # Erlang A (Kummer-function formulas, tested on their own in test_erlang.py).
    assert got["sl"] == pytest.approx(
        erlang_a_metrics(n, a, aht, patience, 20.0)["service_level"], abs=0.02)


def test_roster_staffed_to_80_20_by_erlang_c_reaches_78_percent_daily():
    # A working day with a morning and an afternoon peak, 30-minute intervals, AHT 240 s.
    hour = np.arange(8, 20, 0.5) + 0.25
    erlangs = 4 + 26 * np.exp(-0.5 * ((hour - 11) / 1.5) ** 2) \
        + 18 * np.exp(-0.5 * ((hour - 16) / 1.5) ** 2)
    aht, interval_s = 240.0, 1800.0
    agents = agents_for_targets(erlangs, aht, sl_target=0.8, sl_seconds=20)
    res = simulate_queue(erlangs * interval_s / aht, interval_s, agents, aht_s=aht,
                         sl_seconds=20.0, seed=5, replications=10, start="2026-11-11 08:00")
    assert len(res.days) == 1
    assert res.days["service_level"].iloc[0] >= 0.78
    assert res.days["offered"].iloc[0] > 3000


# ---------------------------------------------------------------- semantics

def test_same_seed_same_results_and_another_seed_differs():
    kw = dict(aht_s=200.0, sl_seconds=20.0, patience_s=90.0, replications=3,
              handle_dist="lognormal", handle_cv=0.8)
    vol, agents = [40.0, 80.0, 60.0], [3, 6, 4]
    one = simulate_queue(vol, 900.0, agents, seed=3, **kw)
    two = simulate_queue(vol, 900.0, agents, seed=3, **kw)
    other = simulate_queue(vol, 900.0, agents, seed=4, **kw)
    pd.testing.assert_frame_equal(one.intervals, two.intervals)
    pd.testing.assert_frame_equal(one.days, two.days)
    assert not one.intervals["offered"].equals(other.intervals["offered"])


def test_agent_leaving_mid_call_finishes_it_and_takes_no_new_call():
    # One agent until t = 50: contact 0 (100 s long) is in hand when the shift ends.
    start, abandoned = _run([0.0, 10.0, 20.0], [100.0, 5.0, 5.0], None, [0.0, 50.0],
                            [1, 0], random.Random(0))
    assert start[0] == 0.0
    assert np.isnan(start[1]) and np.isnan(start[2])
    assert abandoned == [False, False, False]
    # A new agent at t = 150 takes the waiting contacts at once, in arrival order.
    start, _ = _run([0.0, 10.0, 20.0], [100.0, 5.0, 5.0], None, [0.0, 50.0, 150.0],
                    [1, 0, 1], random.Random(0))
    assert start == [0.0, 150.0, 155.0]


def test_a_rising_count_serves_the_queue_at_the_change_time():
    start, _ = _run([0.0, 1.0, 2.0], [50.0, 50.0, 50.0], None, [0.0, 10.0], [1, 3],
                    random.Random(0))
    assert start == [0.0, 10.0, 10.0]


def test_the_agent_who_leaves_is_a_uniform_choice_among_the_busy():
    # Two busy agents (calls ending at 100 and 10.1); at t = 5 one of them must go.
    # If the 100-s call's agent goes, the other takes contact 2 at 10.1; else at 100.
    outcomes = []
    for s in range(400):
        start, _ = _run([0.0, 0.1, 1.0], [100.0, 10.0, 5.0], None, [0.0, 5.0], [2, 1],
                        random.Random(s))
        outcomes.append(start[2])
    early = np.isclose(outcomes, 10.1)
    assert np.all(early | np.isclose(outcomes, 100.0))
    assert 0.4 < early.mean() < 0.6


def test_public_api_one_agent_shift_ends_mid_call():
    # Lognormal with a tiny cv: every call lasts ~1,000 s, far past the 60-s shift.
    res = simulate_queue([30.0, 0.0], 60.0, StaffingSteps(np.array([0.0, 60.0]),
                                                          np.array([1, 0])),
                         aht_s=1000.0, handle_dist="lognormal", handle_cv=1e-6,
                         sl_seconds=20.0, seed=1, replications=5)
    first = res.intervals.iloc[0]
    assert first["answered"] == 1.0  # the first caller, in every replication
    assert first["unanswered"] == first["offered"] - 1
    assert first["agents"] == 1.0 and res.intervals["agents"].iloc[1] == 0.0


def test_zero_agent_intervals_everyone_waits_or_abandons():
    vol = [20.0, 20.0]
    res = simulate_queue(vol, 600.0, [0, 0], aht_s=100.0, sl_seconds=20.0, seed=0,
                         replications=2)
    assert (res.intervals["answered"] == 0).all()
    assert (res.intervals["unanswered"] == res.intervals["offered"]).all()
    assert (res.intervals["service_level"] == 0).all()
    res = simulate_queue(vol, 600.0, [0, 0], aht_s=100.0, sl_seconds=20.0, patience_s=30.0,
                         seed=0, replications=2)
    assert (res.intervals["abandoned"] == res.intervals["offered"]).all()
    assert (res.intervals["abandon_rate"] == 1).all()
    # Callers of a closed interval are answered once agents arrive, after a long wait.
    res = simulate_queue(vol, 600.0, [0, 10], aht_s=100.0, sl_seconds=20.0, seed=0,
                         replications=2)
    first = res.intervals.iloc[0]
    assert first["answered"] == first["offered"] > 0
    assert first["service_level"] < 0.2 and first["asa_s"] > 200


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0.1, 30)), min_size=1, max_size=40),
       st.integers(1, 4))
def test_one_more_agent_never_delays_anyone(contacts, n):
    # Sample-path monotonicity of FIFO multi-server queues with a constant agent count.
    contacts.sort()
    arrive = [c[0] for c in contacts]
    handle = [c[1] for c in contacts]
    fewer, _ = _run(arrive, handle, None, [0.0], [n], random.Random(0))
    more, _ = _run(arrive, handle, None, [0.0], [n + 1], random.Random(0))
    assert all(m <= f + 1e-9 for m, f in zip(more, fewer))
    assert all(f >= a for f, a in zip(fewer, arrive))


def test_time_averaged_agents_and_day_table():
    steps = StaffingSteps(np.array([0.0, 900.0, 2700.0]), np.array([2, 3, 1]))
    res = simulate_queue([10.0, 10.0], 1800.0, steps, aht_s=100.0, sl_seconds=20.0, seed=0,
                         replications=2, start="2026-11-11 23:00",
                         expected={"service_level": [0.9, 0.5]})
    assert res.intervals["agents"].tolist() == [2.5, 2.0]
    assert list(res.intervals["ds"]) == [pd.Timestamp("2026-11-11 23:00"),
                                         pd.Timestamp("2026-11-11 23:30")]
    assert res.days["erlang_service_level"].iloc[0] == pytest.approx(0.7)
    assert res.days["offered"].iloc[0] == res.intervals["offered"].sum()


def test_volume_draw_matches_the_forecast_interval():
    rng = np.random.default_rng(0)
    lo, hi = np.array([80.0, 40.0]), np.array([125.0, 90.0])
    draws = np.array([_draw_volume(VolumeDraw(lo, hi), lo, np.array([0, 0]), rng)
                      for _ in range(4000)])
    assert np.quantile(draws, 0.1, axis=0) == pytest.approx(lo, rel=0.05)
    assert np.quantile(draws, 0.9, axis=0) == pytest.approx(hi, rel=0.05)
    # One shock per day: both intervals sit at the same quantile of their own law.
    day = np.array([_draw_volume(VolumeDraw(lo, hi, shock="day"), lo, np.array([0, 0]), rng)
                    for _ in range(200)])
    z = (np.log(day) - np.log(np.sqrt(lo * hi))) / np.log(hi / lo)
    assert np.allclose(z[:, 0], z[:, 1])


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, match", [
    (dict(volume=[-1.0, 2.0]), r"volume must be finite and >= 0, got -1.0 \(interval 0\)"),
    (dict(agents=[1, 2, 3]), "agents has 3 values but there are 2 intervals"),
    (dict(aht_s=[100.0]), "aht_s has 1 values but there are 2 intervals"),
    (dict(aht_s=0.0), "aht_s must be finite and > 0"),
    (dict(agents=[1.5, 2]), "agents must be whole numbers"),
    (dict(interval_s=-60.0), "interval_s must be a finite number > 0"),
    (dict(handle_dist="gamma"), "handle_dist must be one of exponential, lognormal"),
    (dict(replications=0), "replications must be a whole number >= 1"),
    (dict(patience_s=-5.0), "patience_s must be finite and > 0"),
    (dict(expected={"sl": [1, 1]}), "expected: unknown measure 'sl'"),
])
def test_bad_input_raises_value_error_naming_the_argument(kwargs, match):
    base = dict(volume=[5.0, 5.0], interval_s=600.0, agents=[1, 1], aht_s=100.0,
                sl_seconds=20.0, replications=1)
    with pytest.raises(ValueError, match=match):
        simulate_queue(**{**base, **kwargs})


# ---------------------------------------------------------------- plan folders

def write_plan(folder, *, patience: str = "", extra_work: str = "") -> None:
    """A two-hour plan of one voice queue: ana works 08:00-10:00 with a break 08:45-09:00,
    bo works 09:00-10:00."""
    rows = ["unique_id,ds,volume,aht_s,erlangs,agents_raw,agents_required,service_level,"
            "asa_s,occupancy,sl_target,sl_seconds,patience_s"]
    for i, ds in enumerate(pd.date_range("2026-11-11 08:00", periods=4, freq="30min")):
        rows.append(f"sales,{ds:%Y-%m-%d %H:%M},{10 + 10 * i},180,1,2,2,0.8,10,0.5,0.8,20,"
                    f"{patience}")
    (folder / "requirements.csv").write_text("\n".join(rows) + "\n")
    (folder / "roster.csv").write_text(
        "agent_id,date,shift_start,shift_end,break_start,break_end,lunch_start,lunch_end,"
        "paid_hours,queue\n"
        "ana,2026-11-11,2026-11-11 08:00,2026-11-11 10:00,2026-11-11 08:45,"
        "2026-11-11 09:00,,,2,sales\n"
        "bo,2026-11-11,2026-11-11 09:00,2026-11-11 10:00,,,,,1,sales\n")
    (folder / "activities.csv").write_text(
        "agent_id,start,end,activity\n"
        "ana,2026-11-11 00:00,2026-11-11 08:00,OFF\n"
        "ana,2026-11-11 08:00,2026-11-11 08:45,WORK\n"
        "ana,2026-11-11 08:45,2026-11-11 09:00,BREAK\n"
        "ana,2026-11-11 09:00,2026-11-11 10:00,WORK\n"
        "bo,2026-11-11 09:00,2026-11-11 10:00,WORK\n" + extra_work)
    (folder / "summary.json").write_text(json.dumps({"status": "optimal"}))


def test_plan_folder_agents_come_from_work_segments_exactly(tmp_path):
    write_plan(tmp_path)
    res = simulate_plan(tmp_path, replications=3, seed=1)
    iv = res.intervals
    assert iv["unique_id"].tolist() == ["sales"] * 4
    assert iv["agents"].tolist() == [1.0, 0.5, 2.0, 2.0]
    assert iv["erlang_service_level"].notna().all()
    assert res.days["offered"].iloc[0] == iv["offered"].sum()
    assert res.skipped == {}
    # The same folder and seed reproduce the same figures.
    again = simulate_plan(tmp_path, replications=3, seed=1)
    pd.testing.assert_frame_equal(iv, again.intervals)


def test_plan_folder_with_patience_reports_abandonment(tmp_path):
    write_plan(tmp_path, patience="60")
    res = simulate_plan(tmp_path, replications=3, seed=1)
    assert "erlang_abandon_rate" in res.intervals.columns
    assert res.intervals["abandoned"].sum() > 0


def test_plan_folder_work_outside_any_shift_is_an_error(tmp_path):
    write_plan(tmp_path, extra_work="cy,2026-11-11 08:00,2026-11-11 09:00,WORK\n")
    with pytest.raises(PlanError, match="WORK segment of agent 'cy'.*lies in no shift"):
        simulate_plan(tmp_path, replications=1)


def test_plan_folder_missing_file_names_it(tmp_path):
    write_plan(tmp_path)
    (tmp_path / "activities.csv").unlink()
    with pytest.raises(PlanError, match="activities.csv: file not found"):
        simulate_plan(tmp_path, replications=1)


def test_plan_folder_draws_volumes_from_the_forecast_band(tmp_path):
    write_plan(tmp_path)
    # An hourly forecast whose 80% band sits at 2.0-2.2 times yhat: the simulated volume
    # must follow the band (about 2.1 x the 100 planned contacts), not yhat.
    forecast = pd.DataFrame({"unique_id": "sales",
                             "ds": pd.to_datetime(["2026-11-11 08:00", "2026-11-11 09:00"]),
                             "yhat": [30.0, 70.0], "yhat_lo_80": [60.0, 140.0],
                             "yhat_hi_80": [66.0, 154.0]})
    plain = simulate_plan(tmp_path, replications=20, seed=2)
    drawn = simulate_plan(tmp_path, replications=20, seed=2, forecast=forecast)
    assert 85 < plain.days["offered"].iloc[0] < 115
    assert 190 < drawn.days["offered"].iloc[0] < 230
    with pytest.raises(PlanError, match="no row covering 2026-11-11 08:00"):
        simulate_plan(tmp_path, replications=1, forecast=forecast.iloc[1:])

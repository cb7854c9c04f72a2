"""A chat queue's plan is simulated as agents x concurrency slots (how requirements.csv
staffs it): two agents holding three chats each serve like six servers, checked against a
textbook Erlang C over six servers and against the simulation's own service level."""

import math

import pandas as pd
import pytest

from staffcast.scheduler.simulate import simulate_plan


def erlang_c_sl(n: int, a: float, aht: float, t: float) -> float:
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    p_wait = n * b / (n - a * (1 - b))
    return 1.0 - p_wait * math.exp(-(n - a) * t / aht)


def write_plan(folder, concurrency: int) -> None:
    hours = pd.date_range("2026-11-09 08:00", periods=8, freq="h")
    # 80 chats an hour of 240 s slot time: 5.33 Erlangs of slot occupancy.
    pd.DataFrame({"unique_id": "chat", "ds": hours.strftime("%Y-%m-%d %H:%M"),
                  "volume": 80.0, "aht_s": 240.0, "sl_seconds": 30.0,
                  "concurrency": float(concurrency)}).to_csv(folder / "requirements.csv",
                                                            index=False)
    pd.DataFrame({"agent_id": ["A", "B"], "date": "2026-11-09",
                  "shift_start": "2026-11-09 08:00", "shift_end": "2026-11-09 16:00",
                  "queue": "chat"}).to_csv(folder / "roster.csv", index=False)
    pd.DataFrame({"agent_id": ["A", "B"], "start": "2026-11-09 08:00",
                  "end": "2026-11-09 16:00", "activity": "WORK"}).to_csv(
        folder / "activities.csv", index=False)


def test_two_agents_with_three_chats_each_serve_as_six_slots(tmp_path):
    write_plan(tmp_path, concurrency=3)
    result = simulate_plan(tmp_path, replications=30, seed=3)
    rows = result.intervals
    a = 80 * 240 / 3600
    expected = erlang_c_sl(6, a, 240.0, 30.0)
    assert rows["erlang_service_level"].to_numpy() == pytest.approx(expected, rel=1e-9)
    # Reported in agents, not slots.
    assert rows["agents"].to_numpy() == pytest.approx(2.0)
    day = result.days.iloc[0]
    assert day["offered"] == pytest.approx(80 * 8, rel=0.1)
    # The simulated day agrees with six-server Erlang C (a steady load, so within noise).
    assert day["service_level"] == pytest.approx(expected, abs=0.06)
    assert day["service_level_lo_95"] <= expected + 0.03


def test_the_same_plan_without_concurrency_is_overloaded(tmp_path):
    write_plan(tmp_path, concurrency=1)
    day = simulate_plan(tmp_path, replications=5, seed=3).days.iloc[0]
    # Two servers for 5.33 Erlangs: the queue grows all day, almost nobody within 30 s.
    assert day["service_level"] < 0.2

"""Skill-based routing in the simulation of a pooled roster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from staffcast.scheduler.simulate import StaffingSteps, simulate_plan, simulate_queue
from staffcast.scheduler.simulate_skills import simulate_skills

N = 8
VOLUME = np.full(N, 100.0)
AHT = np.full(N, 180.0)


def steps(agents: int) -> StaffingSteps:
    return StaffingSteps(np.array([0.0]), np.array([agents]))


def test_one_group_one_queue_is_the_single_queue_simulation():
    pooled = simulate_skills({"a": VOLUME}, 1800.0, {"a": steps(12)}, aht_s={"a": AHT},
                             sl_seconds={"a": 20.0}, replications=5, seed=3)["a"]
    single = simulate_queue(VOLUME, 1800.0, steps(12), aht_s=AHT, sl_seconds=20.0,
                            replications=5, seed=3)
    for column in ("offered", "answered", "answered_within_t", "service_level", "asa_s"):
        np.testing.assert_allclose(pooled.intervals[column], single.intervals[column])


def test_contacts_reach_only_agents_skilled_for_their_queue():
    # Queue b has no agent able to serve it; plenty of a (and a;c) agents idle all day.
    out = simulate_skills({"a": VOLUME, "b": VOLUME}, 1800.0,
                          {"a": steps(12), "a;c": steps(30)},
                          aht_s={"a": AHT, "b": AHT}, sl_seconds={"a": 20.0, "b": 20.0},
                          replications=3)
    b, a = out["b"].days.iloc[0], out["a"].days.iloc[0]
    assert b["offered"] > 0 and b["answered"] == 0 and b["unanswered"] == b["offered"]
    assert a["answered"] == a["offered"] and a["service_level"] > 0.95


def test_specialists_are_used_first_so_shared_agents_stay_free():
    # 12 a-only agents carry queue a's 4 erlangs almost without overflow; 10 a;b agents
    # carry b's 8 erlangs. Were a's contacts offered to the shared agents first, those 10
    # would carry 12 erlangs and b would collapse; specialists first, b does about as well
    # as with the 10 shared agents to itself.
    out = simulate_skills({"a": np.full(N, 40.0), "b": np.full(N, 80.0)}, 1800.0,
                          {"a;b": steps(10), "a": steps(12)},
                          aht_s={"a": AHT, "b": AHT}, sl_seconds={"a": 20.0, "b": 20.0},
                          replications=10, seed=1)
    alone = simulate_queue(np.full(N, 80.0), 1800.0, steps(10), aht_s=AHT, sl_seconds=20.0,
                           replications=10, seed=1)
    assert out["b"].days["service_level"].iloc[0] > alone.days["service_level"].iloc[0] - 0.05
    assert out["a"].days["service_level"].iloc[0] > 0.95


def test_a_pooled_plan_folder_is_simulated_per_queue(tmp_path):
    ds = pd.date_range("2026-11-09 08:00", periods=4, freq="30min")
    pd.DataFrame({"unique_id": np.repeat(["a", "b"], 4), "ds": np.tile(ds, 2),
                  "volume": 40.0, "aht_s": 180.0, "sl_seconds": 20.0,
                  "agents_required": 6.0}).to_csv(tmp_path / "requirements.csv", index=False)
    agents = [f"g{i}" for i in range(14)]
    pd.DataFrame({"agent_id": agents, "date": "2026-11-09",
                  "shift_start": "2026-11-09 08:00", "shift_end": "2026-11-09 10:00",
                  "queue": ["a;b"] * 10 + ["a"] * 4}).to_csv(tmp_path / "roster.csv",
                                                             index=False)
    pd.DataFrame({"agent_id": agents, "start": "2026-11-09 08:00", "end": "2026-11-09 10:00",
                  "activity": "WORK"}).to_csv(tmp_path / "activities.csv", index=False)
    res = simulate_plan(tmp_path, replications=4, seed=0)
    days = res.days.set_index("unique_id")
    assert set(days.index) == {"a", "b"}
    assert (days["offered"] > 0).all()
    # The plan's figure: the max-flow allocation gives each queue 6 agents at least,
    # 8 for a with the specialists (4 erlangs each).
    assert days.loc["b", "erlang_service_level"] > 0.8
    assert days.loc["b", "service_level"] == pytest.approx(days.loc["b", "erlang_service_level"],
                                                           abs=0.15)

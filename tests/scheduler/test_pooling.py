"""Multi-skill pooling: hand-checked plans with a known optimum, the agents' caps, and the
allocation of agents at work to the queues they can serve."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.errors import SchedulerError
from staffcast.scheduler.model import build_model
from staffcast.scheduler.pooling import allocate, label_queues, skill_label, skill_sets
from staffcast.scheduler.rules import ScheduleRules, ShiftFamily
from staffcast.scheduler.solve import solve

MONDAY = pd.Timestamp("2026-11-09")
RULES = ScheduleRules(families=(ShiftFamily("day", 8, "08:00", "08:00"),), interval_minutes=30)
"""One 8 h shift a day, starting 08:00 only, no breaks, cost 1 per paid hour."""


def two_queues(morning_a: float, afternoon_b: float) -> pd.DataFrame:
    """08:00-16:00 on one Monday: queue a needs `morning_a` agents 08-12, queue b needs
    `afternoon_b` agents 12-16, nothing otherwise."""
    ds = pd.date_range(MONDAY + pd.Timedelta(hours=8), periods=16, freq="30min")
    morning = np.arange(16) < 8
    out = pd.concat([
        pd.DataFrame({"unique_id": "a", "ds": ds, "agents_required": np.where(morning, morning_a, 0.0)}),
        pd.DataFrame({"unique_id": "b", "ds": ds,
                      "agents_required": np.where(~morning, afternoon_b, 0.0)})],
        ignore_index=True)
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def agents(*skills: str, away=()) -> tuple[Agent, ...]:
    return tuple(Agent(f"A{i:02d}", "full_time", 0, 40, frozenset(label_queues(s)),
                       frozenset(away)) for i, s in enumerate(skills))


def plan(requirement, staff, multi_skill: bool):
    model = build_model(requirement, dataclasses.replace(RULES, multi_skill=multi_skill),
                        agents=staff)
    return model, solve(model, time_limit_s=30)


@pytest.mark.parametrize("k", [1, 3])
def test_pooling_saves_exactly_k_shifts(k):
    # a needs k agents in the morning, b k in the afternoon; every agent knows both. One
    # queue per tour needs 2k eight-hour shifts; pooled, k agents serve a then b: 8k hours.
    staff = agents(*["a;b"] * (2 * k))
    _, single = plan(two_queues(k, k), staff, multi_skill=False)
    model, pooled = plan(two_queues(k, k), staff, multi_skill=True)
    assert single.shortfall_agent_hours == pooled.shortfall_agent_hours == 0
    assert single.paid_hours == 16 * k
    assert pooled.paid_hours == 8 * k
    assert pooled.status == "optimal"
    assert set(pooled.tours["queue"]) == {"a;b"}
    assert model.pools == ["a;b"]
    names = {v.name for v in model.problem.variables()}
    assert "a_a_b_a_11090800" in names and "a_a_b_b_11091200" in names
    # No allocation to a queue in an interval where it requires nobody.
    assert "a_a_b_b_11090800" not in names
    assert "alloc_a_b_11090800" in model.groups["skill allocation"]
    cover = pooled.coverage.set_index(["unique_id", "ds"])["scheduled"]
    assert cover["a", MONDAY + pd.Timedelta(hours=8)] == k
    assert cover["b", MONDAY + pd.Timedelta(hours=12)] == k


def test_one_multi_skilled_agent_among_specialists_has_a_known_optimum():
    # a needs 2 agents 08-12, b 2 agents 12-16. One agent knows a and b, three only a, three
    # only b. The a;b agent covers one of each, a specialist of each queue the rest: 3 shifts
    # (one queue per tour: 4). Without the agents' cap on the a;b set the plan would take two
    # a;b tours (16 h) that nobody could work.
    staff = agents("a;b", "a", "a", "a", "b", "b", "b")
    _, single = plan(two_queues(2, 2), staff, multi_skill=False)
    model, pooled = plan(two_queues(2, 2), staff, multi_skill=True)
    assert single.paid_hours == 32 and single.shortfall_agent_hours == 0
    assert pooled.paid_hours == 24 and pooled.shortfall_agent_hours == 0
    assert sorted(pooled.tours["queue"]) == ["a", "a;b", "b"]
    assert model.pools == ["a", "b", "a;b"]


def test_pooled_plan_uses_only_skill_sets_of_the_agents():
    staff = agents("a", "b", "a;b", "b;a", "")
    assert skill_sets(staff, ["a", "b", "c"]) == [("a",), ("b",), ("a", "b"), ("a", "b", "c")]
    assert skill_label(["presales", "aftersales"]) == "aftersales;presales"


def test_multi_skill_without_agents_is_a_clear_error():
    with pytest.raises(SchedulerError, match="multi_skill needs the agents file"):
        build_model(two_queues(1, 1), dataclasses.replace(RULES, multi_skill=True))


@pytest.mark.parametrize("multi_skill", [False, True])
def test_every_agent_unavailable_plans_nothing_and_reports_the_week_short(multi_skill):
    staff = agents("a;b", "a;b", "a", away=[MONDAY.date()])
    model, result = plan(two_queues(2, 2), staff, multi_skill=multi_skill)
    assert result.has_plan
    assert result.paid_hours == 0 and len(result.tours) == 0
    # 2 agents x 4 h on each queue: 16 agent-hours, all short.
    assert result.shortfall_agent_hours == pytest.approx(16.0)
    assert (result.coverage["scheduled"] == 0).all()
    assert any(name.startswith("agents_full_time") for name in model.groups["agents"])


def test_weekly_hours_cap_the_tours_of_a_family():
    # Nobody may work more than 6 h a week: no 8 h shift can be planned.
    staff = tuple(dataclasses.replace(a, max_weekly_hours=6) for a in agents("a;b", "a;b"))
    fam = ShiftFamily("day", 8, "08:00", "08:00", days_per_week=1)
    rules = dataclasses.replace(RULES, families=(fam,), multi_skill=True)
    result = solve(build_model(two_queues(1, 1), rules, agents=staff), time_limit_s=30)
    assert result.paid_hours == 0 and result.shortfall_agent_hours == pytest.approx(8.0)


# --------------------------------------------------------------------------- allocation

def _best_cover_lp(counts, members, need) -> float:
    """Most requirement any allocation covers in one slot, by an LP written separately
    from the max flow: variables y[s, q] >= 0 on members, sum_q y[s, q] <= counts[s],
    sum_s y[s, q] <= need[q]; maximise sum y."""
    pairs = list(zip(*np.nonzero(members)))
    if not pairs:
        return 0.0
    rows, rhs = [], []
    for s in range(len(counts)):
        rows.append([1.0 if p[0] == s else 0.0 for p in pairs])
        rhs.append(counts[s])
    for q in range(members.shape[1]):
        rows.append([1.0 if p[1] == q else 0.0 for p in pairs])
        rhs.append(max(need[q], 0.0))
    out = linprog(-np.ones(len(pairs)), A_ub=rows, b_ub=rhs, bounds=(0, None), method="highs")
    return -out.fun


@st.composite
def instances(draw):
    n_queues = draw(st.integers(1, 4))
    n_sets = draw(st.integers(1, 4))
    members = np.array([[draw(st.booleans()) for _ in range(n_queues)] for _ in range(n_sets)])
    for s in range(n_sets):  # every skill set serves at least one queue
        if not members[s].any():
            members[s, draw(st.integers(0, n_queues - 1))] = True
    n = draw(st.integers(1, 3))
    counts = np.array([[draw(st.integers(0, 6)) for _ in range(n)] for _ in range(n_sets)],
                      dtype=float)
    need = np.array([[draw(st.one_of(st.just(np.nan), st.floats(0, 6, allow_nan=False)))
                      for _ in range(n)] for _ in range(n_queues)])
    need = np.round(need, 3)
    return counts, members, need


@settings(max_examples=250, deadline=None)
@given(instances())
def test_allocation_never_gives_a_queue_agents_without_its_skill(case):
    counts, members, need = case
    served = allocate(counts, members, need)
    n_queues = members.shape[1]
    for t in range(counts.shape[1]):
        # Every group of queues gets at most the agents of the skill sets serving one of
        # them: agents never reach a queue outside their set (Hall's bound, tight per queue).
        for size in range(1, n_queues + 1):
            for group in itertools.combinations(range(n_queues), size):
                sets = members[:, list(group)].any(axis=1)
                assert served[list(group), t].sum() <= counts[sets, t].sum() + 1e-6
        # Nobody is lost: each set's agents all serve some queue of it.
        assert served[:, t].sum() == pytest.approx(counts[:, t].sum(), abs=1e-6)
        # And the allocation covers as much requirement as any allocation can.
        want = np.nan_to_num(need[:, t])
        covered = np.minimum(served[:, t], want).sum()
        assert covered == pytest.approx(_best_cover_lp(counts[:, t], members, want), abs=2e-3)

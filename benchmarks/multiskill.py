"""Multi-skill pooling against one queue per tour, on generated instances, judged on the
REAL cover of the written roster.

Two instances (seeded, generated here):

- `small`: 3 queues (presales, aftersales, logistics) with peaks at different hours, 300
  agents of whom 40% are multi-skilled (aftersales;presales, aftersales;logistics, all
  three), the rest single-skilled in proportion to each queue's volume;
- `scale`: 10 queues, 2,000 agents, 6 skill sets (each of 2-4 queues), the issue's scale
  target (plan + assign <= 120 s).

Each instance is planned twice by `staffcast.pipeline.run_schedule` with the same agents:
`multi_skill` on (tours per skill set) and off (tours per queue). The week: 08:00-22:00
open, 30-minute intervals, full-time 8 h tours of 5 days with a 60-minute unpaid lunch and
part-time 4 h tours of 5 days; a tenth of the agents away on one day.

Real cover is measured from the files alone, independently of the plan and of
`staffcast.scheduler.pooling`: activities.csv's WORK segments per 15-minute slot, grouped by the
agent's skills from the agents table, then per slot a maximum flow (source -> skill group,
capacity its agents at work -> every queue the group can serve -> sink, capacity the
queue's requirement) gives the most requirement the agents at work can cover.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/multiskill.py \
        [--instance small|scale|both] [--time-limit 60]

Prints per run: paid hours, the summary's shortfall, the independent real shortfall and
real cover share, tours without an agent, and the seconds of plan + assign + files; for
the small pooled roster, each queue's SL as planned (Erlang C of the allocation) next to
the simulated SL with contacts routed by skill (`--simulate N` replications).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from staffcast.scheduler.agents import Agent
from staffcast.scheduler.erlang import agents_for_targets
from staffcast.scheduler.simulate import simulate_plan
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily
from staffcast.pipeline import run_schedule

MONDAY = pd.Timestamp("2026-11-09")
OPEN_H, CLOSE_H = 8, 22
SLOT_MIN = 15
AHT_S = 300.0

RULES = ScheduleRules(interval_minutes=30, shortfall_penalty=500, families=(
    ShiftFamily("ft8", 8, "07:00", "14:00", start_step_minutes=60, cost_per_hour=20,
                days_per_week=5, consecutive_days_off=True,
                breaks=(BreakRule("lunch", 60, 180, 300, kind="lunch"),)),
    ShiftFamily("pt4", 4, "10:00", "18:00", contract="part_time", start_step_minutes=60,
                cost_per_hour=22, days_per_week=5),
))


def requirement(queues: list[str], mean_agents: list[float], rng) -> pd.DataFrame:
    """Agents required per 30 minutes, 08:00-22:00 for a week: each queue a day curve
    peaking at its own hour (spread over the day), weekends at 80%."""
    ds = pd.date_range(MONDAY, periods=7 * 48, freq="30min")
    hour = (ds.hour + ds.minute / 60).to_numpy(float)
    open_ = (hour >= OPEN_H) & (hour < CLOSE_H)
    parts = []
    for i, (q, mean) in enumerate(zip(queues, mean_agents)):
        peak = OPEN_H + 2 + (CLOSE_H - OPEN_H - 4) * i / max(len(queues) - 1, 1)
        shape = 0.35 + np.exp(-0.5 * ((hour - peak) / 2.5) ** 2)
        week = np.where(ds.day_of_week.to_numpy() >= 5, 0.8, 1.0)
        level = shape * week * (1 + 0.05 * rng.standard_normal(len(ds)))
        level = level / level[open_].mean() * mean
        # `level` is the traffic in erlangs; agents for 80% answered within 20 s.
        erlangs = level[open_]
        parts.append(pd.DataFrame({
            "unique_id": q, "ds": ds[open_], "volume": erlangs * 1800 / AHT_S, "aht_s": AHT_S,
            "erlangs": erlangs, "sl_seconds": 20.0,
            "agents_required": agents_for_targets(erlangs, AHT_S, sl_target=0.8,
                                                  sl_seconds=20.0).astype(float)}))
    out = pd.concat(parts, ignore_index=True)
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def make_agents(n: int, skill_sets: list[tuple[str, ...]], weights: list[float], rng
                ) -> tuple[Agent, ...]:
    """n agents, 70% full-time (40 h), 30% part-time (20 h), skill sets drawn with
    `weights`; every tenth agent away on one random day."""
    p = np.asarray(weights, dtype=float) / np.sum(weights)
    picks = rng.choice(len(skill_sets), size=n, p=p)
    out = []
    for i in range(n):
        part = rng.random() < 0.3
        away = (frozenset({(MONDAY + pd.Timedelta(days=int(rng.integers(0, 7)))).date()})
                if i % 10 == 0 else frozenset())
        out.append(Agent(f"G{i:05d}", "part_time" if part else "full_time",
                         20.0 if part else 40.0, 24.0 if part else 40.0,
                         frozenset(skill_sets[picks[i]]), away))
    return tuple(out)


def small_instance(rng):
    queues = ["presales", "aftersales", "logistics"]
    req = requirement(queues, [22.0, 18.0, 12.0], rng)
    single = [("presales",), ("aftersales",), ("logistics",)]
    multi = [("aftersales", "presales"), ("aftersales", "logistics"),
             ("aftersales", "logistics", "presales")]
    weights = [0.6 * w for w in (22 / 52, 18 / 52, 12 / 52)] + [0.4 * w for w in (0.5, 0.3, 0.2)]
    return req, make_agents(300, single + multi, weights, rng)


def scale_instance(rng):
    queues = [f"q{i}" for i in range(10)]
    # About 70% of the 2,000 agents' weekly hours are needed.
    means = [75.0, 55.0, 45.0, 65.0, 35.0, 50.0, 40.0, 60.0, 30.0, 25.0]
    req = requirement(queues, means, rng)
    sets = [("q0", "q1", "q2"), ("q3", "q4"), ("q5", "q6", "q7"), ("q8", "q9"),
            ("q0", "q3", "q5", "q8"), ("q1", "q4", "q6", "q9")]
    served = {q: [s for s in sets if q in s] for q in queues}
    mean = dict(zip(queues, means))
    weights = [sum(mean[q] / len(served[q]) for q in s) for s in sets]
    return req, make_agents(2000, sets, weights, rng)


# --------------------------------------------------------------------------- real cover

def real_cover(activities: pd.DataFrame, agents: tuple[Agent, ...], req: pd.DataFrame
               ) -> tuple[float, float]:
    """(agent-hours required, agent-hours the agents at work can cover), per 15-minute
    slot by maximum flow from the agents' skill groups to the queues they serve."""
    skills = {a.agent_id: a.queues for a in agents}
    queues = sorted(req["unique_id"].astype(str).unique())
    work = activities[activities["activity"] == "WORK"]
    start = pd.to_datetime(work["start"]).to_numpy("datetime64[m]").astype(np.int64)
    end = pd.to_datetime(work["end"]).to_numpy("datetime64[m]").astype(np.int64)
    origin = np.datetime64(MONDAY, "m").astype(np.int64)
    groups = {}
    for agent_id in work["agent_id"].astype(str):
        s = skills[agent_id]
        groups.setdefault(frozenset(s) if s else frozenset(queues), len(groups))
    group_of = np.array([groups[frozenset(skills[a]) if skills[a] else frozenset(queues)]
                         for a in work["agent_id"].astype(str)], dtype=int)
    n_slots = 7 * 24 * 60 // SLOT_MIN
    at_work = np.zeros((len(groups), n_slots + 1), dtype=np.int64)
    lo = np.clip((start - origin) // SLOT_MIN, 0, n_slots)
    hi = np.clip((end - origin) // SLOT_MIN, 0, n_slots)
    np.add.at(at_work, (group_of, lo), 1)
    np.add.at(at_work, (group_of, hi), -1)
    at_work = np.cumsum(at_work, axis=1)[:, :n_slots]
    need = np.zeros((len(queues), n_slots))
    q_of = {q: i for i, q in enumerate(queues)}
    slot0 = ((pd.to_datetime(req["ds"]) - MONDAY) / pd.Timedelta(minutes=SLOT_MIN)).astype(int)
    for q, s, v in zip(req["unique_id"].astype(str), slot0, req["agents_required"]):
        need[q_of[q], s:s + 30 // SLOT_MIN] = v
    n_g, n_q = len(groups), len(queues)
    edges = [(0, 1 + g) for g in range(n_g)]
    edges += [(1 + g, 1 + n_g + q_of[q]) for members, g in groups.items() for q in members]
    edges += [(1 + n_g + q, 1 + n_g + n_q) for q in range(n_q)]
    rows = np.array([e[0] for e in edges])
    cols = np.array([e[1] for e in edges])
    n_nodes = 2 + n_g + n_q
    covered = 0.0
    for t in range(n_slots):
        if need[:, t].sum() == 0:
            continue
        caps = np.concatenate([at_work[:, t] * 100,
                               np.full(len(edges) - n_g - n_q, 10**8),
                               np.round(need[:, t] * 100)]).astype(np.int32)
        graph = csr_matrix((caps, (rows, cols)), shape=(n_nodes, n_nodes))
        covered += maximum_flow(graph, 0, n_nodes - 1).flow_value / 100
    hours = SLOT_MIN / 60
    return float(need.sum() * hours), covered * hours


def service_levels(out: Path, req: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per queue: the plan's SL (coverage.csv, Erlang C of the allocated agents, volume-
    weighted) and the simulated SL of the written roster, contacts routed by skill."""
    coverage = pd.read_csv(out / "coverage.csv", parse_dates=["ds"]).merge(
        req.assign(unique_id=req["unique_id"].astype(str))[["unique_id", "ds", "volume"]],
        on=["unique_id", "ds"])
    coverage["w"] = coverage["volume"] * coverage["service_level"]
    sums = coverage.groupby("unique_id")[["w", "volume"]].sum()
    plan = sums["w"] / sums["volume"]
    req.to_csv(out / "requirements.csv", index=False)
    sim = simulate_plan(out, replications=replications, seed=0).days
    sim["won"] = sim["service_level"] * sim["offered"]
    per = sim.groupby("unique_id")[["won", "offered"]].sum()
    return pd.DataFrame({"plan_sl": plan.round(3),
                         "simulated_sl": (per["won"] / per["offered"]).round(3)})


def run_once(name: str, req, agents, multi_skill: bool, time_limit: float,
             replications: int) -> dict:
    rules = dataclasses.replace(RULES, multi_skill=multi_skill)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        began = time.perf_counter()
        run_schedule(req, rules, out, agents=agents, agents_source="generated",
                     solver="highs", time_limit_s=time_limit, gap=0.005)
        seconds = time.perf_counter() - began
        summary = json.loads((out / "summary.json").read_text())
        activities = pd.read_csv(out / "activities.csv")
        if replications and multi_skill:
            print(service_levels(out, req, replications).to_string(), flush=True)
    required, covered = real_cover(activities, agents, req)
    return {"instance": name, "tours": "pooled" if multi_skill else "one queue",
            "status": summary["status"], "paid_hours": summary["paid_hours"],
            "summary_short_h": summary["shortfall_agent_hours"],
            "real_short_h": round(required - covered, 2),
            "real_cover": round(covered / required, 4),
            "agents_used": summary["agents_used"], "no_agent": summary["unassigned_tours"],
            "gap": summary["mip_gap"], "seconds": round(seconds, 1),
            "variables": summary["variables"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", choices=["small", "scale", "both"], default="both")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--simulate", type=int, default=5, metavar="N",
                        help="replications simulating the small pooled roster (0: none)")
    args = parser.parse_args()
    rows = []
    for name, make in (("small", small_instance), ("scale", scale_instance)):
        if args.instance not in (name, "both"):
            continue
        req, agents = make(np.random.default_rng(11))
        multi = sum(len(a.queues) != 1 for a in agents)
        print(f"{name}: {req['unique_id'].nunique()} queues, {len(agents)} agents "
              f"({multi / len(agents):.0%} multi-skilled), "
              f"{req['agents_required'].sum() / 2:,.0f} required agent-hours", flush=True)
        for multi_skill in (True, False):
            rows.append(run_once(name, req, agents, multi_skill, args.time_limit,
                                 args.simulate if name == "small" else 0))
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

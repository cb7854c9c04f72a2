"""How long assigning named agents to a week of tours takes (target: 500 agents in <= 30 s).

A synthetic but rule-heavy week: 500 agents (full-time 40 h and part-time 20 h contracts,
two queues with partial skills, a tenth unavailable on one day, preferred days off, and a
previous week's roster for rest, consecutive-day and weekend-fairness checks) and one tour
per agent minus a few, each working 5 of 7 days at staggered starts incl. overnight ones.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/assign_speed.py [--agents 500]

Prints the seconds taken by `assign_agents` and how many tours were staffed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from staffcast.scheduler.agents import Agent, assign_agents

MONDAY = pd.Timestamp("2026-11-09")


def week_rows(n: int, week_start: pd.Timestamp, rng: np.random.Generator, prefix: str) -> list[dict]:
    rows = []
    for t in range(n):
        part_time = t % 4 == 0
        hours = 4.0 if part_time else 8.0
        off = int(rng.integers(0, 7))
        start_h = float(rng.choice([0, 6, 7.5, 9, 12, 14, 16, 22]))
        for d in range(7):
            if d in (off, (off + 1) % 7):
                continue
            date = week_start + pd.Timedelta(days=d)
            start = date + pd.Timedelta(hours=start_h)
            rows.append(dict(tour_id=f"{prefix}{t + 1:04d}", family="pt4" if part_time else "ft8",
                             contract="part_time" if part_time else "full_time",
                             queue="presales" if t % 3 else "aftersales", date=date,
                             shift_start=start, shift_end=start + pd.Timedelta(hours=hours + 1),
                             break_start=pd.NaT, break_end=pd.NaT, lunch_start=pd.NaT,
                             lunch_end=pd.NaT, paid_hours=hours, cost=hours * 20))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500, help="number of agents")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.agents
    agents = []
    for i in range(n):
        part_time = i % 4 == 0
        skills = [frozenset(), frozenset({"presales"}), frozenset({"aftersales"})][i % 3]
        away = frozenset({(MONDAY + pd.Timedelta(days=int(rng.integers(0, 7)))).date()}) \
            if i % 10 == 0 else frozenset()
        prefer = frozenset(int(d) for d in rng.choice(7, size=2, replace=False)) \
            if i % 2 else frozenset()
        agents.append(Agent(f"A{i:04d}", "part_time" if part_time else "full_time",
                            16.0 if part_time else 32.0, 24.0 if part_time else 40.0,
                            skills, away, prefer))
    tours = pd.DataFrame(week_rows(int(n * 0.9), MONDAY, rng, "T"))
    previous = pd.DataFrame(week_rows(n, MONDAY - pd.Timedelta(days=7), rng, "P"))
    previous["agent_id"] = [f"A{int(t[1:]) - 1:04d}" for t in previous["tour_id"]]
    started = time.perf_counter()
    result = assign_agents(tours, agents, min_rest_hours=11, max_consecutive_days=6,
                           history=previous)
    seconds = time.perf_counter() - started
    n_tours = tours["tour_id"].nunique()
    print(f"assign_agents: {n} agents, {n_tours} tours, {len(tours)} shifts -> "
          f"{n_tours - len(result.unassigned_tours)} staffed, "
          f"{len(result.unassigned_tours)} unassigned, {len(result.idle_agents)} idle; "
          f"status {result.status}; {seconds:.2f} s")


if __name__ == "__main__":
    main()

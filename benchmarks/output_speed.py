"""How long the output stage takes from a solved model to written files (target: 30,000
shifts in under 20 s), stage by stage, with each stage's peak memory.

A week of 4 queues on a 30-minute grid, two daily shift families (8 h with two 15-minute
breaks and a 60-minute lunch; 4 h with one break), starts every 30 minutes 06:00-14:00.
The model is built once per size and its variables are set as a solver would leave them:
~N shifts spread over the starts and queues, every break stacked at its earliest offset
(the worst case for staggering). The solve itself is not timed (see schedule_speed.py).

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/output_speed.py \\
        [--shifts 30000 100000]

Prints, per size and stage, seconds (untraced run) and peak memory (tracemalloc, a second
run of the same stage), then the total.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from staffcast.scheduler.agents import placeholder_assignment
from staffcast.scheduler.breaks import stagger_breaks
from staffcast.scheduler.export import write_schedule_outputs
from staffcast.scheduler.model import build_model
from staffcast.scheduler.plan import tours_frame, written_plan
from staffcast.scheduler.roster import activities_frame, roster_frame
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily

MONDAY = pd.Timestamp("2026-11-09")
QUEUES = ("presales", "aftersales", "returns", "vip")
RULES = ScheduleRules(interval_minutes=30, shortfall_penalty=1000, families=(
    ShiftFamily("ft8", 8, "06:00", "14:00", cost_per_hour=20, breaks=(
        BreakRule("morning", 15, 60, 150, paid=True),
        BreakRule("lunch", 60, 210, 300, kind="lunch"),
        BreakRule("afternoon", 15, 360, 420, paid=True))),
    ShiftFamily("pt4", 4, "06:00", "14:00", contract="part_time", cost_per_hour=18,
                breaks=(BreakRule("break", 15, 90, 150, paid=True),)),
))


def requirement(n_shifts: int) -> pd.DataFrame:
    ds = pd.date_range(MONDAY, periods=7 * 48, freq="30min")
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60
    curve = np.exp(-((hour - 12) / 3.5) ** 2)
    # About 7 h at work per shift: scale the curve so the week needs ~n_shifts shifts.
    scale = n_shifts * 7 / (curve.sum() * 0.5 * len(QUEUES))
    need = np.round(scale * curve)
    return pd.concat([pd.DataFrame({"unique_id": q, "ds": ds, "agents_required": need})
                      for q in QUEUES], ignore_index=True)


def solved_model(n_shifts: int):
    model = build_model(requirement(n_shifts), RULES)
    for var in model.problem.variables():
        var.varValue = 0
    keys = sorted(model.shifts)
    per_key = np.full(len(keys), n_shifts // len(keys))
    per_key[: n_shifts - per_key.sum()] += 1
    for key, n in zip(keys, per_key):
        model.shifts[key].varValue = int(n)
        for offsets in model.breaks[key].values():
            offsets[min(offsets)].varValue = int(n)
    return model


def measure(name: str, stage: Callable[[], object], rows: list) -> object:
    started = time.perf_counter()
    value = stage()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    stage()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append((name, seconds, peak / 2**20))
    return value


def run(n_shifts: int) -> None:
    model = solved_model(n_shifts)
    rows: list[tuple[str, float, float]] = []
    tours = measure("tours_frame", lambda: tours_frame(model), rows)
    staggered = measure("stagger_breaks", lambda: stagger_breaks(
        tours, model.families, RULES.interval_minutes, requirement=model.requirement,
        origin=model.origin, horizon_minutes=model.grid.horizon_minutes), rows)
    assigned = measure("placeholder_assignment",
                       lambda: placeholder_assignment(staggered).roster, rows)
    roster = measure("roster_frame (checks)", lambda: roster_frame(assigned), rows)
    days = pd.date_range(MONDAY, periods=7, freq="D")
    activities = measure("activities_frame", lambda: activities_frame(roster, days), rows)
    written = measure("written_plan (coverage)", lambda: written_plan(model, assigned), rows)
    with tempfile.TemporaryDirectory() as tmp:
        summary = {"status": "feasible", "objective": written.objective, "lp_bound": None,
                   "mip_gap": None, "solve_seconds": 0.0, "solver": "none",
                   "paid_hours": written.paid_hours, "labour_cost": written.labour_cost,
                   "shortfall_agent_hours": written.shortfall_agent_hours,
                   "service_level_by_day": written.service_level_by_day}
        measure("write CSVs", lambda: write_schedule_outputs(
            Path(tmp), roster=roster, activities=activities, coverage=written.coverage,
            summary=summary), rows)
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
    print(f"\n{len(tours):,} shifts ({roster['agent_id'].nunique():,} agents, "
          f"{len(activities):,} activity rows, {size_mb:.0f} MB of files)")
    print(f"  {'stage':<26}{'seconds':>9}{'peak MB':>10}")
    for name, seconds, peak in rows:
        print(f"  {name:<26}{seconds:>9.2f}{peak:>10.0f}")
    print(f"  {'total':<26}{sum(r[1] for r in rows):>9.2f}{max(r[2] for r in rows):>10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, nargs="+", default=[30_000, 100_000],
                        help="plan sizes in shifts")
    for n in parser.parse_args().shifts:
        run(n)


if __name__ == "__main__":
    main()

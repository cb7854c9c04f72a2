"""Benchmark: a 24x7 chat queue, one week at 30-minute intervals, peak about 300 agents,
four shift families with breaks and weekly tours, solved by CBC and HiGHS; then the same
requirement given to pyworkforce for a side-by-side of agent-hours and cost.

Run: .venv/bin/python benchmarks/schedule_speed.py [--time-limit 60] [--solvers cbc,highs]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from scheduler.model import build_model  # noqa: E402
from scheduler.rules import BreakRule, ScheduleRules, ShiftFamily  # noqa: E402
from scheduler.solve import solve  # noqa: E402


def requirement(peak: float = 300.0, start: str = "2026-11-09") -> pd.DataFrame:
    """A week of 30-minute agent requirements for one 24x7 queue: a night trough, a late-
    morning and an evening peak, busier Monday, quieter weekend; the maximum is `peak`."""
    ds = pd.date_range(start, periods=7 * 48, freq="30min")
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60
    daily = (0.08 + 0.75 * np.exp(-((hour - 11.0) / 2.6) ** 2)
             + 0.92 * np.exp(-((hour - 20.5) / 2.2) ** 2) + 0.25 * np.exp(-((hour - 15) / 3) ** 2))
    weekly = np.array([1.08, 1.0, 0.97, 0.98, 1.02, 0.85, 0.8])[ds.day_of_week]
    curve = daily * weekly
    agents = np.ceil(peak * curve / curve.max())
    return pd.DataFrame({"unique_id": pd.array(["chat"] * len(ds), dtype="string"), "ds": ds,
                         "agents_required": agents.astype(float)})


def rules() -> ScheduleRules:
    """A repeating weekly roster (cyclic, so Sunday's night shift covers Monday morning) of
    four families: early and late full-time 8 h with a 15-min paid break and a 1 h
    unpaid lunch, night full-time across midnight, 4 h part-time; 5-day tours."""
    brk = BreakRule("break", 15, 90, 150, paid=True)
    lunch = BreakRule("lunch", 60, 210, 300, kind="lunch")
    return ScheduleRules(interval_minutes=30, min_rest_hours=11, cyclic=True, families=(
        ShiftFamily("early", 8, "05:00", "12:00", contract="full_time", days_per_week=5,
                    cost_per_hour=20, weekend_premium=0.1, breaks=(brk, lunch)),
        ShiftFamily("late", 8, "12:30", "17:00", contract="full_time", days_per_week=5,
                    cost_per_hour=20, night_premium=0.2, weekend_premium=0.1,
                    breaks=(brk, lunch)),
        ShiftFamily("night", 8, "21:00", "23:00", contract="full_time", days_per_week=5,
                    cost_per_hour=20, night_premium=0.2, weekend_premium=0.1,
                    breaks=(BreakRule("break", 30, 180, 300, paid=True),)),
        ShiftFamily("part", 4, "08:00", "20:00", contract="part_time", days_per_week=5,
                    consecutive_days_off=False, cost_per_hour=18, weekend_premium=0.1,
                    max_share=0.3, breaks=(BreakRule("break", 15, 90, 150, paid=True),)),
    ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--solvers", default="cbc,highs")
    args = parser.parse_args()
    req = requirement()
    print(f"requirement: {len(req)} intervals, peak {req['agents_required'].max():.0f}, "
          f"{req['agents_required'].sum() / 2:.0f} agent-hours")
    for solver in args.solvers.split(","):
        t0 = time.perf_counter()
        model = build_model(req, rules())
        built = time.perf_counter() - t0
        result = solve(model, solver=solver, time_limit_s=args.time_limit)
        s = result.summary()
        print(f"{solver}: vars {model.n_variables} constraints {model.n_constraints} "
              f"build {built:.1f}s status {s['status']} objective {s['objective']} "
              f"bound {s['lp_bound']} gap {s['mip_gap']} seconds {s['solve_seconds']} "
              f"paid_hours {s['paid_hours']} cost {s['labour_cost']} "
              f"shortfall_h {s['shortfall_agent_hours']}")


if __name__ == "__main__":
    main()

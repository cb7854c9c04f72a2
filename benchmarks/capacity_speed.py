"""Benchmark: the example shop's Double 11 capacity plan (configs/capacity.yaml), end to end.

Loads the two-year hourly history and the festival calendar, forecasts 26 weeks per queue
from 29 June 2026 (the long-range daily GLM), staffs every 30-minute interval with Erlang
A/C at each queue's targets, and solves the capacity MIP with HiGHS. Prints the hiring
plan, the weekly supply and cost, the festival weeks' cover, the time of each stage and
the weekly forecast's error against the history after the plan's start (the example data
runs to 8 November 2026, so the weeks before Double 11 can be checked).

Run: .venv/bin/python benchmarks/capacity_speed.py [--weeks 26] [--scenarios]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--scenarios", action="store_true",
                        help="also plan the config's four what-if scenarios")
    args = parser.parse_args()

    began = time.perf_counter()
    from staffcast.forecasting.calendar import load_calendar
    from staffcast.forecasting.data import load_history
    from staffcast.capacity import TOTAL, comparison, format_comparison, plan_capacity
    from staffcast.capacity_config import load_capacity_config

    config = load_capacity_config(ROOT / "configs" / "capacity.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = load_calendar(ROOT / "examples" / "data" / "calendar.csv",
                                 country=config.plan.country, years=range(2024, 2028))
    history = load_history(ROOT / "examples" / "data" / "history.csv")
    loaded = time.perf_counter()
    plan = plan_capacity(config, history, calendar, weeks=args.weeks)
    done = time.perf_counter()
    res, summary = plan.result, plan.summary()

    print(f"Double 11 capacity plan: {args.weeks} weeks from {plan.start:%Y-%m-%d}, "
          f"queues {', '.join(plan.demand.queues)}")
    print(f"status {res.status}, objective {res.objective:,.0f} (cost {res.cost:,.0f} + "
          f"shortfall {res.shortfall_hours:,.1f} h x {config.plan.shortfall_penalty:g}), "
          f"LP relaxation {res.lp_bound:,.0f} ({res.lp_gap:.2%} below), "
          f"{res.n_variables} variables, {res.n_constraints} constraints\n")
    print("hiring plan:")
    print(res.hiring.to_string(index=False) if len(res.hiring) else "  (none)")
    total = res.weekly[res.weekly["queue"] == TOTAL].copy()
    shown = pd.DataFrame({
        "week": total["week"].dt.strftime("%Y-%m-%d"),
        "required_h": total["required_hours"].round(0),
        "regular": total["productive_hours_regular"].round(0),
        "new_hire": total["productive_hours_new_hire"].round(0),
        "temp": total["productive_hours_temp"].round(0),
        "outsourced": total["productive_hours_outsourced"].round(0),
        "cloud": total["productive_hours_cloud"].round(0),
        "overtime": total["overtime_hours"].round(0),
        "short": total["shortfall_hours"].round(1),
        "cost": total["cost"].round(0),
        "heads": total["headcount_regular"].round(1),
        "festivals": total["festivals"]})
    print("\nweekly supply (productive hours) and cost:")
    print(shown.to_string(index=False))
    print("\nfestival weeks' cover:")
    for week in summary["festival_weeks"]:
        print(f"  {week['week']}  required {week['required_hours']:>7,.0f} h  shortfall "
              f"{week['shortfall_hours']:>6,.1f} h  cover {week['cover']:.2%}  cost "
              f"{week['cost']:>9,.0f}  {', '.join(week['festivals'])}")

    actual = history[history["ds"] >= pd.Timestamp(plan.start)].copy()
    actual["week"] = actual["ds"].dt.to_period("W-SUN").dt.start_time
    counts = actual.groupby(["unique_id", "week"]).agg(y=("y", "sum"), n=("y", "size"))
    counts = counts[counts["n"] == 168].reset_index()
    fc = plan.forecast.weekly.rename(columns={"ds": "week"})
    joined = fc.merge(counts, on=["unique_id", "week"])
    if len(joined):
        joined["ape"] = (joined["yhat"] / joined["y"] - 1).abs()
        inside = ((joined["y"] >= joined["yhat_lo_80"]) & (joined["y"] <= joined["yhat_hi_80"]))
        print(f"\nweekly forecast vs the history after {plan.start:%Y-%m-%d} "
              f"({joined['week'].nunique()} whole weeks): MAPE "
              + ", ".join(f"{q} {g['ape'].mean():.1%} (max {g['ape'].max():.1%})"
                          for q, g in joined.groupby("unique_id"))
              + f"; 80% interval holds {inside.mean():.0%} of the weeks")

    print(f"\ntime: load {loaded - began:.1f} s, forecast {plan.forecast_seconds:.1f} s, "
          f"requirements + model {done - loaded - plan.forecast_seconds - res.solve_seconds:.1f}"
          f" s, solve {res.solve_seconds:.1f} s; total {done - began:.1f} s "
          f"({'under' if done - began < 30 else 'OVER'} the 30 s target)")

    if args.scenarios:
        began = time.perf_counter()
        plans = [plan] + [plan_capacity(config, history, calendar, weeks=args.weeks,
                                        scenario=s, name=n, base=plan)
                          for n, s in config.scenarios.items()]
        print(f"\nwhat-if ({time.perf_counter() - began:.1f} s for "
              f"{len(plans) - 1} scenarios):")
        print(format_comparison(comparison(plans)))


if __name__ == "__main__":
    main()

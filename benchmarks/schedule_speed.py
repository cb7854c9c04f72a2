"""Benchmark: a 24x7 chat queue, one week at 30-minute intervals, peak about 300 agents,
four shift families with breaks and weekly tours, solved by CBC and HiGHS.

Then two comparisons:
- pyworkforce (`pip install pyworkforce` into .venv; benchmark only): its
  MinRequiredResources takes per-day shift masks without breaks or tours and wraps night
  shifts inside the same day, so both tools get exactly that problem (the families' start
  times as shifts, each day a cyclic 24 h plan) and staffcast's agent-hours and cost are
  printed next to pyworkforce's.
- the service-level objective against interval-by-interval cover at the same daily SL.

Run: .venv/bin/python benchmarks/schedule_speed.py [--time-limit 60] [--solvers cbc,highs]
     [--skip-pyworkforce] [--skip-service-level]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from staffcast.scheduler.erlang import agents_for_targets  # noqa: E402
from staffcast.scheduler.model import build_model  # noqa: E402
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily  # noqa: E402
from staffcast.scheduler.solve import solve  # noqa: E402


def _shape(ds: pd.DatetimeIndex) -> np.ndarray:
    """Relative load: a night trough, late-morning and evening peaks, a busier Monday and a
    quieter weekend."""
    hour = ds.hour.to_numpy() + ds.minute.to_numpy() / 60
    daily = (0.08 + 0.75 * np.exp(-((hour - 11.0) / 2.6) ** 2)
             + 0.92 * np.exp(-((hour - 20.5) / 2.2) ** 2) + 0.25 * np.exp(-((hour - 15) / 3) ** 2))
    return daily * np.array([1.08, 1.0, 0.97, 0.98, 1.02, 0.85, 0.8])[ds.day_of_week]


def requirement(peak: float = 300.0, start: str = "2026-11-09") -> pd.DataFrame:
    """A week of 30-minute agent requirements for one 24x7 queue; the maximum is `peak`."""
    ds = pd.date_range(start, periods=7 * 48, freq="30min")
    curve = _shape(ds)
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


def _pyworkforce():
    try:
        from pyworkforce.scheduling import MinRequiredResources
    except ImportError as exc:
        raise SystemExit("pyworkforce is needed for the comparison only: "
                         "`.venv/bin/pip install pyworkforce`, or pass --skip-pyworkforce") from exc
    return MinRequiredResources


def compare_pyworkforce(req: pd.DataFrame, time_limit: float) -> None:
    """Both tools on pyworkforce's problem: daily shifts from the families' start times,
    paid span only (no breaks, no tours, no premiums), each day wrapping on itself."""
    min_required = _pyworkforce()
    families = rules().families
    per_day = 48
    masks, costs, hours, plain = {}, {}, {}, []
    for fam in families:
        for start in fam.start_minutes():
            name = f"{fam.name}_{start // 60:02d}{start % 60:02d}"
            slots = [(start // 30 + k) % per_day for k in range(int(fam.paid_hours * 2))]
            masks[name] = [1 if p in slots else 0 for p in range(per_day)]
            costs[name] = int(round(fam.cost_per_hour * fam.paid_hours))
            hours[name] = fam.paid_hours
            hhmm = f"{start // 60:02d}:{start % 60:02d}"
            plain.append(ShiftFamily(name, fam.paid_hours, hhmm, hhmm, contract=fam.contract,
                                     cost_per_hour=fam.cost_per_hour))
    required = req["agents_required"].to_numpy().reshape(7, per_day).astype(int)
    t0 = time.perf_counter()
    solution = min_required(num_days=7, periods=per_day, shifts_coverage=masks,
                            required_resources=required.tolist(), cost_dict=costs,
                            max_period_concurrency=int(required.max() * 10),
                            max_shift_concurrency=int(required.max() * 10),
                            max_search_time=float(time_limit), num_search_workers=2).solve()
    pw_seconds = time.perf_counter() - t0
    pw_hours = sum(r["resources"] * hours[r["shift"]] for r in solution["resources_shifts"])
    print(f"pyworkforce MinRequiredResources: status {solution['status']} cost "
          f"{solution['cost']:.0f} agent-hours {pw_hours:.0f} seconds {pw_seconds:.1f}")
    plain_rules = ScheduleRules(interval_minutes=30, cyclic=True, families=tuple(plain))
    cost = agent_hours = seconds = 0.0
    statuses = set()
    for day in range(7):
        day_req = req.iloc[day * per_day:(day + 1) * per_day]
        result = solve(build_model(day_req, plain_rules), solver="highs",
                       time_limit_s=time_limit / 7, gap=0.0)
        statuses.add(result.status)
        cost += result.labour_cost
        agent_hours += result.paid_hours
        seconds += result.solve_seconds
        assert result.shortfall_agent_hours == 0
    print(f"staffcast on the same problem: status {','.join(sorted(statuses))} cost {cost:.0f} "
          f"agent-hours {agent_hours:.0f} seconds {seconds:.1f}  "
          f"(lower or equal: cost {cost <= solution['cost'] + 1e-6}, "
          f"agent-hours {agent_hours <= pw_hours + 1e-6})")


def service_level_week(peak_volume: float = 900.0, aht_s: float = 240.0) -> pd.DataFrame:
    """Requirement with volume for the SL comparison: the same curve as chats per half
    hour (peak `peak_volume`), agents per interval for 80% within 20 s (Erlang C)."""
    base = requirement()
    curve = _shape(pd.DatetimeIndex(base["ds"]))
    volume = np.round(peak_volume * curve / curve.max())
    erlangs = volume * aht_s / 1800
    agents = agents_for_targets(erlangs, aht_s, sl_target=0.8, sl_seconds=20)
    return base.assign(volume=volume, aht_s=aht_s, erlangs=erlangs,
                       agents_required=np.asarray(agents, dtype=float))


def compare_service_level(time_limit: float, solver: str) -> None:
    """Cover every interval at 80/20, measure the daily SL that plan reaches, then ask the
    service-level objective for that same daily SL and compare labour cost."""
    req = service_level_week()
    print(f"SL week: peak {req['agents_required'].max():.0f} agents for 80/20, "
          f"{req['volume'].sum():.0f} chats")
    cover = solve(build_model(req, rules()), solver=solver, time_limit_s=time_limit)
    worst_day = min(cover.service_level_by_day.values())
    print(f"cover 80/20 per interval: status {cover.status} cost {cover.labour_cost:.0f} "
          f"paid_hours {cover.paid_hours:.0f} gap {cover.mip_gap:.4f} daily SL "
          f"min {worst_day:.4f} mean {np.mean(list(cover.service_level_by_day.values())):.4f}")
    # The model's curve is the upper concave hull of Erlang C, a little optimistic near the
    # stability floor, so the target is nudged up until the plan's daily SL matches cover's.
    for target in (round(worst_day, 3), round(worst_day + 0.003, 3), 0.8):
        sl_rules = dataclasses.replace(rules(), objective="service_level",
                                       service_level_target=target, service_level_seconds=20)
        result = solve(build_model(req, sl_rules), solver=solver, time_limit_s=time_limit)
        days = result.service_level_by_day
        print(f"service_level objective, daily target {target}: status {result.status} cost "
              f"{result.labour_cost:.0f} paid_hours {result.paid_hours:.0f} gap "
              f"{result.mip_gap:.4f} daily SL min {min(days.values()):.4f}  saving "
              f"{1 - result.labour_cost / cover.labour_cost:.2%} of cover's cost")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--solvers", default="cbc,highs")
    parser.add_argument("--skip-pyworkforce", action="store_true")
    parser.add_argument("--skip-service-level", action="store_true")
    args = parser.parse_args()
    req = requirement()
    print(f"requirement: {len(req)} intervals, peak {req['agents_required'].max():.0f}, "
          f"{req['agents_required'].sum() / 2:.0f} agent-hours")
    for solver in filter(None, args.solvers.split(",")):
        t0 = time.perf_counter()
        model = build_model(req, rules())
        built = time.perf_counter() - t0
        result = solve(model, solver=solver, time_limit_s=args.time_limit)
        s = result.summary()
        print(f"{solver}: vars {model.n_variables} constraints {model.n_constraints} "
              f"build {built:.1f}s status {s['status']} objective {s['objective']:.1f} "
              f"bound {s['lp_bound']:.1f} gap {s['mip_gap']:.4f} seconds {s['solve_seconds']} "
              f"paid_hours {s['paid_hours']:.0f} cost {s['labour_cost']:.1f} "
              f"shortfall_h {s['shortfall_agent_hours']} tours {s['tours']}")
    if not args.skip_pyworkforce:
        compare_pyworkforce(req, args.time_limit)
    if not args.skip_service_level:
        compare_service_level(args.time_limit, "highs")


if __name__ == "__main__":
    main()

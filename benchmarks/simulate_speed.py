"""Speed and accuracy of the roster simulation (scheduler/simulate.py).

1. One simulated week of a 300-agent voice queue: 30-minute intervals, a two-peak daily
   curve (nights at a third of the peak, a late-morning and an evening peak, weekends at
   80%), AHT 300 s, agents per interval from Erlang C for 80/20. Prints the contacts and
   the seconds for ONE replication (the target is <= 20 s) with the simulated vs Erlang
   daily SL, then the same week over 10 replications (daily SL with 95% intervals).
2. Erlang C agreement on a stationary case (10 Erlangs, 14 agents, AHT 180 s, T = 20 s):
   prints simulated SL with its 95% interval next to the closed form.

Run: .venv/bin/python benchmarks/simulate_speed.py
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffcast.scheduler.erlang import agents_for_targets, service_level  # noqa: E402
from staffcast.scheduler.simulate import simulate_queue  # noqa: E402

INTERVAL_S = 1800.0
AHT_S = 300.0


def week_curve(peak_erlangs: float) -> np.ndarray:
    """Offered Erlangs per 30-minute interval over 7 days (Monday first)."""
    hour = np.arange(48) / 2 + 0.25
    day = (0.6 + np.exp(-0.5 * ((hour - 11) / 2.2) ** 2)
           + 0.8 * np.exp(-0.5 * ((hour - 20) / 2.0) ** 2))
    day /= day.max()
    weights = np.array([1.0, 0.97, 0.95, 0.95, 1.0, 0.8, 0.8])
    return np.concatenate([peak_erlangs * w * day for w in weights])


def main() -> None:
    erlangs = week_curve(peak_erlangs=285.0)
    volume = erlangs * INTERVAL_S / AHT_S
    agents = agents_for_targets(erlangs, AHT_S, sl_target=0.8, sl_seconds=20)
    expected_sl = service_level(agents, erlangs, AHT_S, 20)
    t0 = time.perf_counter()
    res = simulate_queue(volume, INTERVAL_S, agents, aht_s=AHT_S, sl_seconds=20, seed=7,
                         replications=1, start="2026-11-09",
                         expected={"service_level": expected_sl})
    secs = time.perf_counter() - t0
    print(f"week, 300-agent queue: peak {int(agents.max())} agents, {res.contacts:,} contacts,"
          f" 1 replication in {secs:.2f} s (target <= 20 s)")
    for row in res.days.itertuples():
        print(f"  {row.day:%a %Y-%m-%d}: offered {row.offered:8,.0f}  simulated SL "
              f"{row.service_level:.3f}  Erlang C SL {row.erlang_service_level:.3f}")

    t0 = time.perf_counter()
    res = simulate_queue(volume, INTERVAL_S, agents, aht_s=AHT_S, sl_seconds=20, seed=7,
                         replications=10, start="2026-11-09",
                         expected={"service_level": expected_sl})
    secs = time.perf_counter() - t0
    print(f"same week, 10 replications ({res.contacts:,} contacts) in {secs:.2f} s:")
    for row in res.days.itertuples():
        print(f"  {row.day:%a}: simulated SL {row.service_level:.3f} "
              f"[{row.service_level_lo_95:.3f}, {row.service_level_hi_95:.3f}]  "
              f"Erlang C {row.erlang_service_level:.3f}")

    a, n, aht, t = 10.0, 14, 180.0, 20.0
    hours = 25
    t0 = time.perf_counter()
    res = simulate_queue(np.full(hours, a * 3600 / aht), 3600.0, np.full(hours, n),
                         aht_s=aht, sl_seconds=t, seed=11, replications=20)
    secs = time.perf_counter() - t0
    # The first hour starts from an empty queue: leave it out as warm-up.
    steady = res.intervals.iloc[1:]
    sl = steady["answered_within_t"].sum() / steady["offered"].sum()
    first_day = res.days.iloc[0]  # hours 0-23, warm-up hour included
    erl = service_level(n, a, aht, t)
    print(f"stationary Erlang C check: {int(steady['offered'].sum() * 20):,} contacts "
          f"after warm-up over 20 replications ({secs:.2f} s): simulated SL {sl:.4f}, "
          f"Erlang C {erl:.4f}, difference {sl - erl:+.4f}; first-24-h SL 95% interval over "
          f"replications [{first_day['service_level_lo_95']:.4f}, "
          f"{first_day['service_level_hi_95']:.4f}]")


if __name__ == "__main__":
    main()

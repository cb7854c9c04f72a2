"""Speed of the staffing maths.

1. Requirements for one year of hourly volume (8,760 rows) for 10 queues, 30-minute
   intervals (175,200 staffed intervals): target < 1 s.
2. One interval at 5,000 Erlangs (agents for 80/20): target < 50 ms.

Run: .venv/bin/python benchmarks/erlang_speed.py
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffcast.scheduler.erlang import agents_for_targets, erlang_a_agents, service_level  # noqa: E402
from staffcast.scheduler.requirements import QueueStaffing, compute_requirements  # noqa: E402


def year_of_volume(n_queues: int = 10, seed: int = 7) -> pd.DataFrame:
    """Hourly contacts with a daily and weekly cycle and Poisson noise, per queue."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2025-01-01", periods=8760, freq="h")
    hour = ds.hour.to_numpy()
    day = ds.day_of_week.to_numpy()
    shape = np.clip(np.sin((hour - 6) / 24 * 2 * np.pi), 0.05, None) * (1 - 0.15 * (day >= 5))
    frames = []
    for q in range(n_queues):
        level = 40 + 60 * q  # 40 .. 580 contacts per peak hour
        frames.append(pd.DataFrame({"unique_id": f"q{q}", "ds": ds,
                                    "volume": rng.poisson(level * shape).astype(float)}))
    return pd.concat(frames, ignore_index=True)


def queues(n_queues: int = 10) -> dict[str, QueueStaffing]:
    out = {}
    for q in range(n_queues):
        kind = q % 3
        if kind == 0:
            out[f"q{q}"] = QueueStaffing(aht_s=240.0, sl_target=0.8, sl_seconds=20.0,
                                         max_occupancy=0.85, min_agents=1,
                                         shrinkage={"breaks": 0.08, "absence": 0.07})
        elif kind == 1:
            out[f"q{q}"] = QueueStaffing(aht_s=300.0, channel="chat", concurrency=3,
                                         concurrency_aht_factor=0.3, sl_target=0.8,
                                         sl_seconds=30.0, shrinkage={"breaks": 0.1})
        else:
            out[f"q{q}"] = QueueStaffing(aht_s=200.0, sl_target=0.8, sl_seconds=20.0,
                                         patience_s=180.0, max_abandon=0.05)
    return out


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    volume = year_of_volume()
    qs = queues()
    compute_requirements(volume, qs)  # warm-up (imports, scipy ufunc set-up)
    t_year = best_of(lambda: compute_requirements(volume, qs), 3)
    req = compute_requirements(volume, qs)
    kinds = "4 Erlang C voice, 3 chat (concurrency 3), 3 Erlang A voice"
    print(f"requirements, 8,760 hourly rows x 10 queues ({kinds}) -> {len(req):,} "
          f"30-min intervals: {t_year:.3f} s (target < 1 s)")
    only_c = {k: v for k, v in qs.items() if v.patience_s is None}
    vol_c = volume[volume["unique_id"].isin(list(only_c))]
    t_c = best_of(lambda: compute_requirements(vol_c, only_c), 3)
    print(f"  of which the 7 Erlang C queues alone: {t_c:.3f} s")

    t_one = best_of(lambda: agents_for_targets(5000.0, 180.0, sl_target=0.8, sl_seconds=20.0),
                    20)
    n = agents_for_targets(5000.0, 180.0, sl_target=0.8, sl_seconds=20.0)
    print(f"one interval at 5,000 Erlangs, 80/20, AHT 180 s: {n} agents, SL "
          f"{service_level(n, 5000.0, 180.0, 20.0):.4f}, {t_one * 1e3:.2f} ms (target < 50 ms)")
    t_a = best_of(lambda: erlang_a_agents(5000.0, 180.0, 300.0, sl_target=0.8,
                                          sl_seconds=20.0), 20)
    n_a = erlang_a_agents(5000.0, 180.0, 300.0, sl_target=0.8, sl_seconds=20.0)
    print(f"same interval with Erlang A (patience 300 s): {n_a} agents, {t_a * 1e3:.2f} ms")
    t_big = best_of(lambda: agents_for_targets(50000.0, 180.0, sl_target=0.8,
                                               sl_seconds=20.0), 5)
    print(f"one interval at 50,000 Erlangs: "
          f"{agents_for_targets(50000.0, 180.0, sl_target=0.8, sl_seconds=20.0)} agents, "
          f"{t_big * 1e3:.2f} ms")


if __name__ == "__main__":
    main()

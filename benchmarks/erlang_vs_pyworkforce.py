"""staffcast's Erlang C against pyworkforce's `queuing.ErlangC` (the open-source anchor).

Needs pyworkforce in the venv (benchmark only, never imported by the engine or tests):
    .venv/bin/pip install pyworkforce
Run: .venv/bin/python benchmarks/erlang_vs_pyworkforce.py

pyworkforce units: transactions per interval, aht and interval in MINUTES, and its `asa`
argument is the service-level threshold T (also in minutes), not an ASA target.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffcast.scheduler.erlang import (  # noqa: E402
    agents_for_targets,
    erlang_c,
    occupancy,
    service_level,
)

try:
    from pyworkforce.queuing import ErlangC
except ImportError as exc:  # pragma: no cover - benchmark-only peer
    raise SystemExit("pyworkforce is not installed: .venv/bin/pip install pyworkforce") from exc


def ours(transactions, aht_min, interval_min, t_min, shrinkage, sl, max_occ):
    a = transactions * aht_min / interval_min
    raw = agents_for_targets(a, aht_min * 60, sl_target=sl, sl_seconds=t_min * 60,
                             max_occupancy=max_occ)
    return {"raw_positions": raw, "positions": math.ceil(raw / (1 - shrinkage) - 1e-9),
            "service_level": service_level(raw, a, aht_min * 60, t_min * 60),
            "occupancy": occupancy(raw, a), "waiting_probability": erlang_c(raw, a)}


def theirs(transactions, aht_min, interval_min, t_min, shrinkage, sl, max_occ):
    e = ErlangC(transactions=transactions, aht=aht_min, asa=t_min, interval=interval_min,
                shrinkage=shrinkage)
    return e.required_positions(service_level=sl, max_occupancy=max_occ)


DOCUMENTED = [
    # (label, transactions, aht min, interval min, T min, shrinkage, SL target, max occupancy)
    ("README example", 100, 3, 30, 20 / 60, 0.3, 0.8, 0.85),
    ("tests: test_expected_erlangc_results", 100, 3, 30, 0.33, 0.3, 0.8, 0.85),
    ("tests: test_over_occupancy_erlangc", 100, 3, 30, 0.33, 0.3, 0.8, 0.7),
    ("README MultiErlangC, SL 0.80", 100, 3, 30, 20 / 60, 0.3, 0.8, 0.8),
    ("README MultiErlangC, SL 0.85", 100, 3, 30, 20 / 60, 0.3, 0.85, 0.8),
    ("README MultiErlangC, SL 0.90", 100, 3, 30, 20 / 60, 0.3, 0.9, 0.8),
]


def documented() -> None:
    print("pyworkforce's own examples (raw / with shrinkage / SL / occupancy / P(wait)):")
    for label, *args in DOCUMENTED:
        a, b = ours(*args), theirs(*args)
        fmt = "{raw_positions:>3} {positions:>3} {service_level:.4f} {occupancy:.4f} " \
              "{waiting_probability:.4f}"
        same = all(np.isclose(a[k], b[k], rtol=1e-9) for k in a)
        print(f"  {label:<38} staffcast {fmt.format(**a)} | pyworkforce {fmt.format(**b)}"
              f"  {'same' if same else 'DIFFERENT'}")


def grid() -> None:
    rng = np.random.default_rng(3)
    cases, differ, examples = 0, 0, []
    for _ in range(2000):
        transactions = float(rng.choice([rng.uniform(0.5, 20), rng.uniform(20, 2000)]))
        args = (transactions, float(rng.uniform(1, 12)), 30, float(rng.uniform(0.05, 2)), 0.0,
                float(rng.uniform(0.5, 0.95)), float(rng.choice([1.0, 0.85, 0.7])))
        cases += 1
        a, b = ours(*args), theirs(*args)
        if a["raw_positions"] != b["raw_positions"]:
            differ += 1
            if len(examples) < 4:
                examples.append((args, a["raw_positions"], b["raw_positions"]))
    print(f"random grid: {cases} intervals, raw positions differ in {differ}")
    for args, n_ours, n_theirs in examples:
        intensity = args[0] * args[1] / args[2]
        print(f"  traffic {intensity:.3f} Erl, T {args[3] * 60:.0f} s, SL {args[5]:.3f}, "
              f"occ cap {args[6]}: staffcast {n_ours}, pyworkforce {n_theirs}; "
              f"SL at {n_ours}: {service_level(n_ours, intensity, args[1] * 60, args[3] * 60):.4f}")


def speed() -> None:
    rng = np.random.default_rng(5)
    transactions = rng.uniform(20, 400, 8760)
    start = time.perf_counter()
    for tr in transactions:
        ErlangC(transactions=tr, aht=4, asa=20 / 60, interval=60).required_positions(0.8, 0.85)
    t_theirs = time.perf_counter() - start
    start = time.perf_counter()
    agents_for_targets(transactions * 4 / 60, 240.0, sl_target=0.8, sl_seconds=20,
                       max_occupancy=0.85)
    t_ours = time.perf_counter() - start
    print(f"8,760 hourly intervals, one queue: staffcast {t_ours * 1e3:.1f} ms, "
          f"pyworkforce {t_theirs * 1e3:.0f} ms")
    start = time.perf_counter()
    big = ErlangC(transactions=50000, aht=3, asa=20 / 60, interval=30).required_positions(0.8)
    t_big = time.perf_counter() - start
    start = time.perf_counter()
    n_big = agents_for_targets(5000.0, 180.0, sl_target=0.8, sl_seconds=20)
    t_big_ours = time.perf_counter() - start
    print(f"5,000 Erlangs: staffcast {n_big} agents in {t_big_ours * 1e3:.2f} ms, pyworkforce "
          f"{big['raw_positions']} in {t_big * 1e3:.1f} ms")


if __name__ == "__main__":
    documented()
    grid()
    speed()

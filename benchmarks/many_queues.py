"""Many queues on Dask: queues per second with 1 and 2 workers, memory, a 10,000-queue projection.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/many_queues.py
        [--queues 1000] [--model arima] [--horizon 168] [--short-queues 2] [--repeats 3]
        [--no-inline]

Builds `--queues` synthetic queues (seeded; each with its own level, daily shape, opening
hours, weekend factor and over-dispersed noise), one year (8,760 hours) of hourly history
each, plus `--short-queues` queues with only 40 hours of history that genuinely fail (too
short for the model and for its snaive fallback), so the failure list is exercised.

The same `staffcast.pipeline.forecast_many` call (split per queue, one task per queue, the
calendar-free features, the model, the concat) runs three times:
- inline: 1 worker, no Dask (the path a single-queue or `--workers 1` run takes);
- a one-worker LocalCluster: the like-for-like baseline for the speed-up (same task
  shipping and result gathering as the two-worker run);
- a two-worker LocalCluster.
The cluster runs are repeated `--repeats` times, interleaved, and the fastest of each
size counts (the machine may be shared). It prints queues per second for each, the speed-up of 2 workers over 1, the peak resident
memory of each worker process, checks that no queue is lost (every queue is either in the
output with `horizon` rows or in the failure list), lists the failures, and projects the
time for 10,000 queues on a 32-core cluster with the arithmetic shown.
Exits 1 if 2 workers give less than 1.7x the queues per second of 1 worker, or a queue is
lost.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffcast.parallel import Engine, batch_size, local_cluster
from staffcast.pipeline import forecast_many

HOURS = 8760
SHORT_HOURS = 40
REQUIRED_SPEEDUP = 1.7
START = pd.Timestamp("2025-01-06")  # a Monday


def synthetic_queues(n: int, n_short: int, seed: int = 2026) -> pd.DataFrame:
    """`unique_id, ds, y` for `n` year-long queues and `n_short` 40-hour ones."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=HOURS, freq="h")
    hour = ds.hour.to_numpy()[None, :]
    weekday = ds.day_of_week.to_numpy()[None, :]
    day = (np.arange(HOURS) // 24)[None, :]
    level = np.exp(rng.normal(np.log(15.0), 0.9, n))[:, None]      # contacts/hour at peak
    peak = rng.uniform(10, 20, n)[:, None]                           # hour of the peak
    width = rng.uniform(2.5, 5.0, n)[:, None]                        # hours
    second = rng.uniform(0.0, 0.6, n)[:, None]                       # evening peak share
    daily = (np.exp(-0.5 * ((hour - peak) / width) ** 2)
             + second * np.exp(-0.5 * ((hour - 20.5) / 1.5) ** 2))
    opens, closes = rng.integers(6, 10, n)[:, None], rng.integers(18, 24, n)[:, None]
    always_open = rng.random(n)[:, None] < 0.3
    open_ = always_open | ((hour >= opens) & (hour < closes))
    weekend = rng.uniform(0.3, 1.2, n)[:, None]
    weekly = np.where(weekday >= 5, weekend, 1.0)
    trend = 1.0 + rng.normal(0.0, 0.2, n)[:, None] * day / 365.0
    mean = level * (0.05 + daily) * weekly * trend * open_
    dispersion = rng.uniform(5.0, 50.0, n)[:, None]  # gamma-Poisson: var = m + m^2/k
    y = rng.poisson(mean * rng.gamma(dispersion, 1.0 / dispersion, mean.shape))
    frames = [pd.DataFrame({"unique_id": np.repeat([f"q{i:05d}" for i in range(n)], HOURS),
                            "ds": np.tile(ds.to_numpy(), n), "y": y.ravel().astype(float)})]
    for i in range(n_short):
        frames.append(pd.DataFrame({"unique_id": f"short{i}", "ds": ds[-SHORT_HOURS:],
                                    "y": rng.poisson(10.0, SHORT_HOURS).astype(float)}))
    history = pd.concat(frames, ignore_index=True)
    history["unique_id"] = history["unique_id"].astype("string")
    return history


def _peak_rss_mib() -> float:
    """This process's peak resident memory, MiB: VmHWM on Linux. Not ru_maxrss, which a
    worker inherits from the process that started it (it showed the parent's 1.8 GB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(history: pd.DataFrame, workers: int | None, model: str, horizon: int) -> dict:
    """One timed forecast_many over all queues on a local cluster of `workers` worker
    processes; None = inline (no Dask)."""
    n_queues = history["unique_id"].nunique()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        engine = Engine()
        if workers is not None:
            engine = Engine(stack.enter_context(local_cluster(workers)), workers)
        ready = time.perf_counter()
        result = forecast_many(history, horizon=horizon, models=[model], engine=engine)
        seconds = time.perf_counter() - ready
        if engine.parallel:
            memory = sorted(engine.client.run(_peak_rss_mib).values())
        else:
            memory = [_peak_rss_mib()]
    label = "inline (no Dask)" if workers is None else f"{workers} worker(s), LocalCluster"
    return {"label": label, "seconds": seconds, "startup": ready - started,
            "rate": n_queues / seconds, "memory": memory, "result": result,
            "client_mib": _peak_rss_mib()}


def check_complete(history: pd.DataFrame, result, horizon: int) -> list[str]:
    """Every queue is in the output with `horizon` rows, or in the failure list."""
    expected = set(history["unique_id"].unique())
    rows = result.predicted.groupby("unique_id").size()
    failed = {f.key for f in result.failures}
    problems = []
    lost = expected - set(rows.index) - failed
    if lost:
        problems.append(f"{len(lost)} queue(s) lost: {sorted(lost)[:5]}")
    wrong = rows[rows != horizon]
    if len(wrong):
        problems.append(f"{len(wrong)} queue(s) without {horizon} rows: {list(wrong.index[:5])}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--model", default="arima")
    parser.add_argument("--horizon", type=int, default=168)
    parser.add_argument("--short-queues", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each cluster size, interleaved; the fastest counts")
    parser.add_argument("--no-inline", action="store_true",
                        help="skip the inline run (the 1- and 2-worker clusters still run)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    started = time.perf_counter()
    history = synthetic_queues(args.queues, args.short_queues)
    n_total = history["unique_id"].nunique()
    print(f"data: {args.queues} queues x {HOURS} hours + {args.short_queues} short queue(s) of "
          f"{SHORT_HOURS} hours = {len(history):,} rows, built in "
          f"{time.perf_counter() - started:.1f} s; model {args.model}, horizon {args.horizon} h")

    runs = [] if args.no_inline else [run(history, None, args.model, args.horizon)]
    # The machine may be shared: interleave the cluster sizes and keep each one's fastest
    # run, so a burst of someone else's work does not decide the comparison.
    tries = {1: [], 2: []}
    for attempt in range(args.repeats):
        for workers in (1, 2):
            tries[workers].append(run(history, workers, args.model, args.horizon))
            print(f"  try {attempt + 1}: {workers} worker(s) "
                  f"{tries[workers][-1]['rate']:.2f} queues/s", flush=True)
    runs += [max(tries[w], key=lambda r: r["rate"]) for w in (1, 2)]
    print(f"\n{'run (fastest of the tries)':<30}{'startup s':>10}{'forecast s':>11}{'queues/s':>10}  peak RSS per "
          "process (MiB)")
    for r in runs:
        print(f"{r['label']:<30}{r['startup']:>10.1f}{r['seconds']:>11.1f}{r['rate']:>10.2f}  "
              + ", ".join(f"{m:.0f}" for m in r["memory"]))
    one, two = runs[-2], runs[-1]
    speedup = two["rate"] / one["rate"]
    print(f"\nspeed-up, 2 workers over a 1-worker cluster (like for like): "
          f"{two['rate']:.2f} / {one['rate']:.2f} = {speedup:.2f}x (required >= "
          f"{REQUIRED_SPEEDUP}x)")
    if not args.no_inline:
        print(f"speed-up, 2 workers over inline (no Dask): {two['rate']:.2f} / "
              f"{runs[0]['rate']:.2f} = {two['rate'] / runs[0]['rate']:.2f}x")

    problems = []
    for r in [*runs[:-2], *tries[1], *tries[2]]:
        problems += [f"{r['label']}: {p}" for p in check_complete(history, r["result"],
                                                                  args.horizon)]
    result = two["result"]
    done = result.predicted["unique_id"].nunique()
    print(f"\nqueues: {n_total} in, {done} forecast + {len(result.failures)} failed = "
          f"{done + len(result.failures)}; rows {len(result.predicted):,} = {done} x "
          f"{args.horizon}: {'no queue lost' if not problems else 'LOST QUEUES'}")
    print(f"failures ({len(result.failures)}):")
    for failure in result.failures:
        print(f"  {failure.key}: {failure.stage}: {failure.reason}")
    print(f"fallbacks ({len(result.fallbacks)}):")
    for fallback in result.fallbacks:
        print(f"  {fallback.unique_id}: {fallback.requested_model} -> {fallback.used_model}: "
              f"{fallback.reason}")

    per_core = one["rate"]
    efficiency = speedup / 2
    cores, target = 32, 10_000
    projected_rate = cores * per_core * efficiency
    size = batch_size(target, cores)
    tasks = -(-target // size)
    print("\nprojection, 10,000 queues on a 32-core cluster (one single-threaded worker per "
          "core):\n"
          f"  per-core rate r1 = {per_core:.3f} queues/s (the 1-worker cluster run)\n"
          f"  parallel efficiency e = speed-up / workers = {speedup:.2f} / 2 = "
          f"{efficiency:.2f}, assumed to hold at 32 workers\n"
          f"  rate = 32 x r1 x e = 32 x {per_core:.3f} x {efficiency:.2f} = "
          f"{projected_rate:.1f} queues/s\n"
          f"  time = 10,000 / {projected_rate:.1f} = {target / projected_rate:.0f} s "
          f"({target / projected_rate / 60:.1f} min), plus cluster start-up\n"
          f"  assumptions: cores as fast as this machine's; one year of hourly history per "
          f"queue; {tasks} tasks of {size} queues\n  (a few ms of scheduler time each) and "
          "~140 KB of history per queue shipped from the client (1.4 GB in all: ~1.2 s on "
          "10 GbE)\n  stay small next to the work; the client needs memory for the whole "
          f"history (here {runs[-1]['client_mib']:.0f} MiB peak for {n_total} queues, so "
          f"~{target / n_total:.0f}x that for 10,000).")
    if problems:
        print("\n".join(problems))
    failed = speedup < REQUIRED_SPEEDUP or bool(problems)
    print(f"\nresult: {'FAIL' if failed else 'PASS'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest speed and peak memory: 1 and 10 million contacts, generated here in /tmp.

The log imitates a vendor export: 20 queues, 60 days, arrivals with a daily cycle, 8%
abandoned (answered_at and ended_at blank), timestamps as ISO 8601 with a UTC `Z` (so every
row goes through the time-zone conversion to Asia/Shanghai), rows in arrival order per
day but shuffled within blocks. Each size is ingested in a fresh Python process (so its
peak resident memory, VmHWM, is ingest's own) at 30-minute intervals.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ingest_speed.py [--sizes 1e6,1e7]
     [--keep] (the logs are deleted afterwards unless --keep)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1_000_000

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from staffcast.forecasting.ingest import ingest
start = time.perf_counter()
result = ingest(sys.argv[2], interval_minutes=30, timezone="Asia/Shanghai")
seconds = time.perf_counter() - start
peak = 0.0
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": result.rows_read,
                  "history_rows": len(result.history),
                  "counted": float(result.history["y"].sum())}))
"""


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write `rows` contacts as CSV in chunks (bounded memory)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-09-01T00:00:00", "s").astype(np.int64)
    span = 60 * 86400
    writer = None
    for done in range(0, rows, CHUNK):
        n = min(CHUNK, rows - done)
        day = rng.integers(0, 60, n)
        # Daily cycle: arrival hour drawn from a shape busy 09:00-23:00 local.
        hour = rng.choice(24, n, p=_hour_shape())
        second = rng.integers(0, 3600, n)
        arrive = start + day * 86400 + hour * 3600 + second - 8 * 3600  # local -> UTC
        arrive = np.clip(arrive, start - 8 * 3600, start + span)
        wait = rng.exponential(25, n).astype(np.int64)
        handle = rng.gamma(2.0, 150, n).astype(np.int64) + 1
        abandoned = rng.random(n) < 0.08
        queue = np.array([f"q{i:02d}" for i in range(20)])[rng.integers(0, 20, n)]

        def text(seconds, blank=None):
            ts = pa.array(seconds.astype("datetime64[s]"), type=pa.timestamp("s"))
            out = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")
            if blank is not None:
                out = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), out)
            return out

        table = pa.table({"queue": pa.array(queue), "arrived_at": text(arrive),
                          "answered_at": text(arrive + wait, abandoned),
                          "ended_at": text(arrive + wait + handle, abandoned)})
        if writer is None:
            writer = pacsv.CSVWriter(str(path), table.schema)
        writer.write_table(table)
    writer.close()


def _hour_shape() -> np.ndarray:
    hours = np.arange(24)
    shape = 0.2 + np.exp(-0.5 * ((hours - 15) / 4.5) ** 2)
    return shape / shape.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="staffcast-ingest-", dir="/tmp"))
    print(f"logs in {folder}")
    print(f"{'contacts':>12} {'file MB':>8} {'gen s':>6} {'ingest s':>9} {'rows/s':>11} "
          f"{'peak MiB':>9} {'history rows':>13}")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        path = folder / f"contacts_{size}.csv"
        start = time.perf_counter()
        generate(path, size)
        gen = time.perf_counter() - start
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path)],
                             capture_output=True, text=True, check=True)
        stats = json.loads(out.stdout.strip().splitlines()[-1])
        assert stats["rows"] == size and stats["counted"] == size
        print(f"{size:>12,} {path.stat().st_size / 1e6:>8.0f} {gen:>6.1f} "
              f"{stats['seconds']:>9.1f} {size / stats['seconds']:>11,.0f} "
              f"{stats['peak_mib']:>9.0f} {stats['history_rows']:>13,}", flush=True)
        if not args.keep:
            path.unlink()
    if not args.keep:
        folder.rmdir()


if __name__ == "__main__":
    main()

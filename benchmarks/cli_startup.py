"""Start-up time of the command line: `staffcast --help` must answer in under 0.5 s.

Runs each command line 10 times in a fresh interpreter and prints the median wall time,
next to a bare `python -c pass` for reference; then the slowest imports of
`staffcast --help` from `python -X importtime` (cumulative microseconds).

Run: .venv/bin/python benchmarks/cli_startup.py
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10
TARGET_S = 0.5
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def median_seconds(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(argv, env=ENV, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def slowest_imports(argv: list[str], top: int = 8) -> list[tuple[int, str]]:
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=ENV, check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    cli = [sys.executable, "-m", "staffcast"]
    cases = [("python -c pass", [sys.executable, "-c", "pass"]),
             ("staffcast --help", [*cli, "--help"]),
             ("staffcast config --help", [*cli, "config", "--help"]),
             ("staffcast plan --help", [*cli, "plan", "--help"])]
    print(f"median of {RUNS} runs, wall time")
    medians = {}
    for label, argv in cases:
        medians[label] = median_seconds(argv)
        print(f"  {label:<26} {medians[label]:6.3f} s")
    help_s = medians["staffcast --help"]
    print(f"staffcast --help: {help_s:.3f} s (target < {TARGET_S} s: "
          f"{'met' if help_s < TARGET_S else 'MISSED'})")
    print("slowest imports of `staffcast --help` (cumulative):")
    for micros, name in slowest_imports([*cli, "--help"]):
        print(f"  {micros / 1000:8.1f} ms {name}")


if __name__ == "__main__":
    main()

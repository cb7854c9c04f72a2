"""Forecast speed: fit + forecast of one queue with one year of hourly history.

The queue is the example shop's `presales` (open around the clock, the larger one), its last
52 weeks of history (8,736 hours), with the example calendar (built-in China holidays plus
the festival windows); each model forecasts 168 hours through `forecast.core.forecast`,
calendar features included. Median of 5 runs per model; targets: arima <= 5 s,
auto <= 30 s on the 2-core development machine.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forecast.calendar import load_calendar  # noqa: E402
from forecast.core import forecast  # noqa: E402
from forecast.data import load_history  # noqa: E402
from staffcast.config import load_config  # noqa: E402

RUNS = 5
TARGETS = {"arima": 5.0, "auto": 30.0, "prophet": None, "histavg": None}
WEEK_HOURS = 168


def main() -> int:
    data = ROOT / "examples" / "data"
    history = load_history(data / "history.csv")
    history = history[history["unique_id"] == "presales"].tail(52 * WEEK_HOURS)
    years = range(history["ds"].min().year, history["ds"].max().year + 1)
    calendar = load_calendar(data / "calendar.csv", country="CN", years=years)
    config = load_config(ROOT / "configs" / "example.yaml")
    print(f"one queue, {len(history)} hours of history ({history['ds'].min()} to "
          f"{history['ds'].max()}), horizon {WEEK_HOURS} h, median of {RUNS} runs")
    ok = True
    for model, target in TARGETS.items():
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            forecast(history, horizon=WEEK_HOURS, models=[model], calendar=calendar,
                     queue_settings=config.queue)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        verdict = "" if target is None else (
            f"  [{'PASS' if median <= target else 'FAIL'}] target <= {target:.0f} s")
        ok &= target is None or median <= target
        print(f"{model:<8} median {median:6.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in times)}){verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

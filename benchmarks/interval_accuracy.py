"""Forecast accuracy by interval: the bank's 5-minute calls summed to 15, 30 and 60 minutes.

Data: ../shared/data/bank_calls_5min_2003.csv (weekdays 07:00-21:05, six absent weekdays =
closures; see its README), loaded with `staffcast.forecasting.data.validate_history(...,
interval_minutes=m)`, which sums the 5-minute rows into m-minute intervals. Every model
forecasts one week ahead from 8 weekly origins (the last window ends at the end of the
data, each model refitted at every origin; `staffcast.forecasting.backtest.backtest`).

Scored on the open intervals of the 8 test weeks:
- WAPE at the interval itself (sum |y - yhat| / sum y over all open intervals);
- WAPE after summing each forecast and the actuals to hours, so the intervals compete on
  the same hourly target (does planning at 15 minutes cost hourly accuracy?).
`same4w` is the 4-week same-slot average computed here directly (the mean of the same
slot on the same weekday in the four previous weeks with data), an independent check on
`histavg`, which is that rule on day types.

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/interval_accuracy.py
     [--models snaive,histavg,arima,prophet,auto] [--intervals 15,30,60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from staffcast.forecasting.backtest import backtest  # noqa: E402
from staffcast.forecasting.calendar import load_calendar  # noqa: E402
from staffcast.forecasting.core import QueueSettings  # noqa: E402
from staffcast.forecasting.data import validate_history  # noqa: E402

BANK = ROOT.parent / "shared" / "data" / "bank_calls_5min_2003.csv"
CLOSED_DAYS = ("2003-04-04", "2003-04-07", "2003-05-26", "2003-07-04", "2003-09-01",
               "2003-10-14")
WEEKDAYS_7_TO_21_05 = tuple([((7 * 60, 21 * 60 + 5),)] * 5 + [()] * 2)
HORIZON, WINDOWS = 168, 8


def load(minutes: int, tmp: Path):
    raw = pd.read_csv(BANK, parse_dates=["DateTime"]).rename(columns={"DateTime": "ds",
                                                                        "Calls": "y"})
    path = tmp / "closures.csv"
    path.write_text("event,start,end,kind,unique_id\n" + "".join(
        f"closed,{d},{d},closure,\n" for d in CLOSED_DAYS))
    calendar = load_calendar(path, country=None)
    history = validate_history(raw, str(BANK), opening_hours={"default": WEEKDAYS_7_TO_21_05},
                               closed_dates=calendar.closed_hours, interval_minutes=minutes)
    return history, calendar


def same_slot_4_weeks(history: pd.DataFrame, cutoffs: list[pd.Timestamp]) -> pd.DataFrame:
    """The 4-week same-slot average for each test week, computed directly."""
    series = history.set_index("ds")["y"]
    day_total = series.groupby(series.index.normalize()).sum()
    days_with_data = set(day_total[day_total > 0].index)
    out = []
    for cutoff in cutoffs:
        test = series[(series.index > cutoff) & (series.index <= cutoff + pd.Timedelta(hours=HORIZON))]
        yhat = []
        for ts in test.index:
            refs, k = [], 1
            while len(refs) < 4 and k < 20:
                ref = ts - pd.Timedelta(weeks=k)
                if ref <= cutoff and ref.normalize() in days_with_data:
                    refs.append(series.get(ref, np.nan))
                k += 1
            yhat.append(np.nanmean(refs) if refs else np.nan)
        out.append(pd.DataFrame({"ds": test.index, "model": "same4w", "yhat": yhat,
                                 "y": test.to_numpy(), "cutoff": cutoff}))
    return pd.concat(out, ignore_index=True)


def wape(frame: pd.DataFrame) -> float:
    return float(np.abs(frame["y"] - frame["yhat"]).sum() / frame["y"].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="snaive,histavg,arima,prophet,auto")
    parser.add_argument("--intervals", default="15,30,60")
    args = parser.parse_args()
    if not BANK.is_file():
        sys.exit(f"skipped: {BANK} is absent (see ../shared/data/README.md)")
    models = [m for m in args.models.split(",") if m and m != "none"]
    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (int(m) for m in args.intervals.split(",")):
            history, calendar = load(minutes, Path(tmp))
            # Scored: inside the opening hours and not on a closure day (every model
            # forecasts those zero; the direct same-slot average knows no calendar).
            hours = history["ds"].dt.hour * 60 + history["ds"].dt.minute
            open_slot = ((history["ds"].dt.weekday < 5) & (hours >= 420)
                         & (hours < 21 * 60 + 5)
                         & ~history["ds"].dt.normalize().isin(pd.DatetimeIndex(CLOSED_DAYS))
                         ).to_numpy()
            is_open = pd.Series(open_slot, index=history["ds"])
            for model in models:
                start = time.perf_counter()
                forecasts, metrics = backtest(
                    history, models=[model], horizon=HORIZON, windows=WINDOWS,
                    calendar=calendar,
                    queue_settings={"default": QueueSettings(WEEKDAYS_7_TO_21_05)})
                seconds = time.perf_counter() - start
                forecasts = forecasts[is_open.reindex(forecasts["ds"]).to_numpy()]
                rows.append(_scores(minutes, model, forecasts, seconds))
                print(f"{minutes:>3} min {model:<8} WAPE {rows[-1]['wape']:.2%} "
                      f"(hourly {rows[-1]['wape_hourly']:.2%}) {seconds:6.1f} s", flush=True)
            # The backtest's origins: the last window ends at the end of the data.
            end = history["ds"].max()
            cutoffs = [end - pd.Timedelta(hours=HORIZON) * (WINDOWS - k) for k in
                       range(WINDOWS)]
            start = time.perf_counter()
            direct = same_slot_4_weeks(history, cutoffs)
            direct = direct[is_open.reindex(direct["ds"]).to_numpy()]
            rows.append(_scores(minutes, "same4w", direct, time.perf_counter() - start))
            print(f"{minutes:>3} min same4w   WAPE {rows[-1]['wape']:.2%} "
                  f"(hourly {rows[-1]['wape_hourly']:.2%})", flush=True)
    table = pd.DataFrame(rows)
    print()
    print("WAPE at the interval (8 weekly origins, one-week horizon, open intervals):")
    print((100 * table.pivot(index="model", columns="minutes", values="wape")).round(2)
          .to_string())
    print()
    print("WAPE of the same forecasts summed to hours:")
    print((100 * table.pivot(index="model", columns="minutes", values="wape_hourly")).round(2)
          .to_string())
    print()
    print("backtest seconds (8 windows):")
    print(table.pivot(index="model", columns="minutes", values="seconds").round(1).to_string())


def _scores(minutes: int, model: str, frame: pd.DataFrame, seconds: float) -> dict:
    hourly = (frame.assign(hour=pd.to_datetime(frame["ds"]).dt.floor("h"))
              .groupby(["cutoff", "hour"])[["y", "yhat"]].sum())
    return {"minutes": minutes, "model": model, "wape": wape(frame),
            "wape_hourly": wape(hourly), "seconds": seconds}


if __name__ == "__main__":
    main()

"""Handle-time forecast error on simulated contacts whose true mean handle time is known.

How the data is made (seeded): one chat queue open around the clock, 12 weeks of history
and one test week, contacts per interval Poisson with a daily cycle (about 5 an hour at
03:00 to 55 at 15:00, weekends 20% quieter) doubled on promotion days (every other
Wednesday, including the test week's). Each contact's handle time is exponential (the
spread real chats show) with a true mean that
- varies by hour: 240 s at 02:00 rising to 420 s at 14:00 (a cosine over the day),
- is 10% longer on Mondays (weekend backlog),
- is 50% longer on promotion days (price-protection and coupon questions);
an interval's `aht_s` is the mean over its contacts (blank when none), as
`staffcast ingest` writes it.

Scored on the test week, weighted by the true volume (the intervals staffing cares about):
mean absolute percentage error of
- `forecast`: `staffcast.forecasting.aht.HandleTimeModel` (through `staffcast.forecasting.core.forecast`),
- `constant`: one number per queue, the history's volume-weighted mean (the config's
  `aht_s`, what staffcast staffed with before),
- `same4w`: the volume-weighted mean of the same slot on the same weekday over the last
  four weeks (a WFM tool's usual handle-time profile),
at 15, 30 and 60 minutes, over 5 seeds; and the error of the workload (Erlangs = volume x
aht / interval) each implies when the volume is known.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/aht_forecast.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from staffcast.forecasting.calendar import load_calendar  # noqa: E402
from staffcast.forecasting.core import forecast  # noqa: E402

START = pd.Timestamp("2025-06-02")  # a Monday
WEEKS = 12
PROMO = pd.date_range("2025-06-04", periods=7, freq="14D")  # Wednesdays, test week too


def true_aht(ds: pd.DatetimeIndex) -> np.ndarray:
    hour = ds.hour + ds.minute / 60
    promo = np.isin(ds.normalize(), PROMO)
    monday = ds.day_of_week == 0
    base = 330 - 90 * np.cos((hour - 2) / 24 * 2 * np.pi)
    return base * np.where(monday, 1.1, 1.0) * np.where(promo, 1.5, 1.0)


def simulate(minutes: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=(WEEKS + 1) * 7 * 1440 // minutes, freq=f"{minutes}min")
    hour = ds.hour + ds.minute / 60
    rate = (30 + 25 * np.sin((hour - 9) / 24 * 2 * np.pi)) * minutes / 60
    rate = rate * np.where(ds.day_of_week >= 5, 0.8, 1.0)
    rate = rate * np.where(np.isin(ds.normalize(), PROMO), 2.0, 1.0)
    y = rng.poisson(rate)
    mean = true_aht(ds)
    aht = np.array([rng.exponential(m, n).mean() if n else np.nan for m, n in zip(mean, y)])
    frame = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": y.astype(float),
                          "answered": y.astype(float), "aht_s": aht})
    return frame, np.asarray(rate)


def same_slot_4w(history: pd.DataFrame, test_ds: pd.DatetimeIndex, minutes: int) -> np.ndarray:
    h = history.set_index("ds")
    out = []
    for ts in test_ds:
        refs = [ts - pd.Timedelta(weeks=k) for k in range(1, 5)]
        rows = h.reindex(refs)
        w = rows["answered"].fillna(0).to_numpy()
        a = rows["aht_s"].to_numpy()
        ok = np.isfinite(a) & (w > 0)
        out.append(np.average(a[ok], weights=w[ok]) if ok.any() else np.nan)
    return np.array(out)


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cal.csv"
        path.write_text("event,start,end,kind,unique_id\n" + "".join(
            f"flash_sale,{d:%Y-%m-%d},{d:%Y-%m-%d},promotion,\n" for d in PROMO))
        calendar = load_calendar(path, country=None)
        rows = []
        for minutes in (15, 30, 60):
            for seed in range(5):
                frame, rate = simulate(minutes, seed)
                cut = START + pd.Timedelta(weeks=WEEKS)
                history = frame[frame["ds"] < cut]
                test = frame["ds"] >= cut
                test_ds = pd.DatetimeIndex(frame.loc[test, "ds"])
                truth = true_aht(test_ds)
                weight = rate[test.to_numpy()]
                start = time.perf_counter()
                fc = forecast(history, horizon=168, models=["snaive"], calendar=calendar)
                seconds = time.perf_counter() - start
                flat = np.average(history["aht_s"].fillna(0), weights=history["answered"])
                guesses = {"forecast": fc["aht_s"].to_numpy(),
                           "constant": np.full(len(truth), flat),
                           "same4w": same_slot_4w(history, test_ds, minutes)}
                promo = np.isin(test_ds.normalize(), PROMO)
                for name, guess in guesses.items():
                    ape = np.abs(guess / truth - 1)
                    ok = np.isfinite(ape)
                    rows.append({"minutes": minutes, "seed": seed, "method": name,
                                 "wmape": np.average(ape[ok], weights=weight[ok]),
                                 "promo_day": np.average(ape[ok & promo],
                                                         weights=weight[ok & promo]),
                                 "seconds": seconds})
    table = pd.DataFrame(rows)
    mean = table.groupby(["method", "minutes"])[["wmape", "promo_day"]].mean()
    print("volume-weighted mean absolute % error of the test week's handle time "
          "(mean of 5 seeds):")
    print((100 * mean["wmape"].unstack("minutes")).round(1).to_string())
    print("\nsame, on the promotion day only:")
    print((100 * mean["promo_day"].unstack("minutes")).round(1).to_string())
    secs = table[table["method"] == "forecast"].groupby("minutes")["seconds"].mean()
    print("\nseconds per forecast (volume snaive + handle time, one queue, 12 weeks): "
          + ", ".join(f"{m} min {s:.2f}" for m, s in secs.items()))
    print("(with the volume known, the workload error equals the handle-time error)")


if __name__ == "__main__":
    main()

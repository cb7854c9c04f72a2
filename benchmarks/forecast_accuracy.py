"""Forecast accuracy and interval calibration of every staffcast model, two held-out windows.

Datasets
- `bank-hourly`: the bank call centre of ../shared/data (weekdays 07:00-21:05, the six
  absent weekdays as a closure calendar built here, no country calendar; see its README).
- `bank-30min`: the same bank from its 5-minute file summed to 30-minute slots (needs an
  engine that forecasts sub-hourly grids; printed as skipped with the engine's reason
  otherwise).
- `shop`: the example shop (examples/data, two queues, built-in China holidays plus the
  festival calendar, configs/example.yaml).

Windows: rolling origin, one week ahead, origins one week apart, each model refitted at
every origin on the history before it (`staffcast.forecasting.backtest.backtest`).
- window `B` (confirm): the last 8 weekly origins, ending at the end of the data;
- window `A` (tune): the 8 weekly origins before those (the data truncated by 8 weeks).
Model choices were tuned on A and confirmed on B (see docs/forecasting.md).

Scored on open slots only (slots where the actual or the forecast is non-zero), pooled
over all queues and origins of a window: WAPE, MASE (MAE over the in-sample MAE of the
weekly seasonal naive on open slots of the history before the window's first origin),
bias, 80%/95% coverage and the interval score (Gneiting & Raftery 2007, per open slot, as
% of the mean actual: width plus 2/alpha times the miss). WAPE is also split by week into
ordinary weeks and weeks with a holiday, closure, adjusted workday or promotion.

`--datasets` may also name `double11`: the example shop's Double 11 day (2026-11-11)
forecast from the history ending 2026-11-08 against the generator's expected volume
(examples/data/truth_double11_week.csv), per queue and model.

`--peers` adds default `Prophet()` on the bank's raw hourly rows (point forecast only).
The metrics here are computed from the backtest forecasts by this script, so the same file
measures an older engine (run it with that engine first on PYTHONPATH).

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_accuracy.py
     [--datasets bank-hourly,bank-30min,shop] [--models snaive,histavg,...] [--windows A,B]
     [--out results.csv] [--peers]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from staffcast.forecasting.backtest import backtest  # noqa: E402
from staffcast.forecasting.calendar import load_calendar  # noqa: E402
from staffcast.forecasting.core import QueueSettings  # noqa: E402
from staffcast.forecasting.data import load_history, validate_history  # noqa: E402
from staffcast.config import load_config  # noqa: E402

SHARED = Path(os.environ.get("STAFFCAST_SHARED_DATA", ROOT.parent / "shared" / "data"))
if not SHARED.is_dir():  # a git worktree beside the main checkout
    SHARED = Path("/work/shared/data")
CLOSED_DAYS = ("2003-04-04", "2003-04-07", "2003-05-26", "2003-07-04", "2003-09-01",
               "2003-10-14")
WEEKDAYS_7_TO_21_05 = tuple([((7 * 60, 21 * 60 + 5),)] * 5 + [()] * 2)
ORIGINS = 8
MODELS = ("snaive", "histavg", "arima", "prophet", "auto")
WEEK = pd.Timedelta(days=7)


def bank_calendar(tmp: Path):
    path = tmp / "bank_closures.csv"
    path.write_text("event,start,end,kind,unique_id\n" + "".join(
        f"closed,{day},{day},closure,\n" for day in CLOSED_DAYS))
    return load_calendar(path, country=None)


def bank_hourly(tmp: Path):
    raw = pd.read_csv(SHARED / "bank_calls_hourly_2003.csv", parse_dates=["DateTime"]).rename(
        columns={"DateTime": "ds", "Calls": "y"})
    calendar = bank_calendar(tmp)
    history = validate_history(raw, "bank_calls_hourly_2003.csv",
                               opening_hours={"default": WEEKDAYS_7_TO_21_05},
                               closed_dates=calendar.closed_hours)
    return history, calendar, {"default": QueueSettings(opening_hours=WEEKDAYS_7_TO_21_05)}


def bank_30min(tmp: Path):
    five = pd.read_csv(SHARED / "bank_calls_5min_2003.csv", parse_dates=["DateTime"])
    raw = (five.set_index("DateTime")["Calls"].resample("30min").sum()
           .rename("y").rename_axis("ds").reset_index())
    raw = raw[raw["ds"].isin(five["DateTime"].dt.floor("30min"))]  # observed slots only
    calendar = bank_calendar(tmp)
    history = validate_history(raw, "bank_calls_5min_2003.csv (30-min sums)",
                               opening_hours={"default": WEEKDAYS_7_TO_21_05},
                               closed_dates=calendar.closed_hours)
    return history, calendar, {"default": QueueSettings(opening_hours=WEEKDAYS_7_TO_21_05)}


def shop(tmp: Path):
    data = ROOT / "examples" / "data"
    history = load_history(data / "history.csv")
    years = range(history["ds"].min().year, history["ds"].max().year + 1)
    calendar = load_calendar(data / "calendar.csv", country="CN", years=years)
    return history, calendar, load_config(ROOT / "configs" / "example.yaml").queue


DATASETS = {"bank-hourly": bank_hourly, "bank-30min": bank_30min, "shop": shop}


def special_days(calendar, uid: str, start: pd.Timestamp, end: pd.Timestamp) -> bool:
    """Does [start, end) hold a holiday, closure, adjusted workday or promotion?"""
    dates = pd.date_range(start.normalize(), (end - pd.Timedelta(seconds=1)).normalize())
    table = calendar.day_table(dates, uid)
    if table[["is_holiday", "is_adjusted_workday", "is_closure"]].to_numpy(bool).any():
        return True
    span = pd.date_range(start, end, freq="h", inclusive="left")
    promotions = calendar.promotion_hours(span, uid)
    return bool(promotions.shape[1]) and bool(promotions.to_numpy().any())


def interval_score(y, lo, hi, level: int) -> np.ndarray:
    alpha = 1 - level / 100
    return (hi - lo) + 2 / alpha * (np.clip(lo - y, 0, None) + np.clip(y - hi, 0, None))


def naive_scale(history: pd.DataFrame, before: pd.Timestamp) -> float:
    """In-sample MAE of the weekly seasonal naive over open slots, pooled over queues."""
    errors = []
    for _, queue in history[history["ds"] <= before].groupby("unique_id"):
        s = queue.set_index("ds")["y"]
        lagged = s.shift(freq=WEEK).reindex(s.index)
        open_ = (s > 0) | (lagged > 0)
        errors.append((s - lagged).abs()[open_ & lagged.notna()])
    return float(pd.concat(errors).mean())


def score(forecasts: pd.DataFrame, scale: float, special: dict) -> pd.DataFrame:
    rows = []
    f = forecasts[(forecasts["y"] > 0) | (forecasts["yhat"] > 0)]
    for model, d in f.groupby("model", sort=False):
        y, yhat = d["y"].to_numpy(float), d["yhat"].to_numpy(float)
        row = {"model": model,
               "wape": np.abs(y - yhat).sum() / y.sum(),
               "mase": np.abs(y - yhat).mean() / scale,
               "bias": (yhat - y).sum() / y.sum()}
        for level in (80, 95):
            lo, hi = d[f"yhat_lo_{level}"].to_numpy(float), d[f"yhat_hi_{level}"].to_numpy(float)
            row[f"cov{level}"] = np.mean((y >= lo) & (y <= hi))
            row[f"is{level}"] = interval_score(y, lo, hi, level).mean() / y.mean()
        flags = np.array([special[(u, c)] for u, c in zip(d["unique_id"], d["cutoff"])])
        for label, mask in (("ordinary", ~flags), ("holiday", flags)):
            row[f"wape_{label}"] = (np.abs(y - yhat)[mask].sum() / y[mask].sum()
                                    if mask.any() else np.nan)
        row["fit_s"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def run_window(name: str, history, calendar, settings, models, window: str,
               step: pd.Timedelta):
    end = history["ds"].max()
    if window == "A":
        end = end - ORIGINS * WEEK
        history = history[history["ds"] <= end]
    start = time.perf_counter()
    # The horizon in hours: one week whatever the interval (the engine turns it into steps).
    forecasts, metrics = backtest(history, models=models, horizon=168, windows=ORIGINS,
                                  calendar=calendar, queue_settings=settings)
    seconds = time.perf_counter() - start
    first_cutoff = forecasts["cutoff"].min()
    special = {(u, c): special_days(calendar, u, c + step, c + step + WEEK)
               for u, c in forecasts[["unique_id", "cutoff"]].drop_duplicates().itertuples(
                   index=False)}
    table = score(forecasts, naive_scale(history, first_cutoff), special)
    fit = metrics[metrics["metric"] == "fit_seconds"].groupby("model")["value"].mean()
    table["fit_s"] = table["model"].map(fit)
    table.insert(0, "window", window)
    table.insert(0, "dataset", name)
    n_special = sum(special.values())
    return table, forecasts, seconds, n_special, len(special)


def print_table(table: pd.DataFrame) -> None:
    shown = table.drop(columns=["dataset", "window"]).set_index("model")
    for column in ("wape", "bias", "cov80", "cov95", "is80", "is95", "wape_ordinary",
                   "wape_holiday"):
        shown[column] = 100 * shown[column]
    print(shown.round({"wape": 2, "mase": 3, "bias": 2, "cov80": 1, "cov95": 1, "is80": 1,
                       "is95": 1, "wape_ordinary": 2, "wape_holiday": 2, "fit_s": 2})
          .to_string())


def checks(table: pd.DataFrame) -> list[tuple[str, bool]]:
    out = []
    t = table.set_index("model")
    if {"auto", "histavg", "snaive"} <= set(t.index):
        for peer in ("histavg", "snaive"):
            out.append((f"auto beats {peer} on ordinary weeks",
                        t.loc["auto", "wape_ordinary"] < t.loc[peer, "wape_ordinary"]))
            if np.isfinite(t.loc["auto", "wape_holiday"]):
                out.append((f"auto beats {peer} on holiday weeks",
                            t.loc["auto", "wape_holiday"] < t.loc[peer, "wape_holiday"]))
    for model in t.index:
        for level in (80, 95):
            ok = abs(t.loc[model, f"cov{level}"] - level / 100) <= 0.05
            out.append((f"{model} {level}% coverage within +-5 points", ok))
    return out


def prophet_default(history: pd.DataFrame, cutoffs) -> pd.DataFrame:
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("prophet.plot").disabled = True
    from prophet import Prophet

    raw = history[history["y"] > 0][["ds", "y"]]
    out = []
    for cutoff in cutoffs:
        train = raw[raw["ds"] <= cutoff]
        test = raw[(raw["ds"] > cutoff) & (raw["ds"] <= cutoff + WEEK)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yhat = Prophet().fit(train).predict(test[["ds"]])["yhat"].to_numpy()
        out.append(pd.DataFrame({"ds": test["ds"].to_numpy(), "y": test["y"].to_numpy(),
                                 "yhat": yhat}))
    both = pd.concat(out)
    return float(np.abs(both["y"] - both["yhat"]).sum() / both["y"].sum())


def double11(models) -> bool:
    from staffcast.forecasting.core import forecast

    print("\n== Example shop: Double 11 day volume (2026-11-11) vs the generator's truth")
    data = ROOT / "examples" / "data"
    with tempfile.TemporaryDirectory() as folder:
        history, calendar, settings = shop(Path(folder))
    truth = pd.read_csv(data / "truth_double11_week.csv", parse_dates=["ds"])
    result = forecast(history, horizon=168, models=list(models), calendar=calendar,
                      queue_settings=settings)
    day = pd.Timestamp("2026-11-11")
    predicted = result[result["ds"].dt.normalize() == day].groupby(["unique_id", "model"])[
        "yhat"].sum()
    actual = truth[truth["ds"].dt.normalize() == day].groupby("unique_id")["y"].sum()
    week = result.merge(truth, on=["unique_id", "ds"])
    ok = True
    print(f"{'queue':<12}{'model':<9}{'forecast':>10}{'truth':>10}{'error %':>9}"
          f"{'week WAPE %':>13}{'week cover80 %':>16}")
    for (uid, model), value in predicted.items():
        d = week[(week["unique_id"] == uid) & (week["model"] == model)]
        d = d[(d["y"] > 0) | (d["yhat"] > 0)]
        error = value / actual[uid] - 1
        week_wape = np.abs(d["y"] - d["yhat"]).sum() / d["y"].sum()
        cover = np.mean((d["y"] >= d["yhat_lo_80"]) & (d["y"] <= d["yhat_hi_80"]))
        print(f"{uid:<12}{model:<9}{value:>10.0f}{actual[uid]:>10.0f}{100 * error:>+9.1f}"
              f"{100 * week_wape:>13.1f}{100 * cover:>16.1f}")
        if model == "auto":
            ok &= abs(error) <= 0.15
    print(f"   [{'PASS' if ok else 'FAIL'}] auto's Double 11 day volume within 15% on both "
          "queues")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join([*DATASETS, "double11"]))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--windows", default="A,B")
    parser.add_argument("--out", default=None, help="write all rows to this CSV")
    parser.add_argument("--peers", action="store_true", help="add default Prophet() (bank)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress is visible when piped to a file
    models = tuple(args.models.split(","))
    tables, passed = [], True
    with tempfile.TemporaryDirectory() as folder:
        for name in args.datasets.split(","):
            if name == "double11":
                passed &= double11(models)
                continue
            if name.startswith("bank") and not SHARED.is_dir():
                print(f"== {name}: skipped, no shared data at {SHARED}")
                continue
            try:
                history, calendar, settings = DATASETS[name](Path(folder))
            except Exception as exc:  # an engine without sub-hourly support says why
                print(f"== {name}: skipped, the engine cannot load it: "
                      f"{type(exc).__name__}: {exc}")
                continue
            step = pd.Series(history["ds"].unique()).sort_values().diff().min()
            for window in args.windows.split(","):
                try:
                    table, forecasts, seconds, n_special, n = run_window(
                        name, history, calendar, settings, models, window, step)
                except Exception as exc:
                    print(f"== {name} window {window}: failed: {type(exc).__name__}: {exc}")
                    passed = False
                    continue
                cutoffs = sorted(forecasts["cutoff"].unique())
                print(f"\n== {name}, window {window}: {ORIGINS} weekly origins "
                      f"{pd.Timestamp(cutoffs[0]):%Y-%m-%d %H:%M} .. "
                      f"{pd.Timestamp(cutoffs[-1]):%Y-%m-%d %H:%M}, {n_special}/{n} "
                      f"queue-weeks with holidays/promotions, backtest {seconds:.0f} s")
                print("   (WAPE, bias, coverage and interval score in %; interval score as % "
                      "of the mean actual; fit_s per origin)")
                print_table(table)
                if args.peers and name.startswith("bank"):
                    value = prophet_default(history, [pd.Timestamp(c) for c in cutoffs])
                    print(f"   peer Prophet() default: WAPE {100 * value:.2f}%")
                for claim, ok in checks(table):
                    print(f"   [{'PASS' if ok else 'FAIL'}] {claim}")
                    passed &= ok
                tables.append(table)
    if args.out and tables:
        pd.concat(tables).to_csv(args.out, index=False)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

"""Generate the example shop's hourly chat contacts, deterministically.

Two queues of an online shop in China: `presales` (open 24 h) and `aftersales` (open
08:00-23:00, zero outside). Expected contacts per hour are

    base(queue) * growth(date) * day_factor(queue, day type) * profile(queue, day shape, hour)
    * festival effects (pre-sale ramp, festival day 5-8x, midnight spike, after-sales tail)

and the history is a Poisson draw from them with a fixed seed. Day types come from the
project's calendar (built-in China holidays and adjusted workdays): a holiday behaves like
the queue's rest day (Sunday, its quietest day), an adjusted workday like a weekday, and
the Spring Festival break is much quieter still. Festival windows come from the templates
in configs/festivals/.

Writes, into examples/data/:
    history.csv               unique_id, ds, y   2024-11-09 00:00 .. 2026-11-08 23:00
    calendar.csv              the promotion events of 2024-2026 (event, start, end, kind, unique_id)
    truth_double11_week.csv   unique_id, ds, y   the EXPECTED contacts (Poisson mean) of the week
                              2026-11-09 .. 2026-11-15 that contains Double 11, to score forecasts

Run from the repository root: `python examples/generate.py` (add `--print-truth` to print
the true Double 11 day volume per queue).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from staffcast.forecasting.calendar import Calendar, load_calendar

ROOT = Path(__file__).resolve().parents[1]
FESTIVALS = ROOT / "configs" / "festivals"
OUT_DIR = ROOT / "examples" / "data"
SEED = 20261111
HISTORY_START = pd.Timestamp("2024-11-09 00:00")
HISTORY_END = pd.Timestamp("2026-11-08 23:00")
TRUTH_START = pd.Timestamp("2026-11-09 00:00")  # Monday of the ISO week holding Double 11
TRUTH_END = pd.Timestamp("2026-11-15 23:00")
GROWTH_PER_YEAR = 0.10  # linear volume growth of the shop

# Contacts on an ordinary Wednesday at HISTORY_START.
BASE_PER_DAY = {"presales": 2400.0, "aftersales": 1600.0}
# Day-of-week factors, Monday first; the minimum (Sunday) is the queue's rest day.
WEEKDAY_FACTOR = {
    "presales": np.array([1.00, 0.97, 0.96, 0.97, 1.00, 0.90, 0.80]),
    "aftersales": np.array([1.18, 1.06, 1.00, 0.98, 0.95, 0.78, 0.62]),
}
OPEN_HOURS = {"presales": (0, 24), "aftersales": (8, 23)}
SPRING_FESTIVAL_FACTOR = 0.35  # on top of the rest-day factor
# Per festival: day multiplier per queue, pre-sale peak multiplier (presales, aftersales),
# after-sales tail peak (presales, aftersales), share of the festival day's presales
# contacts in the final-payment hours (the midnight spike).
FESTIVAL = {
    "double11": {"day": {"presales": 8.0, "aftersales": 6.0}, "presale": (2.5, 1.3),
                 "tail": (1.2, 3.0), "midnight_share": 0.16},
    "618": {"day": {"presales": 6.0, "aftersales": 5.0}, "presale": (2.0, 1.2),
            "tail": (1.15, 2.5), "midnight_share": 0.14},
    "1212": {"day": {"presales": 5.0, "aftersales": 5.0}, "presale": (1.6, 1.1),
             "tail": (1.1, 2.0), "midnight_share": 0.12},
}


def _bumps(spec: list[tuple[float, float, float]], floor: float) -> np.ndarray:
    """Hourly weights from Gaussian bumps (weight, centre hour, width) on a floor, wrapped
    around midnight so a late-evening peak spills into 00:00."""
    h = np.arange(24) + 0.5
    w = np.full(24, floor)
    for weight, centre, width in spec:
        for shift in (-24.0, 0.0, 24.0):
            w += weight * np.exp(-0.5 * ((h - centre - shift) / width) ** 2)
    return w


def _profile(queue: str, rest: bool) -> np.ndarray:
    """Share of a day's contacts in each hour (sums to 1; zero in closed hours)."""
    if queue == "presales":
        spec = ([(0.7, 11.5, 2.2), (0.9, 16.0, 2.5), (1.3, 21.0, 1.8)] if rest else
                [(1.0, 10.5, 1.8), (0.8, 15.0, 2.2), (1.2, 21.0, 1.6)])
        w = _bumps(spec, 0.04)
        w[1:8] *= np.array([0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.5])  # the small hours
    else:
        spec = ([(0.8, 11.0, 2.0), (0.9, 16.0, 2.5), (0.6, 20.5, 1.5)] if rest else
                [(1.2, 10.0, 1.5), (1.0, 15.0, 2.0), (0.6, 20.5, 1.5)])
        w = _bumps(spec, 0.2)
    lo, hi = OPEN_HOURS[queue]
    w[:lo] = 0.0
    w[hi:] = 0.0
    return w / w.sum()


def festival_calendar() -> Calendar:
    """The festival templates, without country holidays."""
    return load_calendar(sorted(FESTIVALS.glob("*.yaml")), country="none")


def _windows(cal: Calendar, name: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    ev = cal.events[cal.events["event"] == name]
    return list(zip(ev["start"], ev["end_excl"]))


def expected_volume(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Expected contacts per hour (`unique_id, ds, y`) for every hour in [start, end]."""
    ds = pd.date_range(start, end, freq="h")
    days = ds.normalize()
    hour = ds.hour.to_numpy()
    years = (days - HISTORY_START).days.to_numpy() / 365.0
    holidays_cal = load_calendar(country="CN")
    fest = festival_calendar()
    frames = []
    for queue in ("presales", "aftersales"):
        table = holidays_cal.day_table(days.unique(), queue).reindex(days)
        weekday = table["weekday"].to_numpy()
        holiday = table["is_holiday"].to_numpy(dtype=bool)
        adjusted = table["is_adjusted_workday"].to_numpy(dtype=bool)
        names = table["holiday_name"].fillna("").to_numpy(dtype=str)
        factors = WEEKDAY_FACTOR[queue]
        rest_day = int(np.argmin(factors))
        factor = factors[weekday].copy()
        factor[holiday] = factors[rest_day]
        factor[adjusted] = factors[:5].mean()
        spring = holiday & (np.char.find(names, "Chinese New Year") >= 0)
        factor[spring] *= SPRING_FESTIVAL_FACTOR
        rest_shape = (holiday | (weekday >= 5)) & ~adjusted
        shares = np.where(rest_shape, _profile(queue, True)[hour], _profile(queue, False)[hour])
        lam = BASE_PER_DAY[queue] * (1.0 + GROWTH_PER_YEAR * years) * factor * shares

        open_now = shares > 0
        for fname, p in FESTIVAL.items():
            qi = 0 if queue == "presales" else 1
            for s, e in _windows(fest, f"{fname}_presale"):
                inside = (ds >= s) & (ds < e)
                t = ((ds[inside] - s) / (e - s)).to_numpy()
                lam[inside] *= 1.0 + (p["presale"][qi] - 1.0) * t ** 2
            for s, e in _windows(fest, f"{fname}_day"):
                inside = np.asarray((ds >= s) & (ds < e))
                lam[inside] *= p["day"][queue]
                if queue == "presales" and inside.any():
                    # final payments open at midnight: a fixed share of the day's contacts
                    # lands in the final-payment hours, the rest follows the usual shape
                    total = lam[inside].sum()
                    spike = np.zeros(len(ds), dtype=bool)
                    for fs, fe in _windows(fest, f"{fname}_final_payment"):
                        spike |= np.asarray((ds >= fs) & (ds < fe))
                    spike &= inside & open_now
                    rest = inside & ~spike
                    lam[rest] *= total * (1 - p["midnight_share"]) / lam[rest].sum()
                    lam[spike] = total * p["midnight_share"] / spike.sum()
            for s, e in _windows(fest, f"{fname}_aftersales"):
                inside = np.asarray((ds >= s) & (ds < e))
                k = ((ds[inside].normalize() - s.normalize()).days.to_numpy())
                lam[inside] *= 1.0 + (p["tail"][qi] - 1.0) * np.exp(-k / 4.0)
        frames.append(pd.DataFrame({"unique_id": queue, "ds": ds, "y": lam}))
    return pd.concat(frames, ignore_index=True)


def calendar_frame() -> pd.DataFrame:
    """The example's calendar file: the festival windows of 2024-2026 from the templates.

    The built-in China calendar covers 2024-2026, so no holiday rows are needed."""
    ev = festival_calendar().events.sort_values(["start", "event"], kind="stable")
    date_only = (ev["end_excl"] - ev["end"] == pd.Timedelta(days=1)) & (ev["end"] == ev["end"].dt.normalize())
    start_text = np.where(ev["start"] == ev["start"].dt.normalize(), ev["start"].dt.strftime("%Y-%m-%d"),
                          ev["start"].dt.strftime("%Y-%m-%d %H:%M"))
    end_text = np.where(date_only, ev["end"].dt.strftime("%Y-%m-%d"), ev["end"].dt.strftime("%Y-%m-%d %H:%M"))
    return pd.DataFrame({"event": ev["event"].to_numpy(), "start": start_text, "end": end_text,
                         "kind": ev["kind"].to_numpy(), "unique_id": ""})


def generate(seed: int = SEED) -> dict[str, str]:
    """CSV text of the three example files, keyed by file name."""
    rng = np.random.default_rng(seed)
    lam = expected_volume(HISTORY_START, HISTORY_END)
    history = lam.assign(y=rng.poisson(lam["y"].to_numpy()))
    truth = expected_volume(TRUTH_START, TRUTH_END)
    fmt = {"date_format": "%Y-%m-%d %H:%M:%S", "index": False, "lineterminator": "\n"}
    return {
        "history.csv": history.to_csv(**fmt),
        "calendar.csv": calendar_frame().to_csv(index=False, lineterminator="\n"),
        "truth_double11_week.csv": truth.to_csv(float_format="%.3f", **fmt),
    }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="folder to write the CSVs to")
    parser.add_argument("--print-truth", action="store_true",
                        help="print the expected Double 11 2026 day volume per queue")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (args.out_dir / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out_dir / name} (sha256 {sha256(text)[:12]})")
    if args.print_truth:
        truth = expected_volume(TRUTH_START, TRUTH_END)
        day = truth[truth["ds"].dt.normalize() == pd.Timestamp("2026-11-11")]
        for queue, total in day.groupby("unique_id", sort=True)["y"].sum().items():
            print(f"true expected contacts on 2026-11-11, {queue}: {total:.1f}")


if __name__ == "__main__":
    main()

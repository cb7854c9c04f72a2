"""The long-range daily model: it recovers a known weekday pattern, trend and promotion
lift; its daily, weekly and hourly tables agree; its verbs reject misuse."""

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.weekly import LongRangeModel, day_kinds

START = pd.Timestamp("2023-01-02")  # a Monday
WEEKDAY = np.array([1.0, 1.05, 1.1, 1.0, 0.95, 0.7, 0.6])
HOUR_SHAPE = np.r_[np.full(8, 0.2), np.full(14, 1.0), np.full(2, 0.5)]
HOUR_SHAPE = HOUR_SHAPE / HOUR_SHAPE.sum()


def write_calendar(tmp_path):
    rows = ["event,start,end,kind,unique_id"]
    for year in (2023, 2024, 2025):
        rows.append(f"mega_sale,{year}-09-10,{year}-09-12,promotion,")
    path = tmp_path / "calendar.csv"
    path.write_text("\n".join(rows) + "\n")
    return load_calendar(path, country=None)


def expected_daily(days, calendar):
    """The exact daily mean the history is drawn from: 800 a day growing 10% a year,
    times the weekday factor, times 3 on sale days."""
    years = (days - START).days.to_numpy() / 365.25
    sale = calendar.promotion_hours(pd.date_range(days[0], days[-1] + pd.Timedelta("23h"),
                                                  freq="h"), "shop")
    on_sale = sale["mega_sale"].groupby(sale.index.normalize()).max().reindex(days).to_numpy()
    return 800 * 1.1 ** years * WEEKDAY[days.day_of_week] * np.where(on_sale > 0, 3.0, 1.0)


def history(calendar, days=730):
    dates = pd.date_range(START, periods=days, freq="D")
    daily = expected_daily(dates, calendar)
    hours = pd.date_range(START, periods=days * 24, freq="h")
    return pd.DataFrame({"unique_id": "shop", "ds": hours,
                         "y": (daily[:, None] * HOUR_SHAPE).ravel()})


def test_recovers_weekday_trend_and_promotion(tmp_path):
    cal = write_calendar(tmp_path)
    hist = history(cal)
    start = pd.Timestamp("2025-01-06")
    fc = LongRangeModel(cal, fourier_order=0).fit(hist).predict(start, 52)
    days = pd.date_range(start, periods=364, freq="D")
    truth = expected_daily(days, cal)
    got = fc.daily["yhat"].to_numpy()
    # Noise-free data from the model's own family: within 1% every day, sale days too.
    assert np.abs(got / truth - 1).max() < 0.01
    sale = days.isin(pd.date_range("2025-09-10", "2025-09-12"))
    assert got[sale].mean() / got[~sale & (days.month == 9)].mean() > 2.5


def test_tables_agree(tmp_path):
    cal = write_calendar(tmp_path)
    fc = LongRangeModel(cal).fit(history(cal)).predict(pd.Timestamp("2025-01-06"), 4)
    daily = fc.daily["yhat"].to_numpy()
    assert fc.weekly["yhat"].to_numpy() == pytest.approx(daily.reshape(4, 7).sum(axis=1))
    assert fc.hourly["yhat"].to_numpy().reshape(-1, 24).sum(axis=1) == pytest.approx(daily)
    assert (fc.weekly["ds"].dt.day_of_week == 0).all()
    assert (fc.daily["yhat_lo_80"] <= fc.daily["yhat"]).all()
    assert (fc.daily["yhat"] <= fc.daily["yhat_hi_95"]).all()
    # The hour shape is the history's: most of the day between 08:00 and 22:00.
    first = fc.hourly["yhat"].to_numpy()[:24]
    assert first / first.sum() == pytest.approx(HOUR_SHAPE, rel=1e-6)


def test_verbs_reject_misuse(tmp_path):
    cal = write_calendar(tmp_path)
    model = LongRangeModel(cal)
    with pytest.raises(ValueError, match="before fit"):
        model.predict(pd.Timestamp("2025-01-06"), 2)
    model.fit(history(cal))
    with pytest.raises(ValueError, match="must be a Monday, got 2025-01-07"):
        model.predict(pd.Timestamp("2025-01-07"), 2)
    with pytest.raises(ValueError, match="at least 56 whole days"):
        LongRangeModel(cal).fit(history(cal, days=30))


def test_unseen_event_is_named(tmp_path):
    hist = history(write_calendar(tmp_path))
    path = tmp_path / "new.csv"
    path.write_text("event,start,end,kind,unique_id\nnew_festival,2025-03-03,2025-03-05,"
                    "promotion,\n")
    cal = load_calendar(path, country=None)
    fc = LongRangeModel(cal).fit(hist).predict(pd.Timestamp("2025-03-03"), 1)
    assert fc.unseen_events == {"shop": ["new_festival"]}


def test_china_day_kinds():
    cal = load_calendar(None, country="CN", years=[2025])
    kinds = day_kinds(cal, pd.date_range("2025-09-28", "2025-10-11", freq="D"))["kind"]
    # 28 Sep and 11 Oct 2025 are adjusted workdays (Sundays/Saturdays), 1-3 Oct statutory
    # National Day holidays (3x overtime), the other days off of the week are rest days.
    assert kinds["2025-09-28"] == "work" and kinds["2025-10-11"] == "work"
    assert (kinds["2025-10-01":"2025-10-03"] == "holiday").all()
    assert kinds["2025-10-06"] != "work"
    assert kinds["2025-10-09"] == "work"


def test_handle_time_profile_is_contact_weighted_by_hour():
    from staffcast.forecasting.weekly import handle_time_profile

    ds = pd.date_range("2026-06-01", periods=24 * 14, freq="h")
    hour = ds.hour.to_numpy()
    frame = pd.DataFrame({"unique_id": "q", "ds": ds,
                          "y": np.where(hour == 3, 0.0, np.where(ds.day < 8, 10.0, 30.0)),
                          "aht_s": np.where(ds.day < 8, 200.0, 300.0)})
    frame.loc[frame["y"] == 0, "aht_s"] = np.nan
    profile = handle_time_profile(frame, pd.Timestamp("2026-06-15"), weeks=2)["q"]
    # A week of 10 contacts at 200 s and a week of 30 at 300 s: (2000 + 9000) / 40.
    assert profile[10] == pytest.approx(275.0)
    assert profile[3] == pytest.approx(275.0)  # no contacts at 03:00: the overall mean
    assert handle_time_profile(frame, pd.Timestamp("2026-06-15"), weeks=1)["q"][10] == 300

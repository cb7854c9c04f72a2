"""Calendar files, the built-in China calendar, day types and promotion windows."""

import datetime as dt
import warnings
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import Calendar, covered_years, load_calendar
from staffcast.forecasting.errors import CalendarCoverageWarning, InputError

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
FESTIVALS = ROOT / "configs" / "festivals"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cn() -> Calendar:
    return load_calendar(country="CN")


def day(table: pd.DataFrame, date: str) -> pd.Series:
    return table.loc[pd.Timestamp(date)]


# ---------------------------------------------------------------- built-in China calendar
# Dates from the State Council notices for 2024 (gov.cn, issue 10806, 2023-11) and 2025
# (gov.cn, issue 11726, 2024-11), cross-checked against holidays.China below.

def test_national_day_2025_is_eight_days_off_including_its_weekend(cn):
    table = cn.day_table(pd.date_range("2025-09-30", "2025-10-09"), "q")
    off = table.index[table["is_holiday"]]
    assert list(off) == list(pd.date_range("2025-10-01", "2025-10-08"))
    assert day(table, "2025-10-04")["holiday_name"] == "National Day"  # a Saturday in the break
    assert not table["is_adjusted_workday"].any()


@pytest.mark.parametrize("date", ["2025-09-28", "2025-10-11", "2024-02-04", "2024-02-18"])
def test_adjusted_working_weekends_look_like_workdays(cn, date):
    row = day(cn.day_table([date], "q"), date)
    assert row["weekday"] in (5, 6)
    assert row["is_adjusted_workday"] and not row["is_holiday"]
    # independent check against the package's own working-day rule
    assert holidays.China(years=int(date[:4])).is_working_day(dt.date.fromisoformat(date))


def test_spring_festival_2024_break(cn):
    table = cn.day_table(pd.date_range("2024-02-09", "2024-02-18"), "q")
    assert table.loc["2024-02-10":"2024-02-17", "is_holiday"].all()
    assert not day(table, "2024-02-09")["is_holiday"]
    assert table.loc["2024-02-10", "holiday_name"].startswith("Chinese New Year")


def test_ordinary_weekend_is_neither_holiday_nor_adjusted_workday(cn):
    row = day(cn.day_table(["2025-03-08"], "q"), "2025-03-08")  # a plain Saturday
    assert row["weekday"] == 5
    assert not row["is_holiday"] and not row["is_adjusted_workday"] and not row["is_closure"]
    assert pd.isna(row["holiday_name"])


def test_day_table_columns_and_index(cn):
    table = cn.day_table(pd.date_range("2025-01-01 05:00", periods=40, freq="h"), "q")
    assert list(table.columns) == ["weekday", "is_holiday", "is_adjusted_workday",
                                   "is_closure", "holiday_name"]
    assert list(table.index) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-02")]
    assert table["holiday_name"].dtype == "string"
    assert table["is_holiday"].dtype == bool


def test_2027_is_a_coverage_gap_and_warns(tmp_path):
    assert covered_years("CN")[-1] == 2026
    with pytest.warns(CalendarCoverageWarning, match="2027.*add that year"):
        cal = load_calendar(country="CN", years=[2026, 2027])
    assert cal.coverage_gaps("2026-06-01", "2027-03-01") == [2027]
    # statutory days only: no guessed substitute days for an undecreed year
    table = cal.day_table(pd.date_range("2027-10-01", "2027-10-05"), "q")
    assert table.loc["2027-10-01":"2027-10-03", "is_holiday"].all()
    assert not table.loc["2027-10-04":"2027-10-05", "is_holiday"].any()


def test_calendar_file_supplies_2027():
    with pytest.warns(CalendarCoverageWarning, match="calendar file supplies"):
        cal = load_calendar(FIXTURES / "calendar.yaml", country="CN", years=[2027])
    table = cal.day_table(pd.date_range("2027-02-05", "2027-02-20"), "q")
    assert table.loc["2027-02-06":"2027-02-12", "is_holiday"].all()
    assert day(table, "2027-02-09")["holiday_name"] == "Spring Festival"
    assert day(table, "2027-02-20")["is_adjusted_workday"]  # a Saturday


def test_no_warning_when_years_are_covered():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarCoverageWarning)
        load_calendar(country="CN", years=[2024, 2025, 2026])


def test_country_none_has_no_holidays():
    cal = load_calendar(country="none")
    assert cal.country is None
    assert not cal.day_table(pd.date_range("2025-10-01", "2025-10-08"), "q")["is_holiday"].any()
    assert cal.coverage_gaps("2027-01-01", "2027-12-31") == []


def test_other_country_from_the_holidays_package():
    cal = load_calendar(country="us")
    assert cal.country == "US"
    assert day(cal.day_table(["2025-07-04"], "q"), "2025-07-04")["is_holiday"]


def test_unknown_country_is_an_error():
    with pytest.raises(InputError, match="unknown country code 'XX'"):
        load_calendar(country="XX")


# ---------------------------------------------------------------- file events

def test_file_wins_over_builtin(tmp_path):
    path = write(tmp_path, "c.csv", "event,start,end,kind\nwork anyway,2025-10-08,2025-10-08,workday\n")
    table = load_calendar(path, country="CN").day_table(["2025-10-07", "2025-10-08"], "q")
    assert day(table, "2025-10-07")["is_holiday"]
    row = day(table, "2025-10-08")
    assert not row["is_holiday"] and not row["is_adjusted_workday"]  # a Wednesday: just a workday


def test_queue_specific_closures():
    cal = load_calendar(FIXTURES / "calendar.csv", country="CN")
    assert day(cal.day_table(["2025-11-21"], "aftersales"), "2025-11-21")["is_closure"]
    assert not day(cal.day_table(["2025-11-21"], "presales"), "2025-11-21")["is_closure"]
    # a four-hour closure closes hours 02..05 but not the whole day
    hours = pd.date_range("2025-11-20 00:00", periods=8, freq="h")
    closed = cal.closed_hours(hours, "aftersales")
    assert closed.tolist() == [False, False, True, True, True, True, False, False]
    assert not cal.closed_hours(hours, "presales").any()
    assert not day(cal.day_table(["2025-11-20"], "aftersales"), "2025-11-20")["is_closure"]


def test_promotion_hours_windows_are_inclusive():
    cal = load_calendar(FIXTURES / "calendar.csv", country="none")
    hours = pd.date_range("2025-11-10 22:00", periods=28, freq="h")
    promo = cal.promotion_hours(hours, "presales")
    assert list(promo.columns) == ["double11_day", "double11_final_payment"]
    assert promo.index.equals(hours)
    assert promo["double11_final_payment"].sum() == 2  # the 00:00 and 01:00 hours
    assert promo.loc["2025-11-11 01:00", "double11_final_payment"] == 1.0
    assert promo.loc["2025-11-11 02:00", "double11_final_payment"] == 0.0
    assert promo["double11_day"].sum() == 24  # a date-only end covers the whole day
    assert promo.loc["2025-11-12 00:00", "double11_day"] == 0.0
    assert promo.dtypes.eq("float64").all()


def test_promotion_for_one_queue_only():
    cal = load_calendar(FIXTURES / "calendar.yaml", country="none")
    hours = pd.date_range("2027-11-11", periods=3, freq="h")
    assert cal.promotion_hours(hours, "presales")["double11_day"].tolist() == [1.0, 1.0, 1.0]
    assert cal.promotion_hours(hours, "aftersales").columns.tolist() == []


def test_festival_templates_load_with_recurring_names():
    paths = sorted(FESTIVALS.glob("*.yaml"))
    assert [p.name for p in paths] == ["1212.yaml", "618.yaml", "double11.yaml"]
    cal = load_calendar(paths, country="none")
    ev = cal.events
    assert set(ev["kind"]) == {"promotion"}
    for prefix in ("618", "double11", "1212"):
        for window in ("presale", "final_payment", "day", "aftersales"):
            starts = ev.loc[ev["event"] == f"{prefix}_{window}", "start"]
            assert sorted(starts.dt.year) == [2024, 2025, 2026], (prefix, window)
    final = ev[ev["event"] == "double11_final_payment"]
    assert (final["start"].dt.hour == 0).all()
    assert ((final["end_excl"] - final["start"]) == pd.Timedelta(hours=2)).all()


# ---------------------------------------------------------------- bad calendar files

@pytest.mark.parametrize("body, pattern", [
    ("event,start,end,kind\nsale,2025-11-11,2025-11-11,sale\n",
     r"c\.csv, line 2: column 'kind' must be one of .*got 'sale'"),
    ("event,start,end,kind\nsale,2025-11-12,2025-11-11,promotion\n",
     r"c\.csv, line 2: end '2025-11-11' is before start '2025-11-12'"),
    ("event,start,end,kind\nok,2025-11-11,2025-11-11,holiday\nsale,2025-13-40,2025-11-11,promotion\n",
     r"c\.csv, line 3: column 'start' must be a date .*got '2025-13-40'"),
    ("event,start,end,kind,colour\nsale,2025-11-11,2025-11-11,promotion,red\n",
     r"c\.csv: unknown column 'colour'"),
    ("event,start,kind\nsale,2025-11-11,promotion\n",
     r"c\.csv: missing column\(s\) end; found event, start, kind"),
    ("event,start,end,kind\n,2025-11-11,2025-11-11,promotion\n",
     r"c\.csv, line 2: column 'event' must name the event"),
    ("event,start,end,kind\nsale,2025-11-11 00:00+08:00,2025-11-11,promotion\n",
     r"c\.csv, line 2: column 'start' must be naive local time"),
])
def test_bad_csv_calendar(tmp_path, body, pattern):
    with pytest.raises(InputError, match=pattern):
        load_calendar(write(tmp_path, "c.csv", body), country="none")


def test_bad_yaml_calendar_entry(tmp_path):
    path = write(tmp_path, "c.yaml", "events:\n  - {event: a, start: 2025-01-01, end: 2025-01-01, kind: holiday}\n"
                 "  - {event: b, start: 2025-01-02, end: 2025-01-02, kind: holiday, colour: red}\n")
    with pytest.raises(InputError, match=r"c\.yaml, event 2 \(1-based\): unknown key 'colour'"):
        load_calendar(path, country="none")


def test_yaml_unknown_top_level_key(tmp_path):
    path = write(tmp_path, "c.yaml", "event: []\n")
    with pytest.raises(InputError, match="unknown top-level key 'event'"):
        load_calendar(path, country="none")


def test_holiday_and_workday_on_the_same_day_is_an_error(tmp_path):
    path = write(tmp_path, "c.csv", "event,start,end,kind\nrest,2025-05-01,2025-05-05,holiday\n"
                 "work,2025-05-03,2025-05-03,workday\n")
    with pytest.raises(InputError, match=r"2025-05-03 is a holiday \('rest'\) and a workday \('work'\)"):
        load_calendar(path, country="none")


def test_missing_calendar_file(tmp_path):
    with pytest.raises(InputError, match="nope.csv: calendar file not found"):
        load_calendar(tmp_path / "nope.csv")


def test_load_does_not_depend_on_years_argument():
    lazy = load_calendar(country="CN").day_table(pd.date_range("2024-01-01", "2026-12-31"), "q")
    eager = load_calendar(country="CN", years=[2024, 2025, 2026]).day_table(
        pd.date_range("2024-01-01", "2026-12-31"), "q")
    pd.testing.assert_frame_equal(lazy, eager)
    assert np.count_nonzero(eager["is_adjusted_workday"]) == len(
        [d for y in (2024, 2025, 2026) for d in holidays.China(years=y).weekend_workdays if d.year == y])


# ---------------------------------------------------------------- window property

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(start_min=st.integers(0, 3 * 1440), length_min=st.integers(0, 2 * 1440),
       date_only_end=st.booleans())
def test_promotion_hours_match_minute_expansion(tmp_path_factory, start_min, length_min, date_only_end):
    origin = pd.Timestamp("2025-06-16")
    start = origin + pd.Timedelta(minutes=start_min)
    end = start + pd.Timedelta(minutes=length_min)
    end_text = f"{end:%Y-%m-%d}" if date_only_end else f"{end:%Y-%m-%d %H:%M}"
    path = tmp_path_factory.mktemp("cal") / "c.csv"
    path.write_text(f"event,start,end,kind\nsale,{start:%Y-%m-%d %H:%M},{end_text},promotion\n")
    cal = load_calendar(path, country="none")
    hours = pd.date_range(origin - pd.Timedelta(days=1), periods=24 * 7, freq="h")
    got = set(hours[cal.promotion_hours(hours, "q")["sale"].to_numpy() == 1.0])
    # independent: every minute the window covers, floored to its hour
    last = (end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(minutes=1)) if date_only_end else end
    minutes = pd.date_range(start, last, freq="min")
    assert got == set(minutes.floor("h"))

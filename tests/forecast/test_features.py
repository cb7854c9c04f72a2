"""Day types, the learned rest day and the hourly feature arrays."""

import numpy as np
import pandas as pd
import pytest

from staffcast.forecasting.calendar import load_calendar
from staffcast.forecasting.features import (DayTypeRule, build_features, day_types, learn_day_type_rule,
                               mark_silent_days, window_age,
                               open_hours_mask, plain_day_table, span_features)

MONDAY = pd.Timestamp("2026-03-02")


def test_rest_day_is_the_quietest_weekday():
    weekday = np.tile(np.arange(7), 3)
    totals = np.tile([100.0, 90, 95, 92, 80, 50, 40], 3)
    rule = learn_day_type_rule(totals, weekday, np.ones(21, bool))
    assert rule == DayTypeRule(rest_day=6, workday_as=3, rest_day_learned=True)


def test_rest_day_tie_takes_the_later_weekday_and_config_wins():
    weekday = np.arange(7)
    totals = np.array([10.0, 10, 10, 10, 10, 0, 0])  # a weekday-only queue (like a bank)
    assert learn_day_type_rule(totals, weekday, np.ones(7, bool)).rest_day == 6
    rule = learn_day_type_rule(totals, weekday, np.ones(7, bool), rest_day=5)
    assert (rule.rest_day, rule.rest_day_learned) == (5, False)


def test_abnormal_days_do_not_count_for_the_rest_day():
    weekday = np.array([0, 1, 2, 3, 4, 5, 6, 0])
    totals = np.array([1.0, 90, 95, 92, 80, 50, 40, 100])  # the first Monday was a holiday
    normal = np.array([False, True, True, True, True, True, True, True])
    assert learn_day_type_rule(totals, weekday, normal).rest_day == 6


def test_day_types_map_holidays_to_rest_day_and_workdays_to_workday_as():
    dates = pd.date_range(MONDAY, periods=7, freq="D")
    table = plain_day_table(dates)
    table.loc[dates[2], "is_holiday"] = True
    table.loc[dates[5], "is_adjusted_workday"] = True
    rule = DayTypeRule(rest_day=6, workday_as=1, rest_day_learned=True)
    assert day_types(table, rule).tolist() == [0, 1, 6, 3, 4, 1, 6]


def test_open_hours_mask_counts_partly_open_hours():
    ds = pd.date_range(MONDAY, periods=48, freq="h")
    weekday_7_to_21_05 = tuple([((420, 1265),)] * 5 + [()] * 2)
    mask = open_hours_mask(ds, weekday_7_to_21_05)
    assert np.flatnonzero(mask[:24]).tolist() == list(range(7, 22))
    assert open_hours_mask(ds, None).all()


def test_build_features_closes_closure_days_and_extra_closed_hours():
    ds = pd.date_range(MONDAY, periods=72, freq="h")
    table = plain_day_table(ds.normalize().unique())
    table.loc[MONDAY + pd.Timedelta(days=1), "is_closure"] = True
    extra = np.zeros(72, bool)
    extra[50] = True
    X = build_features(ds, table, DayTypeRule(6, 2, True), closed=extra)
    assert X.open.sum() == 72 - 24 - 1
    assert not X.open[24:48].any()
    assert X.day_type.tolist() == [0] * 24 + [1] * 24 + [2] * 24


def test_span_features_with_a_calendar_file(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("event,start,end,kind,unique_id\n"
                    "founders_day,2026-03-18,2026-03-18,holiday,\n"
                    "make_up_day,2026-03-21,2026-03-21,workday,\n"
                    "flash_sale,2026-03-12 20:00,2026-03-12 21:59,promotion,\n")
    calendar = load_calendar(path, country=None)
    span = pd.date_range(MONDAY, periods=21 * 24, freq="h")
    weekday = span.day_of_week.to_numpy()
    y = np.where(weekday == 5, 5.0, 10.0)[:14 * 24]  # Saturday quietest in history
    X, rule = span_features(span, y, "shop", calendar=calendar)
    assert rule.rest_day == 5 and rule.rest_day_learned
    by_date = pd.Series(X.day_type, index=span.normalize()).groupby(level=0).first()
    assert by_date[pd.Timestamp("2026-03-18")] == 5  # a Wednesday holiday looks like Saturday
    assert by_date[pd.Timestamp("2026-03-21")] == rule.workday_as  # a working Saturday
    assert rule.workday_as in (0, 1, 2, 3, 4)
    assert X.event_names == ("flash_sale",)
    assert np.flatnonzero(X.events[:, 0]).tolist() == [10 * 24 + 20, 10 * 24 + 21]


def test_features_slice_like_arrays():
    ds = pd.date_range(MONDAY, periods=48, freq="h")
    X = build_features(ds, plain_day_table(ds.normalize().unique()), DayTypeRule(6, 2, True))
    assert len(X[10:20]) == 10 and X[10:20].hour[0] == 10
    with pytest.raises(TypeError):
        X[3]


def _weeks_of_features(weeks):
    ds = pd.date_range(MONDAY, periods=weeks * 168, freq="h")
    return ds, build_features(ds, plain_day_table(ds.normalize().unique()), DayTypeRule(6, 2, True))


def test_a_silent_open_day_is_treated_as_an_unrecorded_closure():
    ds, X = _weeks_of_features(4)
    y = np.full(len(ds), 10.0)
    y[168 + 24:168 + 48] = 0  # the second Tuesday: no contact at all
    marked = mark_silent_days(y, X)
    assert np.flatnonzero(~marked.open).tolist() == list(range(168 + 24, 168 + 48))
    assert X.open.all()  # the input is not modified


def test_a_usually_empty_day_type_keeps_its_zeros():
    ds, X = _weeks_of_features(4)
    y = np.where(ds.day_of_week.to_numpy() == 6, 0.0, 10.0)  # closed on Sundays, unconfigured
    assert mark_silent_days(y, X) is X


def test_window_age_counts_days_since_each_window_opened():
    events = np.zeros((100, 2))
    events[0:30, 0] = 1  # open at the span start: counted from hour 0
    events[50:98, 0] = 1
    events[60:62, 1] = 1
    age = window_age(events)
    assert age[29, 0] == pytest.approx(29 / 24) and age[30, 0] == 0
    assert age[50, 0] == 0 and age[97, 0] == pytest.approx(47 / 24)
    assert age[61, 1] == pytest.approx(1 / 24) and age[:60, 1].sum() == 0

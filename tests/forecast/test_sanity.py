"""Sanity limits on history: outliers and day-first dates (hypothesis properties and
hand-checked cases)."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.forecasting.errors import InputError
from staffcast.forecasting.sanity import check_day_first, check_outliers

days = st.dates(min_value=pd.Timestamp("2020-01-01").date(),
                max_value=pd.Timestamp("2030-12-31").date())


@settings(max_examples=200, deadline=None)
@given(st.lists(days, min_size=1, max_size=40), st.integers(0, 23))
def test_iso_dates_always_pass(dates, hour):
    text = pd.Series([f"{d:%Y-%m-%d} {hour:02d}:00" for d in dates])
    check_day_first(text, "h.csv", "ds")


@settings(max_examples=200, deadline=None)
@given(st.lists(days, min_size=1, max_size=40), st.sampled_from(["/", "."]))
def test_day_first_text_is_refused_naming_a_day_above_12(dates, sep):
    text = pd.Series([f"{d:%d}{sep}{d:%m}{sep}{d:%Y} 08:00" for d in dates])
    if all(d.day <= 12 for d in dates):
        with pytest.raises(InputError, match="read as day-first or month-first alike"):
            check_day_first(text, "h.csv", "ds")
        return
    with pytest.raises(InputError, match="holds day-first dates") as caught:
        check_day_first(text, "h.csv", "ds")
    first = next(i for i, d in enumerate(dates) if d.day > 12)
    assert f"line {first + 2} has {text.iloc[first]!r}" in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(days, min_size=1, max_size=40))
def test_month_first_text_with_a_day_above_12_passes(dates):
    dates = [*dates, pd.Timestamp("2026-11-13").date()]
    check_day_first(pd.Series([f"{d:%m/%d/%Y} 08:00" for d in dates]), "h.csv", "ds")


def history(values):
    ds = pd.date_range("2026-11-09", periods=len(values), freq="h")
    return pd.DataFrame({"unique_id": "chat", "ds": ds, "y": values})


def test_outlier_limit_is_1000_times_the_p99():
    base = [float(v % 40) for v in range(1000)]  # p99 = 39 (np.quantile, linear)
    check_outliers(history([*base, 39_000.0]), "h.csv")  # 1000x p99 exactly: kept
    with pytest.raises(InputError, match=r"queue 'chat', ds 2026-12-20 16:00: y = 40000 is "
                                         r"more than 1000x the queue's 99% percentile"):
        check_outliers(history([*base, 40_000.0]), "h.csv")


def test_a_queue_of_zeros_is_not_flagged_for_a_few_contacts():
    check_outliers(history([0.0] * 500 + [900.0]), "h.csv")
    with pytest.raises(InputError, match="y = 1e\\+12"):
        check_outliers(history([0.0] * 500 + [1e12]), "h.csv")

"""Two shift-model rules no other test would notice if broken: a family's `max_share` of
its queue's paid hours, and a family's allowed `weekdays`. Each case is small enough to
reason about by hand: without the rule the cheap family would take everything."""

import numpy as np
import pandas as pd
import pytest

from staffcast.scheduler.model import build_model
from staffcast.scheduler.rules import ScheduleRules, ShiftFamily
from staffcast.scheduler.solve import solve

MONDAY = pd.Timestamp("2026-11-09")


def week_of(required_per_hour: float, hours=range(9, 17)) -> pd.DataFrame:
    ds = pd.date_range(MONDAY, periods=7 * 24, freq="h")
    need = np.where(np.isin(ds.hour, list(hours)), required_per_hour, 0.0)
    return pd.DataFrame({"unique_id": pd.array(["q"] * len(ds), dtype="string"), "ds": ds,
                         "agents_required": need})


def paid_by_family(result) -> pd.Series:
    return result.tours.groupby("family")["paid_hours"].sum()


@pytest.mark.parametrize("max_share", [1.0, 0.3])
def test_max_share_caps_the_cheap_familys_paid_hours(max_share):
    cheap = ShiftFamily("cheap", 8, "09:00", "09:00", cost_per_hour=10, max_share=max_share)
    dear = ShiftFamily("dear", 8, "09:00", "09:00", cost_per_hour=30)
    rules = ScheduleRules(families=(cheap, dear), interval_minutes=60, shortfall_penalty=1e4)
    result = solve(build_model(week_of(10), rules), solver="highs", gap=0.0)
    assert result.status == "optimal" and result.shortfall_agent_hours == 0
    paid = paid_by_family(result).reindex(["cheap", "dear"], fill_value=0.0)
    total = paid.sum()
    assert total == pytest.approx(10 * 8 * 7)
    if max_share == 1.0:
        assert paid["cheap"] == pytest.approx(total)  # unbounded: all cheap
    else:
        # 70 daily shifts in all; at most 30% cheap, and the optimum uses all of it.
        assert paid["cheap"] <= max_share * total + 1e-6
        assert paid["cheap"] == pytest.approx(8 * 21)


def test_a_family_works_only_its_weekdays():
    weekday_only = ShiftFamily("office", 8, "09:00", "09:00", cost_per_hour=10,
                               weekdays=("mon", "tue", "wed", "thu", "fri"))
    weekend = ShiftFamily("weekend", 8, "09:00", "09:00", cost_per_hour=40)
    rules = ScheduleRules(families=(weekday_only, weekend), interval_minutes=60,
                          shortfall_penalty=1e4)
    result = solve(build_model(week_of(3), rules), solver="highs", gap=0.0)
    assert result.status == "optimal" and result.shortfall_agent_hours == 0
    tours = result.tours.assign(weekday=pd.to_datetime(result.tours["shift_start"]).dt.weekday)
    office_days = set(tours.loc[tours["family"] == "office", "weekday"])
    assert office_days == {0, 1, 2, 3, 4}
    # The dear family covers exactly the weekend, three agents a day.
    weekend_rows = tours[tours["family"] == "weekend"]
    assert sorted(weekend_rows["weekday"].value_counts().items()) == [(5, 3), (6, 3)]

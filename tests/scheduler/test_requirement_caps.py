"""The requirement's ASA and occupancy ceilings (`max_asa_s`, `max_occupancy`), checked
against a textbook Erlang C written here from scratch: the agents computed are the fewest
that meet the ceiling, and the reported asa_s / occupancy are those of that staffing."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.requirements import QueueStaffing, compute_requirements, staff_interval

INTERVAL_S = 1800.0


def erlang_c_wait_probability(n: int, a: float) -> float:
    """P(wait) of M/M/n at offered load a Erlangs, from the Erlang B recursion."""
    if n <= a:
        return 1.0
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return n * b / (n - a * (1 - b))


def asa(n: int, a: float, aht: float) -> float:
    return math.inf if n <= a else erlang_c_wait_probability(n, a) * aht / (n - a)


def staff(volume: float, aht: float, **targets) -> dict:
    """One interval of `volume` contacts in INTERVAL_S seconds."""
    return staff_interval(volume, INTERVAL_S, QueueStaffing(aht_s=aht, **targets))


@settings(max_examples=200, deadline=None)
@given(volume=st.floats(1, 2000), aht=st.floats(30, 900), cap=st.floats(1, 120))
def test_max_asa_s_gives_the_fewest_agents_whose_asa_meets_it(volume, aht, cap):
    row = staff(volume, aht, max_asa_s=cap)
    a = volume * aht / INTERVAL_S
    n = row["agents"]
    assert row["erlangs"] == pytest.approx(a)
    assert asa(n, a, aht) <= cap * (1 + 1e-9)
    assert asa(n - 1, a, aht) > cap * (1 - 1e-9)
    assert row["asa_s"] == pytest.approx(asa(n, a, aht), rel=1e-6, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(volume=st.floats(1, 2000), aht=st.floats(30, 900), cap=st.floats(0.3, 1.0))
def test_max_occupancy_gives_the_fewest_agents_under_the_ceiling(volume, aht, cap):
    row = staff(volume, aht, max_occupancy=cap)
    a = volume * aht / INTERVAL_S
    n = row["agents"]
    # Erlang C needs n > a; among those, the fewest with a / n <= cap.
    expected = max(math.floor(a) + 1, math.ceil(a / cap - 1e-9))
    assert n == expected
    assert row["occupancy"] == pytest.approx(a / n, rel=1e-9)
    assert row["occupancy"] <= cap + 1e-9


def test_both_caps_take_the_stricter_and_the_requirement_frame_echoes_them():
    # 100 contacts of 180 s in 30 min = 10 Erlangs.
    asa_only = staff(100, 180, max_asa_s=10.0)["agents"]
    occ_only = staff(100, 180, max_occupancy=0.5)["agents"]
    both = staff(100, 180, max_asa_s=10.0, max_occupancy=0.5)["agents"]
    assert occ_only == 20 and both == max(asa_only, occ_only) == 20
    # The same interval as a 30-minute requirement row (hourly input of 200 is spread
    # evenly over its two halves).
    frame = pd.DataFrame({"unique_id": ["q"], "ds": [pd.Timestamp("2026-11-09 10:00")],
                          "volume": [200.0]})
    q = QueueStaffing(aht_s=180, max_asa_s=10.0, max_occupancy=0.5)
    rows = compute_requirements(frame, {"q": q}, interval_minutes=30)
    assert rows["agents_raw"].tolist() == [20, 20]
    assert rows["max_asa_s"].tolist() == [10.0, 10.0]
    assert rows["max_occupancy"].tolist() == [0.5, 0.5]
    assert rows["occupancy"].tolist() == pytest.approx([0.5, 0.5])

"""One convention for a plan's Erlang measures: Erlang A where patience is set, else C."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from staffcast.scheduler.erlang import erlang_a_metrics
from staffcast.scheduler.measures import plan_measures, queue_measures


def erlang_c_by_hand(n: int, a: float, aht: float, t: float) -> tuple[float, float]:
    """(service level, ASA s) from the Erlang B recursion B = A B / (k + A B)."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    c = n * b / (n - a * (1 - b))
    return 1 - c * math.exp(-(n - a) * t / aht), c * aht / (n - a)


def test_rows_without_patience_are_erlang_c_and_with_patience_erlang_a():
    got = queue_measures([11, 11], [10.0, 10.0], [180.0, 180.0], [20.0, 20.0],
                         [np.nan, 120.0])
    sl, asa = erlang_c_by_hand(11, 10.0, 180.0, 20.0)
    assert got["service_level"][0] == pytest.approx(sl, rel=1e-9)
    assert got["asa_s"][0] == pytest.approx(asa, rel=1e-9)
    assert math.isnan(got["abandon_rate"][0])
    assert got["occupancy"][0] == pytest.approx(10 / 11)
    a = erlang_a_metrics(11, 10.0, 180.0, 120.0, 20.0)
    for key in ("service_level", "asa_s", "occupancy", "abandon_rate"):
        assert got[key][1] == pytest.approx(a[key], rel=1e-12), key
    assert 0 < got["abandon_rate"][1] < 1


def test_plan_measures_net_shrinkage_and_count_chat_slots():
    req = pd.DataFrame({"volume": [100.0, 0.0, 100.0], "aht_s": [180.0] * 3,
                        "erlangs": [10.0, 0.0, 10.0], "shrinkage": [0.15] * 3,
                        "concurrency": [2.0] * 3, "sl_seconds": [20.0] * 3,
                        "patience_s": [np.nan, 60.0, 60.0]})
    got = plan_measures(req, np.array([10.0, 10.0, 7.0]))
    # 10 at work, 15% shrinkage: floor(8.5) = 8 agents x 2 slots = 16 servers, Erlang C.
    assert got["service_level"][0] == pytest.approx(erlang_c_by_hand(16, 10.0, 180.0, 20.0)[0])
    # No contacts: every contact (none) answered at once.
    assert got["service_level"][1] == 1.0 and got["abandon_rate"][1] == 0.0
    # 7 at work: floor(5.95) = 5 agents x 2 = 10 servers for 10 Erlangs, Erlang A.
    a = erlang_a_metrics(10, 10.0, 180.0, 60.0, 20.0)
    assert got["service_level"][2] == pytest.approx(a["service_level"])
    assert got["abandon_rate"][2] == pytest.approx(a["abandon_rate"])
    # Sub-slots mix in time: two halves at 10 and 7 agents average their measures.
    halves = plan_measures(req.iloc[[2]], np.array([[10.0, 7.0]]))
    both = plan_measures(req.iloc[[2, 2]], np.array([10.0, 7.0]))
    assert halves["service_level"][0] == pytest.approx(both["service_level"].mean())


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 60), traffic=st.floats(0.1, 40.0), aht=st.floats(10.0, 900.0),
       t=st.floats(0.0, 120.0), patience=st.one_of(st.none(), st.floats(5.0, 900.0)))
@example(n=60, traffic=17.2265625, aht=10.0, t=2.0, patience=8.0)  # Erlang A summed to 1 + 2e-16
def test_service_level_never_falls_with_one_more_server(n, traffic, aht, t, patience):
    pat = np.nan if patience is None else patience
    got = queue_measures([n, n + 1], traffic, aht, t, pat)["service_level"]
    assert 0.0 <= got[0] <= got[1] + 1e-9 <= 1.0 + 1e-9

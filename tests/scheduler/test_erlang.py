"""Erlang B / C / A against the literature and against independent computations.

Reference values are either quoted from a source (named in a comment) or computed here by
a different method than the library's: Erlang B and C by exact sums of A^k / k! with mpmath
at 50 digits, Erlang A by solving the truncated birth-death chain and the offered-wait
absorption chain with numpy / scipy matrix exponentials.
"""

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.erlang import (
    agents_for_targets,
    asa_s,
    erlang_a_agents,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)

mp.mp.dps = 50


def mp_erlang(n: int, a: float, aht: float, t: float) -> dict[str, float]:
    """Erlang B, C, SL, ASA from the textbook sums with exact factorials (mpmath)."""
    a = mp.mpf(a)
    terms = [a**k / mp.factorial(k) for k in range(n + 1)]
    b = terms[-1] / mp.fsum(terms)
    c = n * b / (n - a * (1 - b))
    sl = 1 - c * mp.e ** (-(n - a) * t / aht)
    return {"b": float(b), "c": float(c), "sl": float(sl), "asa": float(c * aht / (n - a))}


# ------------------------------------------------------------------ textbook case

def test_textbook_case_100_calls_per_half_hour():
    # Classic worked example (e.g. Koole, "Call Center Optimization" ch. 5; the
    # callcentrehelper.com Erlang C walk-through): 100 calls per 30 min, AHT 180 s, 80/20.
    traffic = 100 * 180 / 1800
    assert traffic == pytest.approx(10.0)
    assert agents_for_targets(traffic, 180, sl_target=0.8, sl_seconds=20) == 14
    # The source rounds to 0.889; the exact value is 0.88835.
    assert service_level(14, traffic, 180, 20) == pytest.approx(0.889, abs=1e-3)
    assert erlang_c(14, traffic) == pytest.approx(0.174, abs=5e-4)
    assert asa_s(14, traffic, 180) == pytest.approx(7.8, abs=0.05)
    assert service_level(13, traffic, 180, 20) == pytest.approx(0.796, abs=5e-4)
    assert occupancy(14, traffic) == pytest.approx(10 / 14)


def test_erlang_b_literature_values():
    # Erlang B tables (e.g. Cooper, "Introduction to Queueing Theory", Table; any
    # Erlang B calculator): B(1, 1) = 1/2, B(2, 1) = 1/5, B(10, 5) = 0.018384.
    assert erlang_b(1, 1.0) == pytest.approx(0.5, rel=1e-14)
    assert erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-14)
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)


# ------------------------------------------------------------------ mpmath references

CASES = [
    # (agents, traffic Erlangs, aht_s, T seconds): source = mp_erlang exact sums above
    (1, 0.5, 240.0, 30.0),
    (2, 1.2, 180.0, 20.0),
    (3, 2.75, 300.0, 10.0),       # fractional, heavily loaded
    (7, 4.321, 200.0, 15.0),      # fractional traffic
    (14, 10.0, 180.0, 20.0),      # the textbook case again, to 12 digits
    (25, 19.5, 420.0, 60.0),
    (60, 52.37, 240.0, 20.0),
    (120, 101.01, 360.0, 30.0),
    (260, 240.5, 150.0, 10.0),
    (1000, 970.0, 300.0, 20.0),
    (5060, 5000.0, 180.0, 20.0),  # large traffic: 5,000 Erlangs
    (5200, 5000.0, 180.0, 20.0),
    (30, 0.01, 100.0, 0.0),       # nearly idle
]


@pytest.mark.parametrize("n,a,aht,t", CASES)
def test_erlang_b_c_sl_asa_match_exact_sums(n, a, aht, t):
    ref = mp_erlang(n, a, aht, t)
    assert erlang_b(n, a) == pytest.approx(ref["b"], rel=1e-10)
    assert erlang_c(n, a) == pytest.approx(ref["c"], rel=1e-10)
    assert service_level(n, a, aht, t) == pytest.approx(ref["sl"], rel=1e-10, abs=1e-14)
    assert asa_s(n, a, aht) == pytest.approx(ref["asa"], rel=1e-10)


def test_erlang_b_far_below_traffic_uses_stable_branch():
    # N far below A: the incomplete gamma underflows; compare with the exact sum.
    for n, a in [(4000, 5000.0), (100, 5000.0), (9000, 10000.5)]:
        a_mp = mp.mpf(a)
        ref = a_mp**n / mp.factorial(n) / mp.fsum(a_mp**k / mp.factorial(k) for k in range(n + 1))
        assert erlang_b(n, a) == pytest.approx(float(ref), rel=1e-10)


def test_vectorised_matches_scalar_and_unstable_region_is_zero():
    agents = np.arange(0, 301)
    sl = service_level(agents, 150.3, 200.0, 20.0)
    assert sl.shape == agents.shape
    assert (sl[agents <= 150.3] == 0).all()
    assert (sl[agents > 150.3] > 0).all()
    for k in (151, 170, 300):
        assert sl[k] == pytest.approx(service_level(int(k), 150.3, 200.0, 20.0), rel=1e-13)
    assert np.isinf(asa_s(10, 10.0, 180.0))
    assert erlang_c(0, 0.0) == 0.0 and service_level(0, 0.0, 180.0, 20.0) == 1.0


def test_agents_for_targets_each_target_binds():
    a, aht = 10.0, 180.0
    # ASA ceiling alone: smallest N with C*AHT/(N-A) <= 10 s (14 gives 7.8 s, 13 gives more).
    n = agents_for_targets(a, aht, max_asa_s=10.0)
    assert asa_s(n, a, aht) <= 10.0 < asa_s(n - 1, a, aht)
    # Occupancy ceiling: 10 / 0.5 = 20 agents exactly (no bump to 21 from rounding).
    assert agents_for_targets(a, aht, max_occupancy=0.5) == 20
    assert agents_for_targets(a, aht, sl_target=0.8, sl_seconds=20, max_occupancy=0.6) == 17
    assert agents_for_targets(0.0, aht, sl_target=0.8, sl_seconds=20) == 0
    assert agents_for_targets(0.0, aht, sl_target=0.8, sl_seconds=20, min_agents=2) == 2
    assert agents_for_targets(a, aht, sl_target=0.8, sl_seconds=20, min_agents=30) == 30
    got = agents_for_targets(np.array([0.0, 10.0, 5000.0]), aht, sl_target=0.8, sl_seconds=20)
    assert got.tolist() == [0, 14, agents_for_targets(5000.0, aht, sl_target=0.8, sl_seconds=20)]


def test_large_traffic_requirement_is_minimal():
    n = agents_for_targets(5000.0, 180.0, sl_target=0.8, sl_seconds=20)
    ref_n = mp_erlang(n, 5000.0, 180.0, 20.0)["sl"]
    ref_prev = mp_erlang(n - 1, 5000.0, 180.0, 20.0)["sl"]
    assert ref_n >= 0.8 > ref_prev


# ------------------------------------------------------------------ Erlang A

def birth_death_erlang_a(n, a, aht, patience, t, extra=400):
    """M/M/N+M by brute force: stationary law of the truncated chain, then each waiting
    arrival's fate from the absorption chain 'people ahead of me' (matrix exponential)."""
    lam, mu, theta = a / aht, 1.0 / aht, 1.0 / patience
    size = n + extra
    death = np.array([min(k, n) * mu + max(k - n, 0) * theta for k in range(size + 1)])
    log_w = np.zeros(size + 1)
    for k in range(1, size + 1):
        log_w[k] = log_w[k - 1] + math.log(lam) - math.log(death[k])
    pi = np.exp(log_w - log_w.max())
    pi /= pi.sum()
    p_wait = pi[n:].sum()
    abandon = theta * (np.arange(size + 1 - n) * pi[n:]).sum() / lam
    # Transient states m = people ahead (0..extra); from m the line moves at N mu + m theta,
    # and the tagged caller abandons at theta; absorbing states: served, abandoned.
    m = extra
    gen = np.zeros((m + 3, m + 3))
    served, gone = m + 1, m + 2
    for k in range(m + 1):
        move = n * mu + k * theta
        if k == 0:
            gen[k, served] = move
        else:
            gen[k, k - 1] = move
        gen[k, gone] = theta
        gen[k, k] = -(move + theta)
    fate = scipy.linalg.expm(gen * t)
    answered_within = fate[: m + 1, served]
    sl = pi[:n].sum() + (pi[n:] * answered_within[: size + 1 - n]).sum()
    # Time to leave the queue T: E[T] = (-Q)^-1 1 and E[T; served] = (-Q)^-2 r_served.
    neg_q = -gen[: m + 1, : m + 1]
    mean_wait = np.linalg.solve(neg_q, np.ones(m + 1))
    wait_served = np.linalg.solve(neg_q, np.linalg.solve(neg_q, gen[: m + 1, served]))
    queue_time = (pi[n:] * mean_wait[: size + 1 - n]).sum()
    asa = (pi[n:] * wait_served[: size + 1 - n]).sum() / (1.0 - abandon)
    return {"p_wait": p_wait, "abandon_rate": abandon, "service_level": sl, "asa_s": asa,
            "queue_time_s": queue_time}


@pytest.mark.parametrize("n,a,aht,patience,t", [
    (14, 10.0, 180.0, 300.0, 20.0),
    (10, 10.0, 180.0, 120.0, 30.0),   # N = A: stable only through abandonment
    (8, 12.5, 240.0, 60.0, 15.0),     # overloaded, impatient
    (3, 1.7, 300.0, 900.0, 60.0),
    (50, 45.3, 200.0, 400.0, 20.0),
    (5, 2.0, 180.0, 50.0, 0.0),       # T = 0: SL is P(no wait)
])
def test_erlang_a_matches_birth_death_chain(n, a, aht, patience, t):
    ref = birth_death_erlang_a(n, a, aht, patience, t)
    got = erlang_a_metrics(n, a, aht, patience, t)
    for key in ("p_wait", "abandon_rate", "service_level", "asa_s", "queue_time_s"):
        assert got[key] == pytest.approx(ref[key], rel=1e-7, abs=1e-12), key


@pytest.mark.parametrize("n,a", [(14, 10.0), (60, 52.37), (1000, 970.0)])
def test_erlang_a_converges_to_erlang_c(n, a):
    aht, t = 180.0, 20.0
    previous_gap = np.inf
    for patience in (1e6, 1e8, 1e10):
        got = erlang_a_metrics(n, a, aht, patience, t)
        gap = abs(got["asa_s"] / asa_s(n, a, aht) - 1)
        # The gap is O(AHT / patience): 100 times more patience, about 100 times closer.
        assert gap < previous_gap / 50
        previous_gap = gap
    assert got["p_wait"] == pytest.approx(erlang_c(n, a), rel=1e-7)
    assert got["service_level"] == pytest.approx(service_level(n, a, aht, t), rel=1e-7)
    assert got["asa_s"] == pytest.approx(asa_s(n, a, aht), rel=1e-6)
    assert got["queue_time_s"] == pytest.approx(asa_s(n, a, aht), rel=1e-6)
    assert got["abandon_rate"] < 1e-9


def test_erlang_a_agents_targets():
    a, aht, pat = 10.0, 180.0, 300.0
    n = erlang_a_agents(a, aht, pat, sl_target=0.8, sl_seconds=20)
    m, prev = erlang_a_metrics(n, a, aht, pat, 20), erlang_a_metrics(n - 1, a, aht, pat, 20)
    assert m["service_level"] >= 0.8 > prev["service_level"]
    k = erlang_a_agents(a, aht, pat, max_abandon=0.02)
    assert erlang_a_metrics(k, a, aht, pat, 0)["abandon_rate"] <= 0.02
    assert erlang_a_metrics(k - 1, a, aht, pat, 0)["abandon_rate"] > 0.02
    assert erlang_a_agents(0.0, aht, pat, sl_target=0.8, sl_seconds=20, min_agents=1) == 1
    # Abandonment relieves the queue, so Erlang A never asks for more than Erlang C here.
    assert n <= agents_for_targets(a, aht, sl_target=0.8, sl_seconds=20)
    vec = erlang_a_agents(np.array([1.0, 10.0, 80.0]), aht, pat, max_abandon=0.02)
    assert vec[1] == k and vec.shape == (3,)


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("call,name", [
    (lambda: service_level(14, -1.0, 180, 20), "traffic_erl"),
    (lambda: service_level(14, float("nan"), 180, 20), "traffic_erl"),
    (lambda: service_level(14, 10.0, 0.0, 20), "aht_s"),
    (lambda: service_level(14.5, 10.0, 180, 20), "agents"),
    (lambda: service_level(14, 10.0, 180, -5), "sl_seconds"),
    (lambda: agents_for_targets(10.0, 180, sl_target=1.0, sl_seconds=20), "sl_target"),
    (lambda: agents_for_targets(10.0, 180, sl_target=0.0, sl_seconds=20), "sl_target"),
    (lambda: agents_for_targets(10.0, 180, sl_target=0.8), "sl_seconds"),
    (lambda: agents_for_targets(10.0, 180, max_occupancy=0.0), "max_occupancy"),
    (lambda: agents_for_targets(10.0, 180, max_occupancy=1.2), "max_occupancy"),
    (lambda: agents_for_targets(10.0, 180, max_asa_s=-1), "max_asa_s"),
    (lambda: erlang_a_metrics(14, 10.0, 180, 0.0, 20), "patience_s"),
    (lambda: erlang_a_agents(10.0, 180, 300, max_abandon=1.5), "max_abandon"),
])
def test_bad_values_name_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_error_message_has_rule_and_value():
    with pytest.raises(ValueError, match=r"aht_s must be > 0, got -3\.0"):
        asa_s(14, 10.0, -3.0)


# ------------------------------------------------------------------ properties

traffic = st.floats(min_value=0.01, max_value=400.0, allow_nan=False)
aht = st.floats(min_value=10.0, max_value=1800.0, allow_nan=False)
seconds = st.floats(min_value=0.0, max_value=300.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(traffic, aht, seconds)
def test_sl_rises_and_asa_falls_with_agents(a, h, t):
    agents = np.arange(int(a) + 1, int(a) + 60)
    sl = service_level(agents, a, h, t)
    asa = asa_s(agents, a, h)
    assert (np.diff(sl) >= -1e-12).all()
    assert (np.diff(asa) <= 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(traffic, st.floats(min_value=1.0, max_value=3.0), aht,
       st.floats(min_value=0.5, max_value=0.99), seconds)
def test_required_agents_never_fall_with_volume_or_aht(a, factor, h, target, t):
    base = agents_for_targets(a, h, sl_target=target, sl_seconds=t, max_occupancy=0.9)
    assert agents_for_targets(a * factor, h, sl_target=target, sl_seconds=t,
                              max_occupancy=0.9) >= base
    # More AHT at the same call count: traffic scales with AHT too.
    assert agents_for_targets(a * factor, h * factor, sl_target=target, sl_seconds=t,
                              max_occupancy=0.9) >= base


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.1, max_value=200.0), aht, seconds,
       st.integers(min_value=1, max_value=40))
def test_erlang_a_with_huge_patience_is_erlang_c(a, h, t, extra):
    # The gap to Erlang C grows like N A / (N - A)^3 * AHT / patience near N = A, so keep
    # N - A >= 0.25 and the patience astronomically long.
    n = math.ceil(a + 0.25) + extra - 1
    got = erlang_a_metrics(n, a, h, h * 1e13, t)
    assert got["service_level"] == pytest.approx(service_level(n, a, h, t), abs=1e-6)
    assert got["p_wait"] == pytest.approx(erlang_c(n, a), abs=1e-6)
    assert got["asa_s"] == pytest.approx(asa_s(n, a, h), rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(aht, st.integers(min_value=0, max_value=5))
def test_zero_volume_needs_only_the_minimum(h, floor):
    assert agents_for_targets(0.0, h, sl_target=0.9, sl_seconds=10, max_asa_s=5,
                              min_agents=floor) == floor
    assert erlang_a_agents(0.0, h, 120.0, sl_target=0.9, sl_seconds=10, max_abandon=0.01,
                           min_agents=floor) == floor


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.1, max_value=150.0), aht, st.floats(min_value=5.0, max_value=3000.0),
       seconds)
def test_erlang_a_sl_rises_and_abandonment_falls_with_agents(a, h, patience, t):
    # The Erlang A search bisects on N, which is only valid if every measure is monotone.
    agents = np.arange(0, int(a * 1.5) + 25)
    m = erlang_a_metrics(agents, a, h, patience, t)
    # Where SL is already 1.0 its rounding error reaches 2.1e-12 (worst of 40,000 random
    # cases in these ranges), so "rises" is checked to 1e-10, far below any SL that matters.
    assert (np.diff(m["service_level"]) >= -1e-10).all()
    assert (np.diff(m["abandon_rate"]) <= 1e-12).all()
    assert (np.diff(m["asa_s"][1:]) <= 1e-9).all()  # N = 0 answers nobody: ASA inf
    assert (np.diff(m["queue_time_s"]) <= 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["traffic_erl", "aht_s", "sl_seconds", "sl_target", "max_occupancy",
                        "max_asa_s"]),
       st.one_of(st.floats(max_value=-1e-9), st.just(float("nan"))))
def test_any_negative_or_nan_argument_is_named(name, bad):
    kwargs = {"traffic_erl": 10.0, "aht_s": 180.0, "sl_target": 0.8, "sl_seconds": 20.0,
              "max_occupancy": 0.85, "max_asa_s": 30.0, name: bad}
    with pytest.raises(ValueError, match=name):
        agents_for_targets(kwargs.pop("traffic_erl"), kwargs.pop("aht_s"), **kwargs)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0),
                 st.just(float("nan"))))
def test_sl_target_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match="sl_target"):
        agents_for_targets(10.0, 180.0, sl_target=bad, sl_seconds=20.0)
    with pytest.raises(ValueError, match="sl_target"):
        erlang_a_agents(10.0, 180.0, 300.0, sl_target=bad, sl_seconds=20.0)

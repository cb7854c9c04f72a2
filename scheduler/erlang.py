"""Queueing formulas for staffing: Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M).

Pure numpy functions, vectorised: every argument may be a scalar or an array and they
broadcast together; a result is a float (or int) when every argument was a scalar and an
array otherwise. Units are in the argument names:

- ``agents``: servers (whole numbers >= 0); ``traffic_erl``: offered load in Erlangs
  (arrival rate x mean handle time, any real >= 0); ``aht_s``: mean handle time, seconds;
  ``sl_seconds``: service-level threshold T, seconds; ``patience_s``: mean patience of an
  exponentially impatient caller, seconds.

Numerics. Erlang B is evaluated in log space with the Poisson identity
``B(N, A) = pmf(N; A) / cdf(N; A)`` where the cdf is the regularised upper incomplete gamma
``Q(N+1, A)`` and log pmf uses Stirling's series (no factorials, so 5,000+ Erlangs are
fine and fractional traffic is exact). Only where ``Q`` underflows (N far below A) does it
switch to the finite series ``1/B = sum_j N!/(N-j)!/A^j``, whose terms shrink geometrically
there. Searches for agent counts step up from a lower bound with the stable forward
recursion ``B(k) = A B(k-1) / (k + A B(k-1))`` across all intervals at once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import gammainc, gammaincc, gammaln, hyp1f1

from .errors import SchedulerError

__all__ = [
    "erlang_b",
    "erlang_c",
    "service_level",
    "asa_s",
    "occupancy",
    "agents_for_targets",
    "erlang_a_metrics",
    "erlang_a_agents",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Below this the regularised incomplete gamma is too close to underflow to divide by.
_TINY_Q = 1e-280


# ---------------------------------------------------------------- validation helpers

def _array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SchedulerError(f"{name} must be a number or an array of numbers, "
                             f"got {value!r}") from exc
    if np.isnan(arr).any():
        raise SchedulerError(f"{name} must not be NaN, got {_first(arr, np.isnan(arr))}")
    return arr


def _first(arr: np.ndarray, bad: np.ndarray) -> float:
    return float(np.broadcast_to(arr, bad.shape)[bad].flat[0])


def _require(name: str, arr: np.ndarray, ok: np.ndarray, rule: str) -> None:
    ok = np.asarray(ok)
    if not ok.all():
        raise SchedulerError(f"{name} must be {rule}, got {_first(arr, ~ok)}")


def _nonneg(name: str, value: Any, *, finite: bool = True) -> np.ndarray:
    arr = _array(name, value)
    _require(name, arr, arr >= 0, ">= 0")
    if finite:
        _require(name, arr, np.isfinite(arr), "finite")
    return arr


def _positive(name: str, value: Any, *, finite: bool = True) -> np.ndarray:
    arr = _array(name, value)
    _require(name, arr, arr > 0, "> 0")
    if finite:
        _require(name, arr, np.isfinite(arr), "finite")
    return arr


def _agents(value: Any, name: str = "agents") -> np.ndarray:
    arr = _nonneg(name, value)
    _require(name, arr, arr == np.floor(arr), "a whole number")
    return arr


def _fraction_open(name: str, value: Any) -> np.ndarray:
    arr = _array(name, value)
    _require(name, arr, (arr > 0) & (arr < 1), "in (0, 1)")
    return arr


def _fraction_cap(name: str, value: Any) -> np.ndarray:
    arr = _array(name, value)
    _require(name, arr, (arr > 0) & (arr <= 1), "in (0, 1]")
    return arr


def _sl_pair(sl_target: Any, sl_seconds: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    if (sl_target is None) != (sl_seconds is None):
        missing = "sl_seconds" if sl_seconds is None else "sl_target"
        raise SchedulerError(f"{missing} must be given together with "
                             f"{'sl_target' if missing == 'sl_seconds' else 'sl_seconds'}")
    if sl_target is None:
        return None, None
    return _fraction_open("sl_target", sl_target), _nonneg("sl_seconds", sl_seconds)


def _result(arr: np.ndarray, scalar: bool, kind: type = float) -> Any:
    if scalar:
        return kind(arr.reshape(()))
    return arr.astype(kind) if kind is int else arr


def _is_scalar(*values: Any) -> bool:
    return all(np.ndim(v) == 0 for v in values if v is not None)


# ---------------------------------------------------------------- Erlang B and C

def _stirlerr(n: np.ndarray) -> np.ndarray:
    """log(n!) - (n log n - n + log(2 pi n)/2) for n > 0, without cancellation for big n."""
    n = np.asarray(n, dtype=float)
    out = np.empty_like(n)
    big = n >= 20
    nb = n[big]
    inv2 = 1.0 / (nb * nb)
    out[big] = (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (
        1.0 / 1680 - inv2 * (1.0 / 1188))))) / nb
    ns = n[~big]
    out[~big] = gammaln(ns + 1) - (ns * np.log(ns) - ns + _HALF_LOG_2PI + 0.5 * np.log(ns))
    return out


def _log_poisson_pmf(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """log(a^n e^-a / n!) for n >= 1, a > 0, written to avoid cancelling n log n terms."""
    d = a / n - 1.0
    with np.errstate(divide="ignore"):  # a / n underflowing to 0 gives log 0 = -inf, pmf 0
        return n * (np.log1p(d) - d) - _HALF_LOG_2PI - 0.5 * np.log(n) - _stirlerr(n)


def _erlang_b_core(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Erlang B for broadcast float arrays already validated (n whole, a >= 0)."""
    n, a = np.broadcast_arrays(n, a)
    out = np.empty(n.shape)
    out[n == 0] = 1.0
    out[(n > 0) & (a == 0)] = 0.0
    live = (n > 0) & (a > 0)
    nl, al = n[live], a[live]
    q = gammaincc(nl + 1.0, al)
    ok = q > _TINY_Q
    res = np.empty(nl.shape)
    res[ok] = np.exp(_log_poisson_pmf(nl[ok], al[ok]) - np.log(q[ok]))
    if (~ok).any():
        # Q underflows only for N far below A, where N(N-1).../A^j falls geometrically.
        nn, aa = nl[~ok], al[~ok]
        term = np.ones(nn.shape)
        total = np.ones(nn.shape)
        j = 0
        while True:
            term = term * np.maximum(nn - j, 0.0) / aa
            total += term
            j += 1
            if not (term > 1e-17 * total).any():
                break
        res[~ok] = 1.0 / total
    out[live] = res
    return out


def erlang_b(agents: Any, traffic_erl: Any) -> Any:
    """Blocking probability of M/M/N/N (Erlang loss formula) for N agents, A Erlangs."""
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    return _result(_erlang_b_core(n, a), _is_scalar(agents, traffic_erl))


def _erlang_c_from_b(n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # C = N B / (N - A (1 - B)) = N B / ((N - A) + A B); the queue is unstable for N <= A,
    # where every arrival waits (C = 1). With no traffic nobody ever waits (C = 0).
    stable = n > a
    denom = np.where(stable, (n - a) + a * b, 1.0)
    c = np.where(stable, n * b / denom, 1.0)
    return np.where(a == 0, 0.0, c)


def _c_metrics(n, a, b, aht, sl_seconds):
    """(P(wait), service level, ASA seconds) from Erlang B values; arrays broadcast."""
    c = _erlang_c_from_b(n, a, b)
    stable = n > a
    gap = np.where(stable, n - a, 1.0)
    sl = None
    if sl_seconds is not None:
        sl = np.where(stable, 1.0 - c * np.exp(-gap * sl_seconds / aht), 0.0)
        sl = np.where(a == 0, 1.0, sl)
    asa = np.where(stable, c * aht / gap, np.inf)
    asa = np.where(a == 0, 0.0, asa)
    return c, sl, asa


def erlang_c(agents: Any, traffic_erl: Any) -> Any:
    """Probability that an arrival waits, M/M/N (Erlang C). 1.0 when agents <= traffic > 0;
    0.0 when traffic is 0 (nobody arrives, nobody waits)."""
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    b = _erlang_b_core(n, a)
    n, a = np.broadcast_arrays(n, a)
    return _result(_erlang_c_from_b(n, a, b), _is_scalar(agents, traffic_erl))


def service_level(agents: Any, traffic_erl: Any, aht_s: Any, sl_seconds: Any) -> Any:
    """Share of contacts answered within `sl_seconds` (Erlang C):
    ``1 - C exp(-(N - A) T / AHT)``; 0.0 when agents <= traffic (unstable queue), 1.0 at
    zero traffic."""
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    aht = _positive("aht_s", aht_s)
    t = _nonneg("sl_seconds", sl_seconds)
    b = _erlang_b_core(n, a)
    n, a, aht, t, b = np.broadcast_arrays(n, a, aht, t, b)
    _, sl, _ = _c_metrics(n, a, b, aht, t)
    return _result(sl, _is_scalar(agents, traffic_erl, aht_s, sl_seconds))


def asa_s(agents: Any, traffic_erl: Any, aht_s: Any) -> Any:
    """Average speed of answer in seconds (Erlang C), ``C AHT / (N - A)``; inf when
    agents <= traffic > 0 (the queue grows without bound), 0.0 at zero traffic."""
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    aht = _positive("aht_s", aht_s)
    b = _erlang_b_core(n, a)
    n, a, aht, b = np.broadcast_arrays(n, a, aht, b)
    _, _, asa = _c_metrics(n, a, b, aht, None)
    return _result(asa, _is_scalar(agents, traffic_erl, aht_s))


def occupancy(agents: Any, traffic_erl: Any) -> Any:
    """Share of agent time busy, ``A / N`` capped at 1 (an overloaded queue keeps everyone
    busy); 0.0 with no traffic, 1.0 with traffic and no agents."""
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    n, a = np.broadcast_arrays(n, a)
    occ = np.where(n > 0, np.minimum(a / np.where(n > 0, n, 1.0), 1.0), np.where(a > 0, 1.0, 0.0))
    return _result(occ, _is_scalar(agents, traffic_erl))


def agents_for_targets(traffic_erl: Any, aht_s: Any, *, sl_target: Any = None,
                       sl_seconds: Any = None, max_asa_s: Any = None,
                       max_occupancy: Any = None, min_agents: Any = 0) -> Any:
    """Smallest whole number of agents meeting every given Erlang C target at once.

    Targets: service level (`sl_target` share answered within `sl_seconds`), an ASA ceiling
    `max_asa_s` (seconds) and an occupancy ceiling `max_occupancy`; with none given the
    answer is the smallest stable count (N > A). Zero traffic needs `min_agents`. Vectorised:
    all intervals step up together from ``max(floor(A) + 1, ceil(A / max_occupancy),
    min_agents)`` using the Erlang B recursion, so the cost is the safety margin
    (about sqrt(A) steps), not N.
    """
    a = _nonneg("traffic_erl", traffic_erl)
    aht = _positive("aht_s", aht_s)
    target, t = _sl_pair(sl_target, sl_seconds)
    asa_cap = None if max_asa_s is None else _positive("max_asa_s", max_asa_s)
    occ_cap = None if max_occupancy is None else _fraction_cap("max_occupancy", max_occupancy)
    floor_n = _agents(min_agents, "min_agents")
    arrays = [a, aht] + [x for x in (target, t, asa_cap, occ_cap) if x is not None] + [floor_n]
    shape = np.broadcast_shapes(*(x.shape for x in arrays))
    a, aht, floor_n = (np.broadcast_to(x, shape).ravel() for x in (a, aht, floor_n))
    target, t, asa_cap, occ_cap = (None if x is None else np.broadcast_to(x, shape).ravel()
                                   for x in (target, t, asa_cap, occ_cap))

    n = np.where(a > 0, np.floor(a) + 1.0, 0.0)
    if occ_cap is not None:
        # The tiny slack keeps A / cap = 10.000000001 from bumping an exact 10 to 11.
        n = np.maximum(n, np.ceil(a / occ_cap - 1e-9))
    n = np.maximum(n, floor_n)
    b = _erlang_b_core(n, a)

    todo = np.arange(n.size)
    while todo.size:
        nn, aa, bb, hh = n[todo], a[todo], b[todo], aht[todo]
        _, sl, asa = _c_metrics(nn, aa, bb, hh, None if t is None else t[todo])
        ok = (nn > aa) | (aa == 0)
        if sl is not None:
            ok &= sl >= target[todo] - 1e-12
        if asa_cap is not None:
            ok &= asa <= asa_cap[todo] * (1 + 1e-12)
        if occ_cap is not None:
            ok &= aa <= occ_cap[todo] * nn * (1 + 1e-12)
        todo = todo[~ok]
        n[todo] += 1.0
        b[todo] = a[todo] * b[todo] / (n[todo] + a[todo] * b[todo])
    return _result(n.reshape(shape), _is_scalar(traffic_erl, aht_s, sl_target, sl_seconds,
                                                max_asa_s, max_occupancy, min_agents), int)


# ---------------------------------------------------------------- Erlang A (M/M/N+M)

def _log_kummer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log M(1, x + 1, y) = log sum_j y^j / ((x+1)...(x+j)) for x >= 0, y >= 0.

    M is the "A(x, y)" of Mandelbaum & Zeltyn: the relative weight of the waiting states of
    M/M/N+M to the all-busy state. For y <= x the series is moderate and scipy's hyp1f1 is
    accurate; for y > x it is huge and taken in log space from the regularised lower
    incomplete gamma, ``M = e^y y^-x Gamma(x+1) P(x, y)``, with Stirling's series so that
    x log x terms do not cancel.
    """
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    out = np.empty(x.shape)
    low = y <= x
    out[low] = np.log(hyp1f1(1.0, x[low] + 1.0, y[low]))
    high = ~low
    xh, yh = x[high], y[high]
    zero = xh == 0
    res = np.empty(xh.shape)
    res[zero] = yh[zero]  # M(1, 1, y) = e^y
    xp, yp = xh[~zero], yh[~zero]
    d = yp / xp - 1.0
    res[~zero] = (xp * (d - np.log1p(d)) + _HALF_LOG_2PI + 0.5 * np.log(xp) + _stirlerr(xp)
                  + np.log(gammainc(xp, yp)))
    out[high] = res
    return out


def _abandon_given_wait(x: np.ndarray, y: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """P(abandon | wait) = 1 - (x/y)(1 - 1/M); for y <= x the same quantity as the ratio
    M(2, x+2, y) / ((x+1) M(1, x+1, y)), which does not cancel when patience is long."""
    out = np.empty(x.shape)
    low = y <= x
    out[low] = hyp1f1(2.0, x[low] + 2.0, y[low]) / ((x[low] + 1.0) * np.exp(log_m[low]))
    high = ~low
    out[high] = 1.0 - (x[high] / y[high]) * (-np.expm1(-log_m[high]))
    return np.clip(out, 0.0, 1.0)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(128)


def _served_wait_theta(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E[theta V | the caller waited and was answered] for M/M/N+M, V the wait.

    Summing the Beta laws of e^(-theta V) over the queue seen on arrival gives the density
    of s = theta V among answered waiters, proportional to g(s) = exp(-(x+1) s + y (1 - e^-s))
    on s >= 0 (log-concave). Its mean is taken by 128-point Gauss-Legendre over the range
    where log g is within 40 of its maximum, found by Newton steps from the mode.
    """
    xp1 = x + 1.0
    mode = np.where(y > xp1, np.log(np.where(y > xp1, y, 1.0) / xp1), 0.0)
    e_mode = np.exp(-mode)

    def phi(s):  # log g(s) - log g(mode); expm1 keeps tiny s (long patience) exact
        return -xp1 * (s - mode) - y * e_mode * np.expm1(mode - s)

    def dphi(s):
        return -xp1 + y * np.exp(-s)

    drop = 40.0
    width = 1.0 / (np.abs(dphi(mode)) + np.sqrt(y * e_mode) + 1e-300)
    # Newton on a concave function: after the first step every iterate lies beyond the
    # root, so the steps shrink monotonically.
    hi = mode + width
    for _ in range(100):
        step = (phi(hi) + drop) / dphi(hi)
        hi = hi - step
        if (np.abs(step) <= 1e-9 * (width + hi)).all():
            break
    lo = np.maximum(mode - width, 0.0)
    inner = mode > 0
    for _ in range(100):
        live = inner & (lo > 0)
        if not live.any():
            break
        step = np.where(live, (phi(lo) + drop) / np.where(live, dphi(lo), 1.0), 0.0)
        lo = np.maximum(lo - step, 0.0)
        if (np.abs(step) <= 1e-9 * (width + hi)).all():
            break
    s = lo[:, None] + (hi - lo)[:, None] / 2.0 * (_GL_NODES + 1.0)
    gap = s - mode[:, None]
    log_g = -xp1[:, None] * gap - (y * e_mode)[:, None] * np.expm1(-gap)
    g = _GL_WEIGHTS * np.exp(log_g)
    return (g * s).sum(axis=1) / g.sum(axis=1)


def _a_metrics(n, a, aht, patience, t, with_asa=True):
    """Erlang A measures for broadcast 1-d float arrays; see erlang_a_metrics. The answered
    ASA needs a quadrature, skipped with `with_asa=False` (then it is NaN)."""
    b = _erlang_b_core(n, a)
    x = n * patience / aht  # N mu / theta
    y = a * patience / aht  # lambda / theta
    log_m = _log_kummer(x, y)
    # P(W > 0) = M B / (1 - B + M B), divided through by M so a huge M cannot overflow;
    # P(W = 0) from its own numerator so that it keeps full precision when it is tiny.
    free = (1.0 - b) * np.exp(-log_m)
    p_wait = b / (b + free)
    p_no_wait = free / (b + free)
    ab_wait = _abandon_given_wait(x, y, log_m)
    abandon = p_wait * ab_wait
    theta_t = t / patience
    x_safe = np.where(x > 0, x, 1.0)  # N = 0 is overwritten below
    # Offered wait V of an arrival that finds j waiting: e^(-theta V) ~ Beta(x, j + 1), so
    # answered-within-T among those who wait is D(0) - D(T), with D(0) = 1 - P(ab|wait) and
    # log D(T) = log(x/(x+1)) + log M(x+1, y e^-theta T) - log M(x, y)
    #            - (x+1) theta T - y (e^-theta T - 1).
    # Written as D(0) (1 - D(T)/D(0)) so that T -> 0 does not cancel two near-equal numbers.
    log_ratio = (_log_kummer(x_safe + 1.0, y * np.exp(-theta_t)) - _log_kummer(x_safe + 1.0, y)
                 - (x_safe + 1.0) * theta_t - y * np.expm1(-theta_t))
    within = np.clip((1.0 - ab_wait) * -np.expm1(np.minimum(log_ratio, 0.0)), 0.0, 1.0)
    sl = np.minimum(p_no_wait + p_wait * within, 1.0)  # a share; the sum rounds past 1
    no_agents = n == 0
    p_wait = np.where(no_agents, np.where(a > 0, 1.0, 0.0), p_wait)
    abandon = np.where(no_agents, np.where(a > 0, 1.0, 0.0), abandon)
    sl = np.where(no_agents, np.where(a > 0, 0.0, 1.0), sl)
    queue_time = abandon * patience  # Little's law on the queue: E[W] = P(ab) / theta
    asa = np.full(n.shape, np.nan)
    if with_asa:
        answered_waiting = p_wait * (1.0 - ab_wait)
        answered = 1.0 - abandon
        some = (n > 0) & (a > 0)
        mean_s = _served_wait_theta(x_safe[some], y[some])
        asa[some] = (answered_waiting[some] * mean_s * patience[some]
                     / np.maximum(answered[some], 1e-300))
        asa[a == 0] = 0.0
        asa[(n == 0) & (a > 0)] = np.inf  # nobody is ever answered
    occ = np.where(n > 0, a * (1.0 - abandon) / np.where(n > 0, n, 1.0), np.where(a > 0, 1.0, 0.0))
    return {"service_level": sl, "abandon_rate": abandon, "asa_s": asa, "p_wait": p_wait,
            "occupancy": occ, "queue_time_s": queue_time}


def erlang_a_metrics(agents: Any, traffic_erl: Any, aht_s: Any, patience_s: Any,
                     sl_seconds: Any) -> dict[str, Any]:
    """Erlang A (M/M/N+M, exponential patience with mean `patience_s`) measures.

    Returns a dict of (broadcast) values:
    - ``p_wait``: P(an arrival finds all agents busy);
    - ``abandon_rate``: share of arrivals who hang up before being answered;
    - ``service_level``: share of ALL arrivals answered within `sl_seconds` (abandoned
      contacts count as not answered);
    - ``asa_s``: average speed of answer, the mean wait of ANSWERED contacts in seconds
      (those answered at once count with 0); it tends to Erlang C's ASA as patience grows;
    - ``queue_time_s``: mean time in queue over all arrivals, answered and abandoned, in
      seconds (Little's law: ``abandon_rate * patience_s``);
    - ``occupancy``: carried load per agent, ``A (1 - abandon_rate) / N``.
    Formulas: Garnett, Mandelbaum & Reiman (2002); Mandelbaum & Zeltyn (2009), see
    docs/staffing.md.
    """
    n = _agents(agents)
    a = _nonneg("traffic_erl", traffic_erl)
    aht = _positive("aht_s", aht_s)
    pat = _positive("patience_s", patience_s)
    t = _nonneg("sl_seconds", sl_seconds)
    shape = np.broadcast_shapes(n.shape, a.shape, aht.shape, pat.shape, t.shape)
    flat = [np.broadcast_to(v, shape).ravel() for v in (n, a, aht, pat, t)]
    res = _a_metrics(*flat)
    scalar = _is_scalar(agents, traffic_erl, aht_s, patience_s, sl_seconds)
    return {k: _result(v.reshape(shape), scalar) for k, v in res.items()}


def erlang_a_agents(traffic_erl: Any, aht_s: Any, patience_s: Any, *, sl_target: Any = None,
                    sl_seconds: Any = None, max_abandon: Any = None, max_asa_s: Any = None,
                    max_occupancy: Any = None, min_agents: Any = 0) -> Any:
    """Smallest whole number of agents meeting every given Erlang A target.

    Targets: `sl_target` share of all arrivals answered within `sl_seconds`, abandonment
    ceiling `max_abandon` (share of arrivals), `max_asa_s` on the answered ASA and
    `max_occupancy`. With no target, `min_agents` is returned: abandonment keeps M/M/N+M
    stable at any staffing. Every measure is monotone in N, so the search is a vectorised
    bisection between `min_agents` and a doubling upper bound.
    """
    a = _nonneg("traffic_erl", traffic_erl)
    aht = _positive("aht_s", aht_s)
    pat = _positive("patience_s", patience_s)
    target, t = _sl_pair(sl_target, sl_seconds)
    ab_cap = None if max_abandon is None else _fraction_open("max_abandon", max_abandon)
    asa_cap = None if max_asa_s is None else _positive("max_asa_s", max_asa_s)
    occ_cap = None if max_occupancy is None else _fraction_cap("max_occupancy", max_occupancy)
    floor_n = _agents(min_agents, "min_agents")
    given = [x for x in (target, t, ab_cap, asa_cap, occ_cap) if x is not None]
    shape = np.broadcast_shapes(a.shape, aht.shape, pat.shape, floor_n.shape,
                                *(x.shape for x in given))

    def flat(x):
        return None if x is None else np.broadcast_to(x, shape).ravel()

    a, aht, pat, floor_n, target, t, ab_cap, asa_cap, occ_cap = map(
        flat, (a, aht, pat, floor_n, target, t, ab_cap, asa_cap, occ_cap))

    def feasible(n, idx):
        m = _a_metrics(n, a[idx], aht[idx], pat[idx], np.zeros(idx.size) if t is None else t[idx],
                       with_asa=asa_cap is not None)
        ok = np.ones(idx.size, dtype=bool)
        if target is not None:
            ok &= m["service_level"] >= target[idx] - 1e-12
        if ab_cap is not None:
            ok &= m["abandon_rate"] <= ab_cap[idx] + 1e-12
        if asa_cap is not None:
            ok &= m["asa_s"] <= asa_cap[idx] * (1 + 1e-12)
        if occ_cap is not None:
            ok &= m["occupancy"] <= occ_cap[idx] * (1 + 1e-12)
        return ok

    everyone = np.arange(a.size)
    answer = floor_n.copy()
    open_ = everyone[~feasible(floor_n, everyone)]
    lo = floor_n[open_].copy()  # known infeasible
    hi = np.maximum(lo + 1.0, np.floor(a[open_]) + 1.0)
    pending = np.arange(open_.size)
    while pending.size:  # grow hi until feasible
        ok = feasible(hi[pending], open_[pending])
        lo[pending[~ok]] = hi[pending[~ok]]
        hi[pending[~ok]] *= 2.0
        pending = pending[~ok]
    pending = np.flatnonzero(hi - lo > 1)
    while pending.size:
        mid = np.floor((lo[pending] + hi[pending]) / 2.0)
        ok = feasible(mid, open_[pending])
        hi[pending[ok]] = mid[ok]
        lo[pending[~ok]] = mid[~ok]
        pending = pending[hi[pending] - lo[pending] > 1]
    answer[open_] = hi
    scalar = _is_scalar(traffic_erl, aht_s, patience_s, sl_target, sl_seconds, max_abandon,
                        max_asa_s, max_occupancy, min_agents)
    return _result(answer.reshape(shape), scalar, int)

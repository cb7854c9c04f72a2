"""Discrete-event simulation of a contact queue: does a roster really deliver the SL?

The model (see docs/simulation.md):

- Arrivals are Poisson with a piecewise-constant rate: interval ``i`` of length
  `interval_s` seconds gets ``Poisson(volume[i])`` contacts at uniform times inside it.
  As an option (`VolumeDraw`) each replication first draws the interval's volume from the
  forecast interval, so forecast error is simulated on top of Poisson noise.
- One FIFO queue served by the agents at work. Handle times are exponential or lognormal
  with mean ``aht_s`` of the contact's arrival interval. With `patience_s` each contact
  has an exponential patience and hangs up when it has waited that long unanswered.
- The number of agents at work is a step function of time. When it rises, the new agents
  take waiting contacts at once. When it falls, idle agents leave at once and, if that is
  not enough, randomly chosen busy agents finish the contact in hand and then leave
  (nobody is cut off, and a leaving agent takes no new contact). The roster does not know
  how long calls will last, so which busy agent leaves is independent of the call: a
  uniform choice among the busy agents who are staying.
- After the horizon no contacts arrive, and the agents of the last interval stay until
  the queue is empty, so a contact waiting at the end is answered (late) rather than
  dropped. A contact that can never be answered (no agents at the end and no patience) is
  counted as ``unanswered``: offered, never answered, not answered within T.
- Measures are counted by ARRIVAL interval. Service level = answered within `sl_seconds`
  / offered; an abandoned contact counts as NOT answered within T even when it hung up
  within T (the convention of `staffcast.scheduler.erlang.erlang_a_metrics`; without patience it
  makes no difference). ``asa_s`` is the mean wait of answered contacts; ``queue_time_s``
  is the mean time in queue of answered and abandoned contacts (Erlang A's ``asa_s``).

Times are seconds from the start of the first interval. Everything is seeded: the same
seed and inputs give identical results. The event loop is plain Python over lists with a
heap of busy agents' finishing times, O(n log c) for n contacts and c agents.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .measures import queue_measures
from .errors import SchedulerError
from ..tableio.reader import read_table

__all__ = ["StaffingSteps", "VolumeDraw", "SimulationResult", "simulate_queue",
           "PlanError", "PlanSimulation", "simulate_plan", "HANDLE_DISTS", "INTERVAL_MEASURES"]

HANDLE_DISTS = ("exponential", "lognormal")
# Per-replication counts summed per arrival interval (and per day).
_COUNTS = ("offered", "answered", "answered_within_t", "abandoned", "abandoned_within_t",
           "unanswered")
# Ratios reported with a 95% confidence interval over replications.
INTERVAL_MEASURES = ("service_level", "asa_s", "abandon_rate", "queue_time_s")
_EXPECTED_KEYS = ("service_level", "asa_s", "abandon_rate")


@dataclass(frozen=True)
class StaffingSteps:
    """Agents at work as an exact step function: `agents[k]` from `times_s[k]` until
    `times_s[k+1]` (seconds from the horizon start; the first time must be 0 and the times
    strictly increasing). Use it instead of per-interval counts when agents start, end or
    pause mid-interval (a roster's exact segment times)."""

    times_s: np.ndarray
    agents: np.ndarray


@dataclass(frozen=True)
class VolumeDraw:
    """Draw each interval's expected volume from a forecast interval before the Poisson
    draw. `lo`, `hi`: the central `level` interval per interval (e.g. yhat_lo_80 and
    yhat_hi_80 with level 0.8). dist 'lognormal' fits log-volume to the two quantiles
    (needs lo > 0 where hi > 0); 'normal' fits a normal and clips draws at 0.
    shock 'interval' draws each interval independently; 'day' uses one standard-normal
    shock per simulated day, so a busy day is busy all day (forecast errors of one day are
    usually strongly correlated)."""

    lo: Any
    hi: Any
    level: float = 0.8
    dist: Literal["lognormal", "normal"] = "lognormal"
    shock: Literal["interval", "day"] = "interval"


@dataclass(frozen=True)
class SimulationResult:
    """Simulated measures per arrival interval and per day.

    intervals: ``interval, start_s, [ds,] volume, agents, offered, answered,
    answered_within_t, abandoned, abandoned_within_t, unanswered`` (means over
    replications; ``agents`` is the time-averaged number at work), then for each of
    ``service_level, asa_s, abandon_rate, queue_time_s`` the mean over replications and
    ``<name>_lo_95`` / ``<name>_hi_95`` (t-interval over replication values; NaN with fewer
    than two replications having contacts), then ``erlang_<name>`` for the expectations
    passed in. days: the same per day (``day`` is the date when `start` was given, else
    the day number from the horizon start); the Erlang day figures are volume-weighted
    means of the interval figures.
    """

    intervals: pd.DataFrame
    days: pd.DataFrame
    replications: int
    seed: int
    contacts: int  # simulated contacts, all replications together


# ---------------------------------------------------------------- validation

def _vector(name: str, value: Any, n: int | None, *, positive: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SchedulerError(f"{name} must be numbers, got {value!r}") from exc
    if arr.ndim > 1:
        raise SchedulerError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if n is not None and arr.ndim == 1 and arr.size != n:
        raise SchedulerError(f"{name} has {arr.size} values but there are {n} intervals "
                             "(volume); lengths must match")
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        rule = "> 0" if positive else ">= 0"
        first = float(arr.ravel()[np.flatnonzero(bad.ravel())[0]])
        where = "" if arr.ndim == 0 else f" (interval {int(np.flatnonzero(bad)[0])})"
        raise SchedulerError(f"{name} must be finite and {rule}, got {first!r}{where}")
    return np.broadcast_to(arr, (n,)).copy() if n is not None else arr


def _capacity(agents: Any, n: int, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(change times, agents from then on), merged so consecutive values differ."""
    if isinstance(agents, StaffingSteps):
        times = _vector("agents.times_s", agents.times_s, None)
        counts = _vector("agents.agents", agents.agents, None)
        if times.ndim != 1 or counts.ndim != 1 or times.size != counts.size or not times.size:
            raise SchedulerError("agents.times_s and agents.agents must be 1-D, non-empty and of "
                                 f"equal length, got {times.size} and {counts.size}")
        if times[0] != 0 or (np.diff(times) <= 0).any():
            raise SchedulerError("agents.times_s must start at 0 and increase strictly, got "
                                 f"{times[:5].tolist()}...")
    else:
        counts = _vector("agents", agents, n)
        if np.ndim(agents) == 0:
            raise SchedulerError(f"agents must have one count per interval ({n}), got a scalar")
        times = np.arange(n) * interval_s
    fractional = counts != np.round(counts)
    if fractional.any():
        raise SchedulerError(f"agents must be whole numbers, got {counts[fractional][0]} "
                             f"(position {int(np.flatnonzero(fractional)[0])})")
    keep = np.r_[True, np.diff(counts) != 0]
    return times[keep], counts[keep].astype(np.int64)


def _mean_agents(times: np.ndarray, counts: np.ndarray, n: int, interval_s: float) -> np.ndarray:
    """Time-averaged agents at work per interval from the step function."""
    edges = np.arange(n + 1) * interval_s
    ends = np.r_[times[1:], max(edges[-1], times[-1])]
    # Area under the step function up to each edge, by cumulative sums over the steps.
    area = np.r_[0.0, np.cumsum(counts * (ends - times))]
    k = np.clip(np.searchsorted(times, edges, side="right") - 1, 0, times.size - 1)
    at_edge = area[k] + counts[k] * (edges - times[k])
    return np.diff(at_edge) / interval_s


# ---------------------------------------------------------------- one replication

def _run(arrive: list[float], handle: list[float], deadline: list[float] | None,
         cap_t: list[float], cap_v: list[int], pick: random.Random) -> tuple[list, list]:
    """Event loop of one replication. Returns (start time or NaN, abandoned flag) per
    contact, in arrival order."""
    n = len(arrive)
    start = [math.nan] * n
    abandoned = [False] * n
    inf = math.inf
    heap: list[tuple[float, int]] = []  # (finish time, token) of busy agents
    leaving: set[int] = set()  # tokens of busy agents who leave when their contact ends
    queue: deque[int] = deque()
    token = 0
    cap = cap_v[0]
    idle = cap  # invariant: idle > 0 implies an empty queue
    i, k, n_cap = 0, 1, len(cap_t)
    heappush, heappop = heapq.heappush, heapq.heappop

    def take(now: float) -> bool:
        # An agent is free at `now`: serve the oldest contact still waiting, if any.
        nonlocal token
        while queue:
            j = queue.popleft()
            if deadline is not None and deadline[j] < now:
                abandoned[j] = True  # hung up at deadline[j], before anyone was free
                continue
            start[j] = now
            token += 1
            heappush(heap, (now + handle[j], token))
            return True
        return False

    while True:
        ta = arrive[i] if i < n else inf
        tc = heap[0][0] if heap else inf
        tk = cap_t[k] if k < n_cap else inf
        if tc <= tk and tc <= ta:
            if tc == inf:
                break
            _, tok = heappop(heap)
            if tok in leaving:
                leaving.discard(tok)
            elif not take(tc):
                idle += 1
        elif tk <= ta:
            new = cap_v[k]
            k += 1
            delta = new - cap
            cap = new
            if delta > 0:
                idle += delta
                while idle and take(tk):
                    idle -= 1
            else:
                gone = min(-delta, idle)
                idle -= gone
                for _ in range(-delta - gone):
                    # Uniform over busy agents who are staying (rejection is cheap: the
                    # loop only runs while such agents outnumber the leaving ones' share).
                    while True:
                        tok = heap[pick.randrange(len(heap))][1]
                        if tok not in leaving:
                            leaving.add(tok)
                            break
        else:
            j = i
            i += 1
            if idle:
                idle -= 1
                start[j] = ta
                token += 1
                heappush(heap, (ta + handle[j], token))
            else:
                queue.append(j)
    # Contacts still queued when nobody is left: they hang up if they are impatient,
    # otherwise they are never answered.
    if deadline is not None:
        for j in queue:
            abandoned[j] = True
    return start, abandoned


# ---------------------------------------------------------------- statistics

def _t_interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval over axis 0, ignoring NaN (replications without contacts)."""
    ok = np.isfinite(values)
    m = ok.sum(axis=0)
    safe = np.where(ok, values, 0.0)
    mean = np.where(m > 0, safe.sum(axis=0) / np.maximum(m, 1), np.nan)
    dev = np.where(ok, values - mean, 0.0)
    sd = np.sqrt((dev ** 2).sum(axis=0) / np.maximum(m - 1, 1))
    q = stats.t.ppf(0.975, np.maximum(m - 1, 1))
    half = np.where(m >= 2, q * sd / np.sqrt(np.maximum(m, 1)), np.nan)
    return mean, mean - half, mean + half


def _ratios(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(c["offered"] > 0, c["offered"], np.nan)
        ans = np.where(c["answered"] > 0, c["answered"], np.nan)
        settled = c["answered"] + c["abandoned"]
        return {
            "service_level": c["answered_within_t"] / off,
            "asa_s": c["wait_answered_s"] / ans,
            "abandon_rate": c["abandoned"] / off,
            "queue_time_s": (c["wait_answered_s"] + c["wait_abandoned_s"])
            / np.where(settled > 0, settled, np.nan),
        }


def _table(counts: dict[str, np.ndarray], base: dict[str, Any]) -> pd.DataFrame:
    out = dict(base)
    for name in _COUNTS:
        out[name] = counts[name].mean(axis=0)
    for name, values in _ratios(counts).items():
        out[name], out[f"{name}_lo_95"], out[f"{name}_hi_95"] = _t_interval(values)
    return pd.DataFrame(out)


# ---------------------------------------------------------------- public entry point

def _draw_volume(draw: VolumeDraw, volume: np.ndarray, day: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    n = volume.size
    lo = _vector("volume_draw.lo", draw.lo, n)
    hi = _vector("volume_draw.hi", draw.hi, n)
    if (hi < lo).any():
        i = int(np.flatnonzero(hi < lo)[0])
        raise SchedulerError(f"volume_draw.hi must be >= lo, got hi={hi[i]} < lo={lo[i]} "
                             f"(interval {i})")
    if not 0 < draw.level < 1:
        raise SchedulerError(f"volume_draw.level must be in (0, 1), got {draw.level!r}")
    if draw.shock not in ("interval", "day"):
        raise SchedulerError(f"volume_draw.shock must be 'interval' or 'day', got {draw.shock!r}")
    z_level = stats.norm.ppf(0.5 + draw.level / 2)
    z = (rng.standard_normal(n) if draw.shock == "interval"
         else rng.standard_normal(int(day.max()) + 1)[day])
    if draw.dist == "lognormal":
        if ((lo <= 0) & (hi > 0)).any():
            i = int(np.flatnonzero((lo <= 0) & (hi > 0))[0])
            raise SchedulerError(f"volume_draw.lo must be > 0 where hi > 0 for a lognormal, got "
                                 f"{lo[i]} (interval {i}); use dist='normal'")
        pos = hi > 0
        mu = np.where(pos, 0.5 * (np.log(np.where(pos, lo, 1)) + np.log(np.where(pos, hi, 1))), 0)
        sigma = np.where(pos, (np.log(np.where(pos, hi, 1)) - np.log(np.where(pos, lo, 1)))
                         / (2 * z_level), 0)
        return np.where(pos, np.exp(mu + sigma * z), 0.0)
    if draw.dist == "normal":
        return np.maximum((lo + hi) / 2 + (hi - lo) / (2 * z_level) * z, 0.0)
    raise SchedulerError(f"volume_draw.dist must be 'lognormal' or 'normal', got {draw.dist!r}")


def simulate_queue(volume: Any, interval_s: float, agents: Any, *, aht_s: Any,
                   sl_seconds: float, handle_dist: str = "exponential",
                   handle_cv: float = 1.0, patience_s: Any = None, seed: int = 0,
                   replications: int = 20, volume_draw: VolumeDraw | None = None,
                   start: pd.Timestamp | str | None = None,
                   expected: Mapping[str, Any] | None = None) -> SimulationResult:
    """Simulate a queue over consecutive intervals and summarise per interval and day.

    volume: expected contacts per interval (the Poisson mean; rate = volume / interval_s).
    interval_s: interval length, seconds.
    agents: agents at work per interval (whole numbers, already net of breaks), or a
        `StaffingSteps` with exact change times.
    aht_s: mean handle time, seconds, a scalar or one per interval (by arrival interval).
    sl_seconds: service-level threshold T, seconds.
    handle_dist: 'exponential' or 'lognormal' (with coefficient of variation `handle_cv`).
    patience_s: mean of the exponential patience, seconds (scalar or per interval); None
        means nobody abandons.
    seed, replications: each replication uses its own stream spawned from `seed`.
    volume_draw: optionally draw each interval's volume from the forecast interval first.
    start: timestamp of the first interval start; labels intervals (`ds`) and days.
    expected: Erlang figures per interval to report next to the simulation, any of
        'service_level', 'asa_s', 'abandon_rate' -> array (columns ``erlang_<name>``).
    """
    vol = _vector("volume", volume, None)
    if vol.ndim != 1 or vol.size == 0:
        raise SchedulerError(f"volume must be a non-empty 1-D array, got shape {vol.shape}")
    n = vol.size
    if not (isinstance(interval_s, (int, float, np.number)) and math.isfinite(interval_s)
            and interval_s > 0):
        raise SchedulerError(f"interval_s must be a finite number > 0, got {interval_s!r}")
    interval_s = float(interval_s)
    cap_t, cap_v = _capacity(agents, n, interval_s)
    aht = _vector("aht_s", aht_s, n, positive=True)
    sl_t = float(_vector("sl_seconds", sl_seconds, None))
    patience = None if patience_s is None else _vector("patience_s", patience_s, n,
                                                        positive=True)
    if handle_dist not in HANDLE_DISTS:
        raise SchedulerError(f"handle_dist must be one of {', '.join(HANDLE_DISTS)}, got "
                             f"{handle_dist!r}")
    if handle_dist == "lognormal":
        cv = float(_vector("handle_cv", handle_cv, None, positive=True))
        sigma2 = math.log1p(cv * cv)
        log_mu = np.log(aht) - sigma2 / 2
    if not (isinstance(replications, (int, np.integer)) and replications >= 1):
        raise SchedulerError(f"replications must be a whole number >= 1, got {replications!r}")
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise SchedulerError(f"seed must be a whole number >= 0, got {seed!r}")
    exp_cols: dict[str, np.ndarray] = {}
    for key, value in (expected or {}).items():
        if key not in _EXPECTED_KEYS:
            raise SchedulerError(f"expected: unknown measure {key!r}; valid: "
                                 f"{', '.join(_EXPECTED_KEYS)}")
        arr = np.asarray(value, dtype=float)
        if arr.shape != (n,):
            raise SchedulerError(f"expected[{key!r}] has shape {arr.shape}, volume has {n} "
                                 "intervals; lengths must match")
        exp_cols[key] = arr

    start_s = np.arange(n) * interval_s
    t0 = None if start is None else pd.Timestamp(start)
    if t0 is None:
        day = (start_s // 86400).astype(np.int64)
        day_label = np.unique(day)
    else:
        ds = t0 + pd.to_timedelta(start_s, unit="s")
        days_ts = ds.normalize()
        day_label = days_ts.unique()
        day = np.searchsorted(day_label.to_numpy(), days_ts.to_numpy())
    n_days = len(day_label)

    seq = np.random.SeedSequence(seed)
    keys = ("offered", "answered", "answered_within_t", "abandoned", "abandoned_within_t",
            "unanswered", "wait_answered_s", "wait_abandoned_s")
    per_int = {k: np.zeros((replications, n)) for k in keys}
    contacts = 0
    cap_t_list, cap_v_list = cap_t.tolist(), cap_v.tolist()
    for r, child in enumerate(seq.spawn(replications)):
        rng = np.random.default_rng(child)
        lam = vol if volume_draw is None else _draw_volume(volume_draw, vol, day, rng)
        count = rng.poisson(lam)
        idx = np.repeat(np.arange(n), count)
        # Uniform times inside each interval, sorted within it; intervals are disjoint and
        # in order, so one lexsort on (interval, time) sorts the whole horizon.
        t = start_s[idx] + rng.random(idx.size) * interval_s
        order = np.lexsort((t, idx))
        t, idx = t[order], idx[order]
        if handle_dist == "exponential":
            h = rng.exponential(aht[idx])
        else:
            h = rng.lognormal(log_mu[idx], math.sqrt(sigma2))
        pat = None if patience is None else rng.exponential(patience[idx])
        pick = random.Random(int(rng.integers(2 ** 63)))
        s, ab = _run(t.tolist(), h.tolist(), None if pat is None else (t + pat).tolist(),
                     cap_t_list, cap_v_list, pick)
        s = np.asarray(s)
        ab = np.asarray(ab, dtype=bool)
        ans = np.isfinite(s)
        wait = np.where(ans, s - t, 0.0)
        ab_wait = np.where(ab, pat if pat is not None else 0.0, 0.0)

        def tally(mask, weights=None):
            w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
            return np.bincount(idx, weights=w, minlength=n)

        per_int["offered"][r] = count
        per_int["answered"][r] = tally(ans)
        per_int["answered_within_t"][r] = tally(ans & (wait <= sl_t))
        per_int["abandoned"][r] = tally(ab)
        per_int["abandoned_within_t"][r] = tally(ab & (ab_wait <= sl_t))
        per_int["unanswered"][r] = tally(~ans & ~ab)
        per_int["wait_answered_s"][r] = tally(ans, wait)
        per_int["wait_abandoned_s"][r] = tally(ab, ab_wait)
        contacts += idx.size

    base = {"interval": np.arange(n), "start_s": start_s}
    if t0 is not None:
        base["ds"] = ds
    base["volume"] = vol
    base["agents"] = _mean_agents(cap_t, cap_v.astype(float), n, interval_s)
    intervals = _table(per_int, base)
    for key, arr in exp_cols.items():
        intervals[f"erlang_{key}"] = arr

    per_day = {k: np.stack([np.bincount(day, weights=row, minlength=n_days) for row in v])
               for k, v in per_int.items()}
    day_base = {"day": day_label,
                "volume": np.bincount(day, weights=vol, minlength=n_days),
                "agents": np.bincount(day, weights=base["agents"], minlength=n_days)
                / np.bincount(day, minlength=n_days)}
    days = _table(per_day, day_base)
    for key, arr in exp_cols.items():
        w = np.where(np.isfinite(arr), vol, 0.0)
        num = np.bincount(day, weights=np.where(np.isfinite(arr), arr * vol, 0.0),
                          minlength=n_days)
        den = np.bincount(day, weights=w, minlength=n_days)
        with np.errstate(invalid="ignore", divide="ignore"):
            days[f"erlang_{key}"] = np.where(den > 0, num / den, np.nan)
    return SimulationResult(intervals=intervals, days=days, replications=replications,
                            seed=int(seed), contacts=int(contacts))


# ---------------------------------------------------------------- a plan folder

class PlanError(SchedulerError):
    """A plan folder file breaks its contract; the message names file, row, column, value."""


@dataclass(frozen=True)
class PlanSimulation:
    """`simulate_plan` result: `intervals` and `days` as in `SimulationResult` with
    ``unique_id`` first, and `skipped` = {queue: reason} for queues not simulated."""

    intervals: pd.DataFrame
    days: pd.DataFrame
    replications: int
    seed: int
    contacts: int
    skipped: dict[str, str]


def _read_csv(path, needed: tuple[str, ...]) -> pd.DataFrame:
    return read_table(path, "file", error=PlanError, required=needed,
                      not_found=" (a plan folder written by `staffcast schedule`/`plan` "
                                "holds it)").frame


def _at(path, i: int, column: str) -> str:
    return f"{path}: data row {i + 1} (line {i + 2}), column {column!r}"


def _times(raw: pd.DataFrame, col: str, path) -> pd.Series:
    parsed = pd.to_datetime(raw[col].str.strip(), errors="coerce", format="mixed")
    if parsed.isna().any():
        # Row numbers of the file, also when `raw` is a filtered subset of it.
        i = int(raw.index[np.flatnonzero(parsed.isna())[0]])
        raise PlanError(f"{_at(path, i, col)}: cannot read {raw[col].loc[i]!r} as a "
                        "timestamp (YYYY-MM-DD HH:MM, naive local time)")
    return parsed


def _numbers(raw: pd.DataFrame, col: str, path, *, required: bool) -> pd.Series:
    text = raw[col].str.strip()
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    bad = values.isna() & ((text != "") | required)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PlanError(f"{_at(path, i, col)}: must be a number, got {raw[col].iloc[i]!r}")
    return values.astype(float)


def _queue_setting(rows: pd.DataFrame, col: str, queue: str, path) -> float | None:
    """A per-queue setting echoed on every requirement row: one value, or None if blank."""
    if col not in rows.columns:
        return None
    values = rows[col].dropna().unique()
    if len(values) > 1:
        raise PlanError(f"{path}: column {col!r} of queue {queue!r} must be one value, got "
                        f"{sorted(values)[:5]}")
    return float(values[0]) if len(values) else None


def _work_steps(work: pd.DataFrame, t0: pd.Timestamp, horizon_s: float) -> StaffingSteps:
    """Agents at work as a step function from WORK segments (start, end timestamps)."""
    if work.empty:
        return StaffingSteps(np.array([0.0]), np.array([0]))
    s = ((work["start"] - t0).dt.total_seconds().to_numpy()).clip(0, horizon_s)
    e = ((work["end"] - t0).dt.total_seconds().to_numpy()).clip(0, horizon_s)
    keep = e > s
    times = np.r_[s[keep], e[keep]]
    step = np.r_[np.ones(keep.sum()), -np.ones(keep.sum())]
    uniq, inv = np.unique(times, return_inverse=True)
    level = np.cumsum(np.bincount(inv, weights=step))
    times, level = np.r_[0.0, uniq], np.r_[0.0, level]
    # Keep the last level set at each time (a time 0 change overrides the initial 0).
    last = np.r_[times[1:] != times[:-1], True]
    return StaffingSteps(times[last], np.round(level[last]).astype(np.int64))


def _stack(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True).astype({"unique_id": "string"})


FORECAST_BAND = ("yhat", "yhat_lo_80", "yhat_hi_80")


def _forecast_band(forecast: pd.DataFrame, queue: str, ds: pd.Series,
                   volume: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 80% band of each requirement interval's volume: the interval's volume times
    yhat_lo_80 / yhat and yhat_hi_80 / yhat of the forecast row it falls in (the forecast
    is usually hourly and the requirement half-hourly, so the ratio carries over)."""
    rows = forecast[forecast["unique_id"] == queue].sort_values("ds")
    if rows.empty:
        raise PlanError(f"forecast: no rows for queue {queue!r}")
    step = rows["ds"].diff().min() if len(rows) > 1 else pd.Timedelta(0)
    hit = pd.merge_asof(pd.DataFrame({"at": ds.to_numpy()}), rows, left_on="at",
                        right_on="ds", direction="backward")
    outside = hit["ds"].isna() | (hit["at"] - hit["ds"] > step)
    if outside.any():
        raise PlanError(f"forecast: queue {queue!r} has no row covering "
                        f"{hit['at'][outside].iloc[0]:%Y-%m-%d %H:%M}")
    yhat = hit["yhat"].to_numpy()
    pos = yhat > 0
    lo_ratio = np.where(pos, hit["yhat_lo_80"].to_numpy() / np.where(pos, yhat, 1.0), 1.0)
    hi_ratio = np.where(pos, hit["yhat_hi_80"].to_numpy() / np.where(pos, yhat, 1.0), 1.0)
    return volume * np.maximum(lo_ratio, 0.0), volume * np.maximum(hi_ratio, lo_ratio)


def simulate_plan(plan_dir, *, replications: int = 20, seed: int = 0,
                  handle_dist: str = "exponential", handle_cv: float = 1.0,
                  sl_seconds: float | None = None, patience_s: float | None = None,
                  interval_minutes: int | None = None, forecast: pd.DataFrame | None = None,
                  volume_shock: Literal["interval", "day"] = "day") -> PlanSimulation:
    """Simulate every queue of a plan folder (`requirements.csv`, `roster.csv`,
    `activities.csv`) over its horizon.

    Agents at work come from the WORK segments of activities.csv, exactly (an agent counts
    from the segment start to its end, to the second); each segment belongs to the queue of
    the roster shift containing it. Volume and `aht_s` per interval come from
    requirements.csv; `sl_seconds` and `patience_s` from its echoed columns unless given
    here (a blank patience means nobody abandons). Chat queues (`concurrency` > 1) are
    simulated as `agents x concurrency` slots, which is how requirements.csv staffs them
    (its `aht_s` is the slot holding time). Ticket queues (`response_hours` set) have no
    queue to simulate and are listed in `skipped`. The interval length is the smallest gap
    between a queue's `ds` values, or `interval_minutes`.
    The Erlang expectation next to each interval is Erlang C (Erlang A with patience) at the
    whole agents at work, rounded down (as coverage.csv's service_level).
    forecast: optionally ``unique_id, ds, yhat, yhat_lo_80, yhat_hi_80`` (one model): each
    replication then draws the volumes from the 80% forecast band (a lognormal;
    `volume_shock` 'day' shares one shock per day, 'interval' draws each independently)
    before the Poisson arrivals, so forecast error is part of the simulated SL.
    """
    folder = Path(plan_dir)
    if not folder.is_dir():
        raise PlanError(f"{folder}: plan folder not found")
    req_path, roster_path, act_path = (folder / f for f in
                                       ("requirements.csv", "roster.csv", "activities.csv"))
    raw = _read_csv(req_path, ("unique_id", "ds", "volume", "aht_s"))
    if raw.empty:
        raise PlanError(f"{req_path}: no data rows")
    req = pd.DataFrame({"unique_id": raw["unique_id"].str.strip(),
                        "ds": _times(raw, "ds", req_path)})
    for col in ("volume", "aht_s"):
        req[col] = _numbers(raw, col, req_path, required=True)
    # agents_required lets a multi-skill roster's allocation follow what each queue needs.
    for col in ("sl_seconds", "patience_s", "concurrency", "response_hours", "agents_required"):
        if col in raw.columns:
            req[col] = _numbers(raw, col, req_path, required=False)
    rraw = _read_csv(roster_path, ("agent_id", "shift_start", "shift_end", "queue"))
    roster = pd.DataFrame({"agent_id": rraw["agent_id"].str.strip(),
                           "shift_start": _times(rraw, "shift_start", roster_path),
                           "shift_end": _times(rraw, "shift_end", roster_path),
                           "queue": rraw["queue"].str.strip()})
    araw = _read_csv(act_path, ("agent_id", "start", "end", "activity"))
    work = araw[araw["activity"].str.strip().str.upper() == "WORK"]
    acts = pd.DataFrame({"agent_id": work["agent_id"].str.strip(),
                         "start": _times(work, "start", act_path),
                         "end": _times(work, "end", act_path), "activity": "WORK"})
    return simulate_frames(req, roster, acts, replications=replications, seed=seed,
                           handle_dist=handle_dist, handle_cv=handle_cv,
                           sl_seconds=sl_seconds, patience_s=patience_s,
                           interval_minutes=interval_minutes, forecast=forecast,
                           volume_shock=volume_shock,
                           sources=(req_path, roster_path, act_path))


def _ns_times(values: pd.Series) -> np.ndarray:
    """Timestamps at one resolution (nanoseconds), whether parsed from text or built."""
    return pd.to_datetime(values).to_numpy().astype("datetime64[ns]")


def simulate_frames(requirement: pd.DataFrame, roster: pd.DataFrame, activities: pd.DataFrame,
                    *, replications: int = 20, seed: int = 0,
                    handle_dist: str = "exponential", handle_cv: float = 1.0,
                    sl_seconds: float | None = None, patience_s: float | None = None,
                    interval_minutes: int | None = None, forecast: pd.DataFrame | None = None,
                    volume_shock: Literal["interval", "day"] = "day",
                    sources: tuple[Any, Any, Any] = ("requirements", "roster", "activities")
                    ) -> PlanSimulation:
    """`simulate_plan` of a plan held in memory: `requirement` (`unique_id, ds, volume,
    aht_s` and optionally the echoed `sl_seconds, patience_s, concurrency,
    response_hours`), `roster` (`agent_id, shift_start, shift_end, queue`) and
    `activities` (`agent_id, start, end, activity`; only WORK segments count). Timestamps
    are naive local times, aht_s and sl_seconds in seconds. `sources` name the three
    tables in errors (the plan folder's files when read from one)."""
    req_path, roster_path, act_path = sources
    if forecast is not None:
        missing = [c for c in ("unique_id", "ds", *FORECAST_BAND) if c not in forecast.columns]
        if missing:
            raise PlanError(f"forecast: missing column(s) {', '.join(missing)}")
        forecast = forecast.assign(unique_id=forecast["unique_id"].astype(str),
                                   ds=_ns_times(forecast["ds"]))
    for name, frame, needed in ((req_path, requirement, ("unique_id", "ds", "volume", "aht_s")),
                                (roster_path, roster, ("agent_id", "shift_start", "shift_end",
                                                       "queue")),
                                (act_path, activities, ("agent_id", "start", "end", "activity"))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise PlanError(f"{name}: missing column(s) {', '.join(missing)}")
    if requirement.empty:
        raise PlanError(f"{req_path}: no data rows")
    settings = [c for c in ("sl_seconds", "patience_s", "concurrency", "response_hours")
                if c in requirement.columns]
    req = pd.DataFrame({"unique_id": requirement["unique_id"].astype(str).str.strip()
                        .to_numpy(dtype=object),
                        "ds": _ns_times(requirement["ds"])})
    for col in ("volume", "aht_s", *settings):
        req[col] = pd.to_numeric(requirement[col]).astype(float).to_numpy()
    if "agents_required" in requirement.columns:
        req["agents_required"] = pd.to_numeric(requirement["agents_required"],
                                               errors="coerce").astype(float).to_numpy()
    blank = req["unique_id"] == ""
    if blank.any():
        raise PlanError(f"{_at(req_path, int(np.flatnonzero(blank)[0]), 'unique_id')}: must "
                        "not be blank")
    dup = req.duplicated(["unique_id", "ds"])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise PlanError(f"{_at(req_path, i, 'ds')}: queue {req['unique_id'].iloc[i]!r} has "
                        f"{req['ds'].iloc[i]:%Y-%m-%d %H:%M} twice")
    if interval_minutes is None:
        gaps = (req.sort_values(["unique_id", "ds"]).groupby("unique_id")["ds"].diff()
                .dropna())
        if gaps.empty:
            raise PlanError(f"{req_path}: one row per queue, so the interval length is "
                            "unknown; pass interval_minutes")
        interval_s = float(gaps.min().total_seconds())
    else:
        if not (isinstance(interval_minutes, int) and interval_minutes > 0):
            raise PlanError(f"interval_minutes must be a whole number > 0, got "
                            f"{interval_minutes!r}")
        interval_s = interval_minutes * 60.0

    roster = pd.DataFrame({"agent_id": roster["agent_id"].astype(str).to_numpy(dtype=object),
                           "shift_start": _ns_times(roster["shift_start"]),
                           "shift_end": _ns_times(roster["shift_end"]),
                           "queue": roster["queue"].astype(str).to_numpy(dtype=object)})
    work = activities[activities["activity"].astype(str).str.strip().str.upper() == "WORK"]
    acts = pd.DataFrame({"agent_id": work["agent_id"].astype(str).to_numpy(dtype=object),
                         "start": _ns_times(work["start"]),
                         "end": _ns_times(work["end"])})
    # Each WORK segment takes the queue of the agent's shift that contains it.
    shifts = roster.sort_values("shift_start")
    acts = acts.sort_values("start")
    acts = pd.merge_asof(acts, shifts, left_on="start", right_on="shift_start",
                         by="agent_id", direction="backward")
    orphan = acts["queue"].isna() | (acts["end"] > acts["shift_end"])
    if orphan.any():
        row = acts[orphan].iloc[0]
        raise PlanError(f"{act_path}: WORK segment of agent {row['agent_id']!r} from "
                        f"{row['start']:%Y-%m-%d %H:%M} lies in no shift of {roster_path}")
    unknown = sorted(set(acts["queue"]) - set(req["unique_id"]))
    if unknown and all(set(q.split(";")) <= set(req["unique_id"]) for q in unknown):
        # A multi-skill roster: its `queue` cells are skill sets; route contacts by skill.
        from .simulate_skills import simulate_pooled_plan

        return simulate_pooled_plan(req, req, acts, interval_s, req_path,
                                    replications=replications, seed=seed,
                                    sl_seconds=sl_seconds, patience_s=patience_s,
                                    handle_dist=handle_dist, forecast=forecast)
    if unknown:
        known = ", ".join(sorted(req["unique_id"].unique()))
        raise PlanError(f"{roster_path}: queue(s) {', '.join(unknown[:5])} have no rows in "
                        f"{req_path} (queues there: {known})")

    intervals, days, skipped, contacts = [], [], {}, 0
    for queue, rows in req.groupby("unique_id", sort=True):
        rows = rows.sort_values("ds")
        if (_queue_setting(rows, "response_hours", queue, req_path) or 0) > 0:
            skipped[queue] = "ticket queue (response_hours set): no queue to simulate"
            continue
        t0, t_end = rows["ds"].iloc[0], rows["ds"].iloc[-1]
        n = int(round((t_end - t0).total_seconds() / interval_s)) + 1
        slot = np.round((rows["ds"] - t0).dt.total_seconds().to_numpy() / interval_s)
        if not np.allclose(slot * interval_s, (rows["ds"] - t0).dt.total_seconds()):
            raise PlanError(f"{req_path}: queue {queue!r} has rows off the "
                            f"{interval_s / 60:g}-minute grid")
        slot = slot.astype(np.int64)
        # Gaps (closed hours) are intervals with no volume.
        volume = np.zeros(n)
        volume[slot] = rows["volume"].to_numpy()
        given = rows["aht_s"].to_numpy()
        bad = (given <= 0) & (rows["volume"].to_numpy() > 0)
        if bad.any() or not (given > 0).any():
            i = int(rows.index[np.flatnonzero(bad)[0]]) if bad.any() else int(rows.index[0])
            raise PlanError(f"{_at(req_path, i, 'aht_s')}: must be > 0 where volume > 0, got "
                            f"{req['aht_s'].iloc[i]!r}")
        # Intervals without contacts (closed hours, gaps) need some positive AHT to pass
        # validation; it never applies to a contact.
        aht = np.full(n, float(given[given > 0].mean()))
        aht[slot[given > 0]] = given[given > 0]
        t = sl_seconds if sl_seconds is not None else _queue_setting(rows, "sl_seconds",
                                                                     queue, req_path)
        if t is None or not math.isfinite(t):
            raise PlanError(f"{req_path}: queue {queue!r} has no sl_seconds; pass sl_seconds")
        pat = patience_s if patience_s is not None else _queue_setting(rows, "patience_s",
                                                                       queue, req_path)
        conc = _queue_setting(rows, "concurrency", queue, req_path) or 1.0
        steps = _work_steps(acts[acts["queue"] == queue], t0, n * interval_s)
        steps = StaffingSteps(steps.times_s, (steps.agents * conc).astype(np.int64))
        servers = np.floor(_mean_agents(steps.times_s, steps.agents.astype(float), n,
                                        interval_s) + 1e-9)
        erl = volume * aht / interval_s
        m = queue_measures(servers, erl, aht, t, pat)
        expected = {k: m[k] for k in ("service_level", "asa_s",
                                      *(() if pat is None else ("abandon_rate",)))}
        draw = None
        if forecast is not None:
            grid = pd.Series(t0 + pd.to_timedelta(np.arange(n) * interval_s, unit="s"))
            lo, hi = _forecast_band(forecast, queue, grid, volume)
            # lognormal needs lo > 0; an interval whose band starts at 0 keeps its volume.
            flat = lo <= 0
            draw = VolumeDraw(np.where(flat, volume, lo), np.where(flat, volume, hi),
                              level=0.8, dist="lognormal", shock=volume_shock)
        res = simulate_queue(volume, interval_s, steps, aht_s=aht, sl_seconds=t,
                             handle_dist=handle_dist, handle_cv=handle_cv, patience_s=pat,
                             seed=seed, replications=replications, start=t0,
                             expected=expected, volume_draw=draw)
        for frame, out in ((res.intervals, intervals), (res.days, days)):
            frame.insert(0, "unique_id", queue)
            if conc != 1:
                frame["agents"] = frame["agents"] / conc
            out.append(frame)
        contacts += res.contacts
    if not intervals:
        reasons = "; ".join(f"{q}: {r}" for q, r in skipped.items())
        raise PlanError(f"{req_path}: no queue to simulate ({reasons})")
    return PlanSimulation(intervals=_stack(intervals), days=_stack(days), replications=replications,
                          seed=seed, contacts=contacts, skipped=skipped)

"""Discrete-event simulation of several queues served by skill groups (a pooled roster).

The single-queue model of `staffcast.scheduler.simulate` (Poisson arrivals with a piecewise-constant
rate, exponential or lognormal handle times, optional exponential patience, agents at work
as exact step functions, no arrivals after the horizon) with skill-based routing:

- A *group* is the agents sharing one skill set (a roster `queue` label such as
  "aftersales;presales"); it serves every queue of its set.
- **Each queue's ordered agent groups**: an arriving contact goes to an idle agent of the
  first group with one, groups ordered by how few queues they serve (specialists first, so
  versatile agents stay free for the queues only they can take), then by label.
- **Each group's queue priority**: an agent who becomes free takes, among the queues of
  its group, the contact that has waited longest (first come, first served across its
  queues).
- When a group's agents at work fall, idle agents leave at once; otherwise the group's
  next busy agents to finish leave (nobody is cut off). The single-queue simulator picks
  the leaving busy agent at random instead; with exponential handle times both leave the
  same capacity on average.

Times are seconds from the start of the first interval; everything is seeded.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import SchedulerError
from .pooling import label_queues
from .simulate import (SimulationResult, StaffingSteps, _capacity, _mean_agents,
                                _table)


def _route(arrive, queue_of, handle, deadline, changes, group_queues, queue_groups, n_queues):
    """One replication's event loop. `changes`: (time, group, agents at work from then)
    sorted by time. Returns (start time or NaN, abandoned flag) per contact."""
    n = len(arrive)
    start = [math.nan] * n
    abandoned = [False] * n
    n_groups = len(group_queues)
    idle = [0] * n_groups
    cap = [0] * n_groups
    owed = [0] * n_groups  # busy agents of the group who leave when their contact ends
    waiting = [deque() for _ in range(n_queues)]
    heap: list[tuple[float, int, int]] = []
    token = 0
    inf = math.inf

    def head(q: int, now: float):
        line = waiting[q]
        while line:
            j = line[0]
            if deadline is not None and deadline[j] < now:
                abandoned[j] = True
                line.popleft()
                continue
            return j
        return None

    def take(g: int, now: float) -> bool:
        nonlocal token
        best, best_q = None, -1
        for q in group_queues[g]:
            j = head(q, now)
            if j is not None and (best is None or arrive[j] < arrive[best]):
                best, best_q = j, q
        if best is None:
            return False
        waiting[best_q].popleft()
        start[best] = now
        token += 1
        heapq.heappush(heap, (now + handle[best], token, g))
        return True

    i = k = 0
    n_changes = len(changes)
    while True:
        ta = arrive[i] if i < n else inf
        tc = heap[0][0] if heap else inf
        tk = changes[k][0] if k < n_changes else inf
        if tc <= tk and tc <= ta:
            if tc == inf:
                break
            _, _, g = heapq.heappop(heap)
            if owed[g]:
                owed[g] -= 1
            elif not take(g, tc):
                idle[g] += 1
        elif tk <= ta:
            _, g, new = changes[k]
            k += 1
            delta = new - cap[g]
            cap[g] = new
            if delta > 0:
                back = min(owed[g], delta)
                owed[g] -= back
                idle[g] += delta - back
                while idle[g] and take(g, tk):
                    idle[g] -= 1
            else:
                gone = min(-delta, idle[g])
                idle[g] -= gone
                owed[g] += -delta - gone
        else:
            j, q = i, queue_of[i]
            i += 1
            for g in queue_groups[q]:
                if idle[g]:
                    idle[g] -= 1
                    start[j] = ta
                    token += 1
                    heapq.heappush(heap, (ta + handle[j], token, g))
                    break
            else:
                waiting[q].append(j)
    for line in waiting:
        for j in line:
            if deadline is not None:
                abandoned[j] = True
    return start, abandoned


def simulate_skills(volume: Mapping[str, np.ndarray], interval_s: float,
                    groups: Mapping[str, StaffingSteps], *, aht_s: Mapping[str, np.ndarray],
                    sl_seconds: Mapping[str, float],
                    patience_s: Mapping[str, float | None] | None = None, seed: int = 0,
                    replications: int = 20, start: pd.Timestamp | None = None,
                    expected: Mapping[str, Mapping[str, np.ndarray]] | None = None
                    ) -> dict[str, SimulationResult]:
    """Simulate the queues of `volume` (contacts per interval, one array of n intervals per
    queue) served by the skill groups of `groups` (label "a;b" -> agents at work as exact
    steps) with skill-based routing (module notes). Handle times are exponential with the
    arrival interval's `aht_s` of the queue; `patience_s` per queue (None: nobody
    abandons). Returns one `SimulationResult` per queue, as `staffcast.scheduler.simulate.
    simulate_queue` reports it; its `agents` column is the time-averaged number at work of
    the groups able to serve the queue (shared agents count in every queue they serve)."""
    queues = list(volume)
    n = len(next(iter(volume.values())))
    labels = sorted(groups, key=lambda g: (len(label_queues(g)), g))
    q_no = {q: i for i, q in enumerate(queues)}
    group_queues = [[q_no[q] for q in label_queues(g) if q in q_no] for g in labels]
    queue_groups = [[g for g, qs in enumerate(group_queues) if i in qs]
                    for i in range(len(queues))]
    steps = {g: _capacity(groups[g], n, interval_s) for g in labels}
    changes = sorted(((float(t), gi, int(v)) for gi, g in enumerate(labels)
                      for t, v in zip(*steps[g])), key=lambda c: (c[0], c[1]))
    patience = {q: (patience_s or {}).get(q) for q in queues}
    if any(p is not None and not p > 0 for p in patience.values()):
        raise SchedulerError(f"patience_s must be > 0 or None, got {patience}")
    start_s = np.arange(n) * interval_s
    keys = ("offered", "answered", "answered_within_t", "abandoned", "abandoned_within_t",
            "unanswered", "wait_answered_s", "wait_abandoned_s")
    per_int = {q: {k: np.zeros((replications, n)) for k in keys} for q in queues}
    for r, child in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        rng = np.random.default_rng(child)
        times, qs, idxs = [], [], []
        for qi, q in enumerate(queues):
            count = rng.poisson(np.asarray(volume[q], dtype=float))
            idx = np.repeat(np.arange(n), count)
            times.append(start_s[idx] + rng.random(idx.size) * interval_s)
            qs.append(np.full(idx.size, qi))
            idxs.append(idx)
        t, qa, idx = np.concatenate(times), np.concatenate(qs), np.concatenate(idxs)
        order = np.argsort(t, kind="stable")
        t, qa, idx = t[order], qa[order], idx[order]
        aht = np.array([np.asarray(aht_s[queues[q]], dtype=float)[i] for q, i in zip(qa, idx)])
        h = rng.exponential(aht) if len(aht) else aht
        pat_mean = np.array([patience[queues[q]] or np.inf for q in qa])
        has_patience = any(p is not None for p in patience.values())
        pat = rng.exponential(np.where(np.isfinite(pat_mean), pat_mean, 1.0)) if len(t) else t
        pat = np.where(np.isfinite(pat_mean), pat, np.inf)
        deadline = (t + pat).tolist() if has_patience else None
        s, ab = _route(t.tolist(), qa.tolist(), h.tolist(), deadline, changes, group_queues,
                       queue_groups, len(queues))
        s, ab = np.asarray(s, dtype=float), np.asarray(ab, dtype=bool)
        ans = np.isfinite(s)
        wait = np.where(ans, s - t, 0.0)
        ab_wait = np.where(ab, pat, 0.0)
        for qi, q in enumerate(queues):
            mine = qa == qi
            sl_t = float(sl_seconds[q])

            def tally(mask, weights=None):
                w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
                return np.bincount(idx[mine], weights=w[mine], minlength=n)

            c = per_int[q]
            c["offered"][r] = tally(np.ones(len(t), bool))
            c["answered"][r] = tally(ans)
            c["answered_within_t"][r] = tally(ans & (wait <= sl_t))
            c["abandoned"][r] = tally(ab)
            c["abandoned_within_t"][r] = tally(ab & (ab_wait <= sl_t))
            c["unanswered"][r] = tally(~ans & ~ab)
            c["wait_answered_s"][r] = tally(ans, wait)
            c["wait_abandoned_s"][r] = tally(ab, ab_wait)
    out = {}
    t0 = None if start is None else pd.Timestamp(start)
    for qi, q in enumerate(queues):
        able = [labels[g] for g in queue_groups[qi]]
        agents = sum((_mean_agents(*steps[g], n, interval_s) for g in able), np.zeros(n))
        out[q] = _summarise(per_int[q], np.asarray(volume[q], dtype=float), agents, start_s,
                            t0, (expected or {}).get(q, {}), replications, seed)
    return out


def _summarise(per_int, vol, agents, start_s, t0, expected, replications, seed
               ) -> SimulationResult:
    n = len(vol)
    base = {"interval": np.arange(n), "start_s": start_s}
    if t0 is None:
        day = (start_s // 86400).astype(np.int64)
        day_label = np.unique(day)
    else:
        ds = t0 + pd.to_timedelta(start_s, unit="s")
        base["ds"] = ds
        day_label = ds.normalize().unique()
        day = np.searchsorted(day_label.to_numpy(), ds.normalize().to_numpy())
    base["volume"] = vol
    base["agents"] = agents
    intervals = _table(per_int, base)
    for key, arr in expected.items():
        intervals[f"erlang_{key}"] = arr
    n_days = len(day_label)
    per_day = {k: np.stack([np.bincount(day, weights=row, minlength=n_days) for row in v])
               for k, v in per_int.items()}
    days = _table(per_day, {"day": day_label,
                            "volume": np.bincount(day, weights=vol, minlength=n_days),
                            "agents": np.bincount(day, weights=agents, minlength=n_days)
                            / np.bincount(day, minlength=n_days)})
    for key, arr in expected.items():
        ok = np.isfinite(arr)
        num = np.bincount(day, weights=np.where(ok, arr * vol, 0.0), minlength=n_days)
        den = np.bincount(day, weights=np.where(ok, vol, 0.0), minlength=n_days)
        with np.errstate(invalid="ignore", divide="ignore"):
            days[f"erlang_{key}"] = np.where(den > 0, num / den, np.nan)
    contacts = int(per_int["offered"].sum())
    return SimulationResult(intervals=intervals, days=days, replications=replications,
                            seed=int(seed), contacts=contacts)


def simulate_pooled_plan(req: pd.DataFrame, raw: pd.DataFrame, acts: pd.DataFrame,
                         interval_s: float, req_path, *, replications: int, seed: int,
                         sl_seconds: float | None, patience_s: float | None,
                         handle_dist: str, forecast: pd.DataFrame | None):
    """`staffcast.scheduler.simulate.simulate_plan` for a roster whose `queue` cells are skill sets:
    every queue of requirements.csv on one grid, each WORK segment counted in its agent's
    skill group, contacts routed by skill (`simulate_skills`). The Erlang figure next to
    each interval is Erlang C (Erlang A with patience) of the agents the plan allocates to
    the queue (the max-flow allocation of `staffcast.scheduler.pooling.allocate` on the groups'
    time-averaged agents at work, rounded down), i.e. the plan's own figure."""
    from .erlang import asa_s as erlang_asa
    from .erlang import erlang_a_metrics
    from .erlang import service_level as erlang_sl
    from .pooling import allocate
    from .simulate import PlanError, PlanSimulation, _queue_setting, _stack, _work_steps

    if handle_dist != "exponential" or forecast is not None:
        raise PlanError(f"{req_path}: a multi-skill roster is simulated with exponential "
                        "handle times and Poisson volumes only (no --handle-dist lognormal, "
                        "no --forecast band)")
    t0, t_end = req["ds"].min(), req["ds"].max()
    n = int(round((t_end - t0).total_seconds() / interval_s)) + 1
    queues, skipped = [], {}
    volume, aht, sl, patience, need = {}, {}, {}, {}, {}
    for queue, rows in req.groupby("unique_id", sort=True):
        if (_queue_setting(rows, "response_hours", queue, req_path) or 0) > 0:
            skipped[queue] = "ticket queue (response_hours set): no queue to simulate"
            continue
        if (_queue_setting(rows, "concurrency", queue, req_path) or 1.0) != 1.0:
            raise PlanError(f"{req_path}: queue {queue!r} has concurrency > 1; a multi-skill "
                            "roster is simulated for one contact per agent at a time")
        slot = np.round((rows["ds"] - t0).dt.total_seconds().to_numpy() / interval_s)
        slot = slot.astype(np.int64)
        volume[queue] = np.zeros(n)
        volume[queue][slot] = rows["volume"].to_numpy()
        given = rows["aht_s"].to_numpy()
        aht[queue] = np.full(n, float(given[given > 0].mean()) if (given > 0).any() else 1.0)
        aht[queue][slot[given > 0]] = given[given > 0]
        t = sl_seconds if sl_seconds is not None else _queue_setting(rows, "sl_seconds",
                                                                     queue, req_path)
        if t is None or not math.isfinite(t):
            raise PlanError(f"{req_path}: queue {queue!r} has no sl_seconds; pass sl_seconds")
        sl[queue] = float(t)
        patience[queue] = (patience_s if patience_s is not None
                           else _queue_setting(rows, "patience_s", queue, req_path))
        need[queue] = np.full(n, np.nan)
        if "agents_required" in raw.columns:
            need[queue][slot] = pd.to_numeric(raw.loc[rows.index, "agents_required"],
                                              errors="coerce").to_numpy(float)
        queues.append(queue)
    if not queues:
        raise PlanError(f"{req_path}: no queue to simulate")
    groups = {g: _work_steps(acts[acts["queue"] == g], t0, n * interval_s)
              for g in sorted(set(acts["queue"]))}
    labels = list(groups)
    members = np.array([[q in label_queues(g) for q in queues] for g in labels], dtype=bool)
    mean_at_work = np.array([_mean_agents(groups[g].times_s, groups[g].agents.astype(float),
                                          n, interval_s) for g in labels])
    required = np.array([need[q] for q in queues])
    served = allocate(mean_at_work[members.any(axis=1)], members[members.any(axis=1)],
                      required) if labels else np.zeros((len(queues), n))
    expected = {}
    for qi, q in enumerate(queues):
        servers = np.floor(served[qi] + 1e-9)
        erl = volume[q] * aht[q] / interval_s
        if patience[q] is None:
            expected[q] = {"service_level": erlang_sl(servers, erl, aht[q], sl[q]),
                           "asa_s": erlang_asa(servers, erl, aht[q])}
        else:
            m = erlang_a_metrics(servers, erl, aht[q], patience[q], sl[q])
            expected[q] = {k: m[k] for k in ("service_level", "asa_s", "abandon_rate")}
    results = simulate_skills(volume, interval_s, groups, aht_s=aht, sl_seconds=sl,
                              patience_s=patience, seed=seed, replications=replications,
                              start=t0, expected=expected)
    intervals, days, contacts = [], [], 0
    for q, res in results.items():
        for frame, out in ((res.intervals, intervals), (res.days, days)):
            frame.insert(0, "unique_id", q)
            out.append(frame)
        contacts += res.contacts
    return PlanSimulation(intervals=_stack(intervals), days=_stack(days),
                          replications=replications, seed=seed, contacts=contacts,
                          skipped=skipped)

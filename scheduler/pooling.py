"""Multi-skill pooling: skill sets, the agents' caps on the plan, and the allocation of the
agents at work to the queues they can serve.

A *skill set* is a sorted tuple of queue names; its label joins them with ";"
("aftersales;presales"), which is what a pooled tour carries in the queue slot of its model
keys and in roster.csv's `queue` column. A single-queue label is the queue's own name, so a
single-skill plan is the special case where every skill set has one queue.

Counts are agents (heads at work); allocations may be fractional (an agent may split an
interval between queues).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

SEPARATOR = ";"
FLOW_SCALE = 1000
"""Max-flow capacities are integers: agents and requirements are counted in 1/1000 agent."""


def skill_label(queues: Iterable[str]) -> str:
    """The label of a skill set: its queue names sorted and joined by ';'."""
    return SEPARATOR.join(sorted(set(queues)))


def label_queues(label: str) -> tuple[str, ...]:
    """The queues of a skill-set label (a plain queue name is a one-queue set)."""
    return tuple(q for q in str(label).split(SEPARATOR) if q)


def agent_skill_set(skills: Iterable[str], queues: Sequence[str]) -> tuple[str, ...]:
    """The planned queues an agent can serve: `skills` (empty = every queue) restricted to
    `queues`, sorted."""
    skills = set(skills)
    return tuple(sorted(q for q in queues if not skills or q in skills))


def skill_sets(agents: Sequence, queues: Sequence[str]) -> list[tuple[str, ...]]:
    """The distinct non-empty skill sets of `agents` (objects with `.queues`) over the
    planned `queues`, smallest first, then by label."""
    found = {agent_skill_set(a.queues, queues) for a in agents}
    found.discard(())
    return sorted(found, key=lambda s: (len(s), skill_label(s)))


def allocate(counts: np.ndarray, members: np.ndarray, required: np.ndarray) -> np.ndarray:
    """Allocate the agents at work of each skill set to the queues it serves, per column.

    counts: (n_sets, n) agents at work per skill set and time slot.
    members: (n_sets, n_queues) bool, set s serves queue q.
    required: (n_queues, n) agents required (NaN or <= 0: nothing required).
    Returns (n_queues, n): agents serving each queue. First a maximum flow (source -> set,
    capacity its agents; set -> queue it serves; queue -> sink, capacity its requirement)
    covers as much requirement as any allocation can; then each set's agents left over are
    spread over its queues in proportion to their requirement (evenly when none has one),
    so no agent is dropped and none ever serves a queue outside its set. Each column's
    allocation of a set sums to that set's count.
    """
    counts = np.asarray(counts, dtype=float)
    members = np.asarray(members, dtype=bool)
    need = np.nan_to_num(np.asarray(required, dtype=float), nan=0.0)
    need = np.maximum(need, 0.0)
    n_sets, n = counts.shape
    n_queues = members.shape[1]
    out = np.zeros((n_queues, n))
    flow = np.zeros((n_sets, n_queues, n))
    single = members.sum(axis=1) == 1
    if single.all():
        # No set serves two queues: each set's agents all go to its queue.
        queue_of = members.argmax(axis=1)
        np.add.at(out, queue_of, counts)
        return out
    s_idx, q_idx = np.nonzero(members)
    # Nodes: 0 source, 1..S sets, S+1..S+Q queues, S+Q+1 sink.
    sink = n_sets + n_queues + 1
    rows = np.concatenate([np.zeros(n_sets, int), 1 + s_idx, 1 + n_sets + np.arange(n_queues)])
    cols = np.concatenate([1 + np.arange(n_sets), 1 + n_sets + q_idx,
                           np.full(n_queues, sink)])
    # scipy's maximum_flow takes int32 capacities; a set -> queue edge is unbounded.
    big = np.int32(2**30)
    for t in range(n):
        cap_s = np.round(counts[:, t] * FLOW_SCALE).astype(np.int32)
        cap_q = np.round(need[:, t] * FLOW_SCALE).astype(np.int32)
        if cap_s.sum() == 0 or cap_q.sum() == 0:
            continue
        data = np.concatenate([cap_s, np.full(len(s_idx), big, np.int32), cap_q])
        graph = csr_matrix((data, (rows, cols)), shape=(sink + 1, sink + 1))
        edges = maximum_flow(graph, 0, sink).flow
        flow[s_idx, q_idx, t] = np.asarray(edges[1 + s_idx, 1 + n_sets + q_idx]).ravel()
    flow /= FLOW_SCALE
    out = flow.sum(axis=0)
    left = np.maximum(counts - flow.sum(axis=1), 0.0)       # (n_sets, n)
    weight = members[:, :, None] * need[None, :, :]         # (n_sets, n_queues, n)
    total = weight.sum(axis=1, keepdims=True)
    even = members[:, :, None] / np.maximum(members.sum(axis=1), 1)[:, None, None]
    share = np.where(total > 0, weight / np.where(total > 0, total, 1.0), even)
    out += (share * left[:, None, :]).sum(axis=0)
    return out


def pooled_slots(shifts: pd.DataFrame, requirement: pd.DataFrame, interval_minutes: int, *,
                 cyclic: bool, origin: pd.Timestamp, horizon_minutes: int) -> np.ndarray:
    """Agents serving each requirement row's queue in each sub-slot, shape (rows, k), when
    `shifts`' `queue` holds skill-set labels: the agents at work of every skill set are
    counted at the activity resolution (`staffcast.scheduler.roster.cover_slots`) and allocated to the
    queues per sub-slot by `allocate` against the requirement's `agents_required`."""
    from .roster import cover_slots

    req_q = requirement["unique_id"].astype(str).to_numpy()
    queues = list(dict.fromkeys(req_q))
    labels = list(dict.fromkeys(shifts["queue"].astype(str))) if len(shifts) else []
    stamps = pd.Index(pd.unique(pd.to_datetime(requirement["ds"])))
    if not labels:
        return cover_slots(shifts, requirement, interval_minutes, cyclic=cyclic, origin=origin,
                           horizon_minutes=horizon_minutes)
    grid = pd.DataFrame({"unique_id": np.repeat(labels, len(stamps)),
                         "ds": np.tile(stamps.to_numpy(), len(labels))})
    slots = cover_slots(shifts, grid, interval_minutes, cyclic=cyclic, origin=origin,
                        horizon_minutes=horizon_minutes)
    k = slots.shape[1]
    n_t = len(stamps)
    counts = slots.reshape(len(labels), n_t, k).reshape(len(labels), n_t * k)
    position = {q: i for i, q in enumerate(queues)}
    members = np.zeros((len(labels), len(queues)), dtype=bool)
    for s, label in enumerate(labels):
        for q in label_queues(label):
            if q in position:
                members[s, position[q]] = True
    keep = members.any(axis=1)
    need = np.full((len(queues), n_t), np.nan)
    t_of = stamps.get_indexer(pd.to_datetime(requirement["ds"]))
    q_of = np.array([position[q] for q in req_q], dtype=int)
    need[q_of, t_of] = requirement["agents_required"].to_numpy(dtype=float)
    need_k = np.repeat(need, k, axis=1)
    served = allocate(counts[keep], members[keep], need_k).reshape(len(queues), n_t, k)
    return served[q_of, t_of, :]

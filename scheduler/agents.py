"""Named agents: load the agents CSV and give each weekly tour of the shift plan to one agent.

The shift model decides *which* tours are worked (one tour = one agent's week of shifts);
this module decides *who* works each of them. That is an assignment problem: tours on one
side, agents on the other, a pair allowed only when every hard rule holds (contract, queue
skill, unavailable dates, weekly hour limits, minimum rest and maximum consecutive working
days counted across the previous week). Among the allowed pairings we pick the one with the
most tours staffed and, among those, the least soft cost (preferred days off worked, and
weekend work heaped on the same agents). It is solved exactly with the Hungarian method
(`scipy.optimize.linear_sum_assignment`) on a tours x agents cost matrix where forbidden
pairs cost more than any complete set of allowed ones.

Weekly tours (two or more shifts) go one per agent. Single-shift tours (families without
`days_per_week`, whose shifts the model leaves unbound) are then pooled day by day, each day
one exact assignment onto agents with no shift that day and weekly hours left, so one agent
can collect several of them.

Times are naive local wall-clock timestamps; hours are hours; days are calendar dates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from .errors import SchedulerError
from ..tableio.reader import read_table
from .pooling import label_queues

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = {**{d: i for i, d in enumerate(WEEKDAYS)},
                  **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday",
                                                 "friday", "saturday", "sunday"))}}
WEEKEND = frozenset({5, 6})
"""Weekday numbers (0 = Monday) counted as weekend work for the fairness term."""

DAYS_PER_WEEK = 7
"""A tour is one agent's week; the planning horizon is cut into weeks of this many days."""

AGENT_COLUMNS = ("agent_id", "contract", "min_weekly_hours", "max_weekly_hours", "queues",
                 "unavailable_dates", "preferred_days_off")
_REQUIRED_AGENT_COLUMNS = AGENT_COLUMNS[:4]
TOUR_COLUMNS = ("tour_id", "contract", "queue", "date", "shift_start", "shift_end",
                "paid_hours")

AssignmentStatus = Literal["complete", "partial", "placeholder"]


class AgentsError(SchedulerError):
    """The agents file or an assignment argument breaks a rule; the message says where."""


@dataclass(frozen=True)
class Agent:
    """One named agent.

    `queues` empty means the agent can work every queue; `preferred_days_off` holds weekday
    numbers (0 = Monday); weekly hours are paid hours.
    """

    agent_id: str
    contract: str
    min_weekly_hours: float
    max_weekly_hours: float
    queues: frozenset[str] = frozenset()
    unavailable_dates: frozenset[dt.date] = frozenset()
    preferred_days_off: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise AgentsError("agent_id must not be blank")
        if not (0 <= self.min_weekly_hours <= self.max_weekly_hours):
            raise AgentsError(f"agent {self.agent_id!r}: weekly hours need 0 <= min <= max, got "
                              f"min {self.min_weekly_hours:g}, max {self.max_weekly_hours:g}")


@dataclass(frozen=True)
class Assignment:
    """Who works which tour.

    roster: the assigned tour rows (the tours frame's columns plus `agent_id`), sorted by
        agent then date.
    unassigned_tours: one row per tour nobody could take: `tour_id, contract, queue, dates,
        paid_hours, reason`.
    idle_agents: agents given no tour, in input order.
    status: "complete" (every tour has an agent), "partial" (some tours have none) or
        "placeholder" (no agents file: each tour id stands in as its agent id).
    """

    roster: pd.DataFrame
    unassigned_tours: pd.DataFrame
    idle_agents: tuple[str, ...]
    status: AssignmentStatus
    weeks: int = 1
    method: str = field(default="linear_sum_assignment")


# --------------------------------------------------------------------------- loading

def _row_label(source: str, i: int, column: str) -> str:
    # Data row 1 is the first row under the header, i.e. line 2 of the file.
    return f"{source}: data row {i + 1} (line {i + 2}), column {column!r}"


def _split(value: str) -> list[str]:
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _hours(value: str, where: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        raise AgentsError(f"{where}: must be a number of hours, got {value!r}") from None
    if not math.isfinite(hours) or hours < 0:
        raise AgentsError(f"{where}: must be a finite number >= 0, got {value!r}")
    return hours


def parse_agents(frame: pd.DataFrame, source: str = "agents",
                 contracts: Iterable[str] | None = None) -> tuple[Agent, ...]:
    """Validate an agents table (all cells as text) and return its agents in file order.

    Columns: `agent_id, contract, min_weekly_hours, max_weekly_hours` (required) and
    `queues, unavailable_dates, preferred_days_off` (optional; `;`-separated lists, blank
    queues = every queue). `contracts`, when given, lists the contract types the shift
    families offer; any other contract is an error. Errors name `source`, the data row
    (1 = first row under the header), the column and the value.
    """
    missing = [c for c in _REQUIRED_AGENT_COLUMNS if c not in frame.columns]
    if missing:
        raise AgentsError(f"{source}: missing column(s) {', '.join(missing)}; expected "
                          f"{', '.join(AGENT_COLUMNS)}")
    known = None if contracts is None else sorted(set(contracts))
    seen: dict[str, int] = {}
    agents = []
    for i, row in enumerate(frame.astype("object").fillna("").itertuples(index=False)):
        cells = {c: str(v).strip() for c, v in zip(frame.columns, row)}
        agent_id = cells["agent_id"]
        if not agent_id:
            raise AgentsError(f"{_row_label(source, i, 'agent_id')}: must not be blank")
        if agent_id in seen:
            raise AgentsError(f"{_row_label(source, i, 'agent_id')}: duplicate agent_id "
                              f"{agent_id!r} (first in data row {seen[agent_id] + 1})")
        seen[agent_id] = i
        contract = cells["contract"]
        if known is not None and contract not in known:
            raise AgentsError(f"{_row_label(source, i, 'contract')}: unknown contract "
                              f"{contract!r}; the shift families offer {', '.join(known)}")
        if not contract:
            raise AgentsError(f"{_row_label(source, i, 'contract')}: must not be blank")
        lo = _hours(cells["min_weekly_hours"], _row_label(source, i, "min_weekly_hours"))
        hi = _hours(cells["max_weekly_hours"], _row_label(source, i, "max_weekly_hours"))
        if lo > hi:
            raise AgentsError(f"{_row_label(source, i, 'min_weekly_hours')}: min_weekly_hours "
                              f"{lo:g} exceeds max_weekly_hours {hi:g}")
        dates = set()
        for text in _split(cells.get("unavailable_dates", "")):
            try:
                dates.add(dt.date.fromisoformat(text))
            except ValueError:
                raise AgentsError(f"{_row_label(source, i, 'unavailable_dates')}: dates must be "
                                  f"YYYY-MM-DD separated by ';', got {text!r}") from None
        days = set()
        for text in _split(cells.get("preferred_days_off", "")):
            if text.lower() not in _WEEKDAY_NAMES:
                raise AgentsError(f"{_row_label(source, i, 'preferred_days_off')}: unknown "
                                  f"weekday {text!r}; use {', '.join(WEEKDAYS)}")
            days.add(_WEEKDAY_NAMES[text.lower()])
        agents.append(Agent(agent_id, contract, lo, hi, frozenset(_split(cells.get("queues", ""))),
                            frozenset(dates), frozenset(days)))
    return tuple(agents)


def load_agents(path: str | Path, contracts: Iterable[str] | None = None) -> tuple[Agent, ...]:
    """Read and validate an agents CSV (see `parse_agents`)."""
    table = read_table(path, "agents file", error=AgentsError)
    return parse_agents(table.frame, table.source, contracts)


# --------------------------------------------------------------------------- tours

@dataclass(frozen=True)
class _Tours:
    """One row per tour of one week, as arrays (index = position in `ids`)."""

    ids: np.ndarray            # tour ids (object)
    contract: np.ndarray       # object
    queue: np.ndarray          # object
    hours: np.ndarray          # paid hours of the week, float
    works: np.ndarray          # (n_tours, n_days) bool: works a shift starting on that day
    starts: np.ndarray         # (n_tours, n_days) datetime64[ns] shift starts, NaT when off
    ends: np.ndarray           # (n_tours, n_days) datetime64[ns] shift ends, NaT when off
    first_start: np.ndarray    # datetime64[ns] of the week's first shift start
    min_gap_h: np.ndarray      # smallest rest between two shifts of the tour, hours (inf: one shift)
    longest_run: np.ndarray    # longest run of consecutive worked days inside the week
    lead_run: np.ndarray       # consecutive worked days from the week's first day


def _check_tours(tours: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in TOUR_COLUMNS if c not in tours.columns]
    if missing:
        raise AgentsError(f"tours: missing column(s) {', '.join(missing)}")
    frame = tours.copy()
    for col in ("shift_start", "shift_end"):
        frame[col] = pd.to_datetime(frame[col])
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["tour_id"] = frame["tour_id"].astype(str)
    bad = frame[frame["shift_end"] <= frame["shift_start"]]
    if len(bad):
        raise AgentsError(f"tours: shift_end must be after shift_start, tour "
                          f"{bad['tour_id'].iloc[0]} on {bad['date'].iloc[0]:%Y-%m-%d}")
    dup = frame.duplicated(["tour_id", "date"])
    if dup.any():
        raise AgentsError(f"tours: tour {frame.loc[dup, 'tour_id'].iloc[0]} has two shifts on "
                          f"{frame.loc[dup, 'date'].iloc[0]:%Y-%m-%d}; a tour works at most one "
                          "shift a day")
    for col in ("contract", "queue"):
        n_values = frame.groupby("tour_id")[col].nunique()
        if (n_values > 1).any():
            raise AgentsError(f"tours: tour {n_values[n_values > 1].index[0]} mixes several "
                              f"{col} values; a tour has one {col}")
    return frame.sort_values(["tour_id", "date"], kind="stable").reset_index(drop=True)


def _runs(works: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longest run of True per row, and the run length starting at column 0."""
    run = np.zeros(works.shape[0], dtype=int)
    longest = np.zeros(works.shape[0], dtype=int)
    for d in range(works.shape[1]):
        run = np.where(works[:, d], run + 1, 0)
        longest = np.maximum(longest, run)
    lead = np.argmin(np.concatenate([works, np.zeros((works.shape[0], 1), bool)], axis=1), axis=1)
    return longest, lead


def _week_tours(frame: pd.DataFrame, days: pd.DatetimeIndex) -> _Tours:
    grouped = frame.groupby("tour_id", sort=True)
    ids = np.array(list(grouped.groups), dtype=object)
    first = grouped.first()
    day_pos = ((frame["date"] - days[0]).dt.days).to_numpy()
    tour_pos = pd.Index(ids).get_indexer(frame["tour_id"])
    works = np.zeros((len(ids), len(days)), dtype=bool)
    works[tour_pos, day_pos] = True
    starts = np.full(works.shape, np.datetime64("NaT"), "datetime64[ns]")
    ends = starts.copy()
    starts[tour_pos, day_pos] = frame["shift_start"].to_numpy(dtype="datetime64[ns]")
    ends[tour_pos, day_pos] = frame["shift_end"].to_numpy(dtype="datetime64[ns]")
    gaps = (frame["shift_start"] - grouped["shift_end"].shift()).dt.total_seconds() / 3600.0
    min_gap = gaps.groupby(frame["tour_id"]).min().reindex(ids).fillna(np.inf).to_numpy()
    longest, lead = _runs(works)
    return _Tours(ids=ids, contract=first["contract"].astype(str).to_numpy(dtype=object),
                  queue=first["queue"].astype(str).to_numpy(dtype=object),
                  hours=grouped["paid_hours"].sum().to_numpy(dtype=float), works=works,
                  starts=starts, ends=ends,
                  first_start=grouped["shift_start"].min().to_numpy(dtype="datetime64[ns]"),
                  min_gap_h=min_gap, longest_run=longest, lead_run=lead)


# --------------------------------------------------------------------------- history

@dataclass(frozen=True)
class _Past:
    """What each agent carries into a week from earlier weeks."""

    last_end: np.ndarray       # datetime64[ns], NaT when the agent has no earlier shift
    tail_run: np.ndarray       # consecutive worked days ending the day before the week
    weekend_days: np.ndarray   # weekend days worked so far (fairness)


def _past(history: pd.DataFrame, agent_ids: Sequence[str], week_start: pd.Timestamp) -> _Past:
    n = len(agent_ids)
    if history is None or history.empty:
        return _Past(np.full(n, np.datetime64("NaT"), "datetime64[ns]"), np.zeros(n, int),
                     np.zeros(n, int))
    hist = history[history["date"] < week_start]
    pos = pd.Index(agent_ids).get_indexer(hist["agent_id"])
    keep = pos >= 0
    hist, pos = hist[keep], pos[keep]
    last_end = np.full(n, np.datetime64("NaT"), "datetime64[ns]")
    if len(hist):
        ends = hist.groupby(pos)["shift_end"].max()
        last_end[ends.index.to_numpy()] = ends.to_numpy(dtype="datetime64[ns]")
    weekend = np.bincount(pos, weights=hist["date"].dt.day_of_week.isin(WEEKEND).to_numpy(float),
                          minlength=n).astype(int)
    worked = {(p, d) for p, d in zip(pos, hist["date"])}
    tail = np.zeros(n, dtype=int)
    for p in set(pos):
        day = week_start - pd.Timedelta(days=1)
        while (p, day) in worked:
            tail[p] += 1
            day -= pd.Timedelta(days=1)
    return _Past(last_end, tail, weekend)


def _check_history(history: pd.DataFrame | None) -> pd.DataFrame | None:
    if history is None:
        return None
    missing = [c for c in ("agent_id", "date", "shift_start", "shift_end")
               if c not in history.columns]
    if missing:
        raise AgentsError(f"history: missing column(s) {', '.join(missing)}")
    frame = history[["agent_id", "date", "shift_start", "shift_end"]].copy()
    frame["agent_id"] = frame["agent_id"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["shift_start"] = pd.to_datetime(frame["shift_start"])
    frame["shift_end"] = pd.to_datetime(frame["shift_end"])
    return frame


# --------------------------------------------------------------------------- assignment

def _codes(values: np.ndarray, vocabulary: Sequence[str]) -> np.ndarray:
    return pd.Index(vocabulary).get_indexer(values)


def _reason(t: int, tours: _Tours, agents: Sequence[Agent], rules: Mapping[str, np.ndarray],
            min_rest_hours: float, max_consecutive_days: int, days: pd.DatetimeIndex) -> str:
    """Why tour `t` got no agent: the first rule that leaves nobody, else competition."""
    if tours.min_gap_h[t] < min_rest_hours:
        return (f"the tour itself rests only {tours.min_gap_h[t]:g} h between two shifts "
                f"(min_rest_hours {min_rest_hours:g})")
    if tours.longest_run[t] > max_consecutive_days:
        return (f"the tour itself works {tours.longest_run[t]} consecutive days "
                f"(max_consecutive_days {max_consecutive_days})")
    contract, queue = tours.contract[t], tours.queue[t]
    dates = ", ".join(f"{d:%Y-%m-%d}" for d in days[tours.works[t]])
    steps = (
        ("contract", f"no agent has contract {contract!r}"),
        ("skill", f"no agent with contract {contract!r} works queue {queue!r}"),
        ("available", f"every agent with contract {contract!r} and queue {queue!r} is "
                      f"unavailable on one of its days ({dates})"),
        ("hours", f"its {tours.hours[t]:g} paid hours lie outside the weekly hour range of "
                  "every agent still eligible"),
        ("rest", f"every agent still eligible would rest less than {min_rest_hours:g} h after "
                 "their previous shift"),
        ("consecutive", f"every agent still eligible would work more than "
                        f"{max_consecutive_days} consecutive days counting the previous week"),
    )
    candidates = np.ones(len(agents), dtype=bool)
    for key, message in steps:
        candidates &= rules[key][t]
        if not candidates.any():
            return message
    return (f"all {int(candidates.sum())} agent(s) who could take it were given other tours "
            f"({contract!r}, queue {queue!r}, {tours.hours[t]:g} h, {dates})")


def _latest(block: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per row, the latest non-NaT timestamp of `block` and `fallback` (NaT when none)."""
    # NaT is the smallest int64, so a plain max skips it unless the row has nothing else.
    both = np.concatenate([fallback[:, None], block], axis=1).astype("datetime64[ns]")
    return both.astype(np.int64).max(axis=1).astype("datetime64[ns]")


def _earliest(block: np.ndarray) -> np.ndarray:
    """Per row, the earliest non-NaT timestamp of `block` (NaT when none)."""
    values = block.astype("datetime64[ns]").astype(np.int64)
    top = np.iinfo(np.int64).max
    first = np.where(np.isnat(block), top, values).min(axis=1, initial=top)
    return np.where(first == top, np.datetime64("NaT"), first.astype("datetime64[ns]"))


def _run_forward(works: np.ndarray) -> np.ndarray:
    """Per row, how many leading columns are True."""
    padded = np.concatenate([works, np.zeros((works.shape[0], 1), bool)], axis=1)
    return np.argmin(padded, axis=1)


def _run_back(works: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Per row, how many trailing columns are True, plus `tail` when all of them are."""
    run = _run_forward(works[:, ::-1])
    return np.where(run == works.shape[1], run + tail, run)


def _daily_reason(t: int, tours: _Tours, rules: Mapping[str, np.ndarray],
                  min_rest_hours: float, max_consecutive_days: int,
                  days: pd.DatetimeIndex) -> str:
    """Why single-shift tour `t` got no agent, against everyone's final week."""
    contract, queue = tours.contract[t], tours.queue[t]
    date = f"{days[tours.works[t]][0]:%Y-%m-%d}"
    steps = (
        ("contract", f"no agent has contract {contract!r}"),
        ("skill", f"no agent with contract {contract!r} works queue {queue!r}"),
        ("available", f"every agent with contract {contract!r} and queue {queue!r} is "
                      f"unavailable on {date} or already works that day"),
        ("hours", f"every agent still eligible would exceed their max weekly hours with its "
                  f"{tours.hours[t]:g} h"),
        ("rest", f"every agent still eligible would rest less than {min_rest_hours:g} h "
                 "before or after it"),
        ("consecutive", f"every agent still eligible would work more than "
                        f"{max_consecutive_days} consecutive days"),
    )
    candidates = np.ones(len(rules["contract"]), dtype=bool)
    for key, message in steps:
        candidates &= rules[key]
        if not candidates.any():
            return message
    return f"no agent left for this {tours.hours[t]:g} h shift on {date}"


def _pairs(allowed: np.ndarray, cost: np.ndarray, row_key: np.ndarray | None = None,
           col_key: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Exact maximum-cardinality, minimum-cost matching of rows to columns on `allowed`.

    `row_key`/`col_key` (e.g. contract codes) split it into independent blocks: a row may
    only take a column of its own key, so each block is matched alone, which is exact and
    turns one n^3 problem into several smaller ones. Rows and columns with no allowed pair
    are left out of the matrix for the same reason."""
    if row_key is not None and col_key is not None:
        out = []
        for key in np.unique(row_key):
            r, c = np.flatnonzero(row_key == key), np.flatnonzero(col_key == key)
            block = np.ix_(r, c)
            out += [(int(r[i]), int(c[j])) for i, j in _pairs(allowed[block], cost[block])]
        return out
    rows, cols = np.flatnonzero(allowed.any(axis=1)), np.flatnonzero(allowed.any(axis=0))
    if not len(rows):
        return []
    sub, sub_cost = allowed[np.ix_(rows, cols)], cost[np.ix_(rows, cols)]
    # Forbidden pairs cost more than any set of allowed pairs, so the optimum first matches
    # as many rows as possible, then minimises the soft cost among those matchings.
    forbid = float(sub_cost[sub].max(initial=0.0)) * min(sub.shape) + 1.0
    r, c = linear_sum_assignment(np.where(sub, sub_cost, forbid))
    return [(int(rows[i]), int(cols[j])) for i, j in zip(r, c) if sub[i, j]]


def _assign_week(frame: pd.DataFrame, days: pd.DatetimeIndex, agents: Sequence[Agent],
                 past: _Past, *, min_rest_hours: float, max_consecutive_days: int,
                 preference_weight: float, weekend_weight: float
                 ) -> tuple[dict[str, str], list[dict]]:
    """Phase 1: weekly tours (two or more shifts), one per agent, in one exact matching.
    Phase 2: single-shift tours (daily-shift families), day by day, each day an exact
    matching onto agents with weekly hours left, no shift that day, enough rest on both
    sides and a short enough run of working days."""
    tours = _week_tours(frame, days)
    n_t, n_a, n_d = len(tours.ids), len(agents), len(days)
    contracts = sorted({a.contract for a in agents} | set(tours.contract))
    # A tour's queue is one queue or a skill set "a;b" (multi-skill plans): an agent may
    # take it when skilled for every queue of it.
    labels = sorted(set(tours.queue))
    a_contract = _codes(np.array([a.contract for a in agents], dtype=object), contracts)
    t_contract = _codes(tours.contract, contracts)
    skilled = np.array([[not a.queues or set(label_queues(lb)) <= a.queues for lb in labels]
                        for a in agents], dtype=bool).reshape(n_a, len(labels))
    day_list = [d.date() for d in days]
    away = np.array([[d in a.unavailable_dates for d in day_list] for a in agents],
                    dtype=bool).reshape(n_a, n_d)
    lo = np.array([a.min_weekly_hours for a in agents])
    hi = np.array([a.max_weekly_hours for a in agents])
    eps = 1e-6
    weekly = tours.works.sum(axis=1) >= 2
    gap_h = (tours.first_start[:, None] - past.last_end[None, :]) / np.timedelta64(1, "h")
    rules = {
        "contract": t_contract[:, None] == a_contract[None, :],
        "skill": skilled[:, _codes(tours.queue, labels)].T,
        "available": (tours.works.astype(np.int32) @ away.T.astype(np.int32)) == 0,
        # A weekly tour is the agent's whole week, so its hours must fit the agent's range;
        # single shifts are pooled, so only the maximum applies to each of them.
        "hours": ((tours.hours[:, None] >= lo[None, :] - eps) | ~weekly[:, None])
                 & (tours.hours[:, None] <= hi[None, :] + eps),
        "rest": np.isnan(gap_h) | (gap_h >= min_rest_hours - eps),
        "consecutive": (tours.lead_run[:, None] + past.tail_run[None, :]) <= max_consecutive_days,
    }
    allowed = np.logical_and.reduce(list(rules.values()))
    allowed &= ((tours.min_gap_h >= min_rest_hours - eps)
                & (tours.longest_run <= max_consecutive_days))[:, None]

    # Soft cost. Preferred days off worked, counted per day. Weekend fairness: minimising
    # the sum over agents of (weekend days so far + this week's)^2 is, once the tours are
    # fixed, minimising sum 2 * so_far * this_week (the squares of this week's counts add up
    # to a constant when every tour is staffed), which is linear in the pairing.
    weekday = np.array([d.weekday() for d in day_list])
    is_weekend = np.isin(weekday, list(WEEKEND))
    prefers = np.array([[wd in a.preferred_days_off for wd in weekday] for a in agents],
                       dtype=np.int32).reshape(n_a, n_d)
    weekend_t = tours.works[:, is_weekend].sum(axis=1)
    cost = (preference_weight * (tours.works.astype(np.int32) @ prefers.T)
            + weekend_weight * 2.0 * weekend_t[:, None] * past.weekend_days[None, :])

    owner = np.full(n_t, -1)
    phase1 = np.flatnonzero(weekly)
    for r, c in _pairs(allowed[phase1], cost[phase1], t_contract[phase1], a_contract):
        owner[phase1[r]] = c

    # The agents' week so far, for phase 2.
    works = np.zeros((n_a, n_d), dtype=bool)
    starts = np.full((n_a, n_d), np.datetime64("NaT"), "datetime64[ns]")
    ends = starts.copy()
    hours = np.zeros(n_a)
    weekend_days = past.weekend_days.astype(float).copy()

    def give(t: int, a: int) -> None:
        owner[t] = a
        works[a] |= tours.works[t]
        starts[a, tours.works[t]] = tours.starts[t, tours.works[t]]
        ends[a, tours.works[t]] = tours.ends[t, tours.works[t]]
        hours[a] += tours.hours[t]
        weekend_days[a] += weekend_t[t]

    for t in phase1[owner[phase1] >= 0]:
        give(t, owner[t])

    def daily_rules(t: int) -> dict[str, np.ndarray]:
        d = int(np.flatnonzero(tours.works[t])[0])
        before = _latest(ends[:, :d], past.last_end)
        after = _earliest(starts[:, d + 1:])
        rest_before = (tours.starts[t, d] - before) / np.timedelta64(1, "h")
        rest_after = (after - tours.ends[t, d]) / np.timedelta64(1, "h")
        left = _run_back(works[:, :d], past.tail_run)
        right = _run_forward(works[:, d + 1:])
        return {
            "contract": rules["contract"][t], "skill": rules["skill"][t],
            "available": ~away[:, d] & ~works[:, d],
            "hours": hours + tours.hours[t] <= hi + eps,
            "rest": (np.isnan(rest_before) | (rest_before >= min_rest_hours - eps))
                    & (np.isnan(rest_after) | (rest_after >= min_rest_hours - eps)),
            "consecutive": left + 1 + right <= max_consecutive_days,
        }

    single = np.flatnonzero(~weekly)
    single_day = tours.works[single].argmax(axis=1)
    for d in range(n_d):
        todays = single[single_day == d]
        if not len(todays):
            continue
        ok = np.array([np.logical_and.reduce(list(daily_rules(t).values())) for t in todays])
        # Same soft terms as phase 1, plus a nudge towards agents still short of their
        # minimum weekly hours.
        soft = (preference_weight * prefers[:, d] + weekend_weight * 2.0 * is_weekend[d]
                * weekend_days + 0.5 * (hours >= lo - eps))
        for r, c in _pairs(ok, np.broadcast_to(soft, ok.shape).astype(float),
                           t_contract[todays], a_contract):
            give(todays[r], c)

    taken = {tours.ids[t]: agents[owner[t]].agent_id for t in range(n_t) if owner[t] >= 0}
    unassigned = []
    for t in np.flatnonzero(owner < 0):
        if weekly[t]:
            reason = _reason(t, tours, agents, rules, min_rest_hours, max_consecutive_days, days)
        else:
            reason = _daily_reason(t, tours, daily_rules(t), min_rest_hours,
                                   max_consecutive_days, days)
        unassigned.append({
            "tour_id": tours.ids[t], "contract": tours.contract[t], "queue": tours.queue[t],
            "dates": ";".join(f"{d:%Y-%m-%d}" for d in days[tours.works[t]]),
            "paid_hours": float(tours.hours[t]), "reason": reason})
    return taken, unassigned


_UNASSIGNED_COLUMNS = ("tour_id", "contract", "queue", "dates", "paid_hours", "reason")


def assign_agents(tours: pd.DataFrame, agents: Sequence[Agent] | pd.DataFrame, *,
                  min_rest_hours: float, max_consecutive_days: int,
                  history: pd.DataFrame | None = None, week_start: dt.date | None = None,
                  preference_weight: float = 1.0, weekend_weight: float = 1.0) -> Assignment:
    """Give each tour to at most one agent: at most one weekly tour per agent per week,
    plus pooled single shifts (at most one shift a day) within the agent's weekly hours.

    tours: the shift plan, one row per worked tour-day (`tour_id, contract, queue, date,
        shift_start, shift_end, paid_hours` and any break columns, carried through).
    agents: `Agent`s, or an agents table as `parse_agents` takes it.
    min_rest_hours: least rest between the end of one shift and the start of the next
        (hours), checked inside each tour and against the agent's previous shift.
    max_consecutive_days: most consecutive calendar days with a shift, counted across the
        week boundary when `history` holds the previous roster.
    history: an earlier roster (`agent_id, date, shift_start, shift_end`) whose shifts end
        before the horizon; used for rest, consecutive days and weekend fairness.
    week_start: first day of the horizon; default the earliest tour date. Tours are grouped
        into weeks of `DAYS_PER_WEEK` days from it, and the weeks are assigned in order,
        each seeing the earlier weeks as history (so weekend work rotates across weeks).
    preference_weight: cost of working one preferred day off.
    weekend_weight: weight of the weekend fairness term (see module notes).

    Each week's weekly tours are an exact maximum-cardinality, minimum-cost assignment, and
    so is each day of pooled single shifts; days and weeks are chained greedily.
    """
    if isinstance(agents, pd.DataFrame):
        agents = parse_agents(agents.astype(str), "agents")
    agents = tuple(agents)
    if len({a.agent_id for a in agents}) != len(agents):
        raise AgentsError("agents: agent ids must be unique")
    if min_rest_hours < 0 or not math.isfinite(min_rest_hours):
        raise AgentsError(f"min_rest_hours must be a finite number >= 0, got {min_rest_hours!r}")
    if max_consecutive_days < 1:
        raise AgentsError(f"max_consecutive_days must be >= 1, got {max_consecutive_days!r}")
    frame = _check_tours(tours)
    past_rows = _check_history(history)
    if frame.empty:
        return Assignment(frame.assign(agent_id=pd.Series(dtype="string")),
                          pd.DataFrame(columns=list(_UNASSIGNED_COLUMNS)),
                          tuple(a.agent_id for a in agents), "complete", 0)
    start = pd.Timestamp(week_start) if week_start is not None else frame["date"].min()
    if frame["date"].min() < start:
        raise AgentsError(f"tours: a shift on {frame['date'].min():%Y-%m-%d} starts before "
                          f"week_start {start:%Y-%m-%d}")
    tour_week = (frame.groupby("tour_id")["date"].agg(["min", "max"]) - start).apply(
        lambda s: s.dt.days // DAYS_PER_WEEK)
    split = tour_week[tour_week["min"] != tour_week["max"]]
    if len(split):
        raise AgentsError(f"tours: tour {split.index[0]} spans more than one week counted "
                          f"from {start:%Y-%m-%d}; a tour is one agent's week")
    frame["_week"] = frame["tour_id"].map(tour_week["min"])
    agent_ids = [a.agent_id for a in agents]
    agent_of: dict[str, str] = {}
    unassigned: list[dict] = []
    n_weeks = int(frame["_week"].max()) + 1
    for week in range(n_weeks):
        week_start_ts = start + pd.Timedelta(days=week * DAYS_PER_WEEK)
        days = pd.date_range(week_start_ts, periods=DAYS_PER_WEEK, freq="D")
        rows = frame[frame["_week"] == week]
        if rows.empty:
            continue
        done = frame[frame["tour_id"].isin(list(agent_of))]
        earlier = done.assign(agent_id=done["tour_id"].map(agent_of))[
            ["agent_id", "date", "shift_start", "shift_end"]]
        seen = earlier if past_rows is None else pd.concat([past_rows, earlier])
        taken, missed = _assign_week(rows, days, agents, _past(seen, agent_ids, week_start_ts),
                                     min_rest_hours=min_rest_hours,
                                     max_consecutive_days=max_consecutive_days,
                                     preference_weight=preference_weight,
                                     weekend_weight=weekend_weight)
        agent_of.update(taken)
        unassigned.extend(missed)
    roster = frame[frame["tour_id"].isin(list(agent_of))].drop(columns="_week")
    roster.insert(0, "agent_id", roster["tour_id"].map(agent_of).astype("string"))
    roster = roster.sort_values(["agent_id", "date"], kind="stable").reset_index(drop=True)
    used = set(agent_of.values())
    return Assignment(
        roster=roster,
        unassigned_tours=pd.DataFrame(unassigned, columns=list(_UNASSIGNED_COLUMNS)),
        idle_agents=tuple(a for a in agent_ids if a not in used),
        status="partial" if unassigned else "complete",
        weeks=n_weeks,
    )


def placeholder_assignment(tours: pd.DataFrame) -> Assignment:
    """Without an agents file: every tour keeps its tour id as a stand-in agent id."""
    frame = _check_tours(tours)
    roster = frame.copy()
    roster.insert(0, "agent_id", roster["tour_id"].astype("string"))
    roster = roster.sort_values(["agent_id", "date"], kind="stable").reset_index(drop=True)
    return Assignment(roster, pd.DataFrame(columns=list(_UNASSIGNED_COLUMNS)), (),
                      "placeholder", method="placeholder")

"""From contact volume to agents needed per interval, queue by queue.

Input: a long volume frame ``unique_id, ds, volume`` (contacts per row interval, usually
hourly) and one `QueueStaffing` per queue. Output: the requirement frame of STYLE.md, one
row per queue and interval of `interval_minutes`, with the targets echoed so a reader can
see what each number was staffed for.

- voice: Erlang C, or Erlang A when `patience_s` is set;
- chat: the same formulas on chat *slots*: each agent holds `concurrency` chats at once,
  and a chat's elapsed handle time grows with concurrency (see `QueueStaffing.elapsed_aht`);
- ticket: a backlog with a response-time target (`staffcast.scheduler.backlog`), no queueing formula.

Shrinkage (breaks, training, absence, ...) combines multiplicatively,
``total = 1 - prod(1 - part)``: each part is a share of the time left by the others (an
absent agent takes no breaks), so adding the parts would count the overlap twice.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .backlog import spread_workload
from .erlang import agents_for_targets, erlang_a_agents, erlang_a_metrics, erlang_c
from .erlang import asa_s as erlang_c_asa
from .erlang import occupancy as erlang_c_occupancy
from .erlang import service_level as erlang_c_sl
from .errors import SchedulerError

__all__ = ["QueueStaffing", "compute_requirements", "pool_requirements", "queue_pools",
           "open_intervals", "staff_interval", "REQUIREMENT_COLUMNS"]

Channel = Literal["voice", "chat", "ticket"]
# One tuple per weekday (Monday first) of (start_minute, end_minute) ranges; see
# staffcast/config.py, which parses the YAML form.
WeeklyHours = tuple[tuple[tuple[int, int], ...], ...]

REQUIREMENT_COLUMNS = ("unique_id", "ds", "volume", "aht_s", "erlangs", "agents_raw",
                       "agents_required", "service_level", "asa_s", "occupancy", "p_wait")
# Echoed settings, all numeric so every non-key column of the CSV is a number (is_open 0/1).
TARGET_COLUMNS = ("sl_target", "sl_seconds", "max_asa_s", "max_occupancy", "patience_s",
                  "max_abandon", "concurrency", "response_hours", "min_agents", "shrinkage",
                  "is_open")


def _fail(name: str, rule: str, value: object) -> None:
    raise SchedulerError(f"{name} must be {rule}, got {value!r}")


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class QueueStaffing:
    """Staffing settings of one queue; the fields are the YAML keys under ``queues.<name>``
    (besides opening_hours and rest_day, which staffcast/config.py handles).

    aht_s: mean handle time in seconds, or a mapping hour of day (0-23, all 24) -> seconds.
        For chat it is the elapsed time of one chat when the agent works one chat at a time.
    sl_target, sl_seconds: service level, share answered within sl_seconds (together).
    max_asa_s: ceiling on average speed of answer, seconds.
    max_occupancy: ceiling on the share of time agents are busy, in (0, 1].
    patience_s: mean caller patience in seconds; switches voice/chat to Erlang A.
    max_abandon: ceiling on the abandoned share (needs patience_s).
    concurrency: chats an agent holds at once (chat only).
    concurrency_aht_factor: in [0, 1]; elapsed handle time per chat at concurrency c is
        ``aht_s * (1 + factor * (c - 1))``. 0: chats do not slow each other (or aht_s was
        already measured at concurrency c); 1: no gain from concurrency at all.
    shrinkage: named shares of paid time not spent on contacts, e.g. {breaks: 0.08,
        training: 0.05, absence: 0.07}; combined as 1 - prod(1 - part).
    min_agents: agents on duty whenever the queue is open, whatever the volume.
    response_hours: ticket response target in open hours (ticket only).
    pool: name of the agent pool the queue draws from (default: the queue's own name).
    bot_containment: share of the queue's contacts a chatbot closes on its own, in [0, 1).
        The volume handed in counts every contact; humans get
        ``volume * (1 - containment + containment * bot_escalation)``.
    bot_escalation: share of the bot's contacts it hands back to a human, in [0, 1].
    """

    aht_s: float | Mapping[int, float]
    channel: Channel = "voice"
    sl_target: float | None = None
    sl_seconds: float | None = None
    max_asa_s: float | None = None
    max_occupancy: float | None = None
    patience_s: float | None = None
    max_abandon: float | None = None
    concurrency: int = 1
    concurrency_aht_factor: float = 0.0
    shrinkage: Mapping[str, float] = field(default_factory=dict)
    min_agents: int = 0
    response_hours: float | None = None
    pool: str | None = None
    bot_containment: float = 0.0
    bot_escalation: float = 0.0

    def __post_init__(self) -> None:
        if not (_finite(self.bot_containment) and 0 <= self.bot_containment < 1):
            _fail("bot_containment", "in [0, 1) (at 1 no contact would reach a human)",
                  self.bot_containment)
        if not (_finite(self.bot_escalation) and 0 <= self.bot_escalation <= 1):
            _fail("bot_escalation", "in [0, 1]", self.bot_escalation)
        if self.channel not in ("voice", "chat", "ticket"):
            _fail("channel", "one of 'voice', 'chat', 'ticket'", self.channel)
        if isinstance(self.aht_s, Mapping):
            hours = sorted(self.aht_s)
            if hours != list(range(24)):
                missing = sorted(set(range(24)) - set(self.aht_s))
                _fail("aht_s", f"a number or a mapping of every hour 0-23 to seconds "
                      f"(missing {missing}, extra {sorted(set(self.aht_s) - set(range(24)))})",
                      dict(self.aht_s))
            for hour, value in self.aht_s.items():
                if not (_finite(value) and value > 0):
                    _fail(f"aht_s[{hour}]", "> 0", value)
        elif not (_finite(self.aht_s) and self.aht_s > 0):
            _fail("aht_s", "> 0", self.aht_s)
        if (self.sl_target is None) != (self.sl_seconds is None):
            raise SchedulerError("sl_target and sl_seconds must be given together, got "
                                 f"sl_target={self.sl_target!r}, sl_seconds={self.sl_seconds!r}")
        checks = [
            ("sl_target", self.sl_target, lambda v: 0 < v < 1, "in (0, 1)"),
            ("sl_seconds", self.sl_seconds, lambda v: v >= 0, ">= 0"),
            ("max_asa_s", self.max_asa_s, lambda v: v > 0, "> 0"),
            ("max_occupancy", self.max_occupancy, lambda v: 0 < v <= 1, "in (0, 1]"),
            ("patience_s", self.patience_s, lambda v: v > 0, "> 0"),
            ("max_abandon", self.max_abandon, lambda v: 0 < v < 1, "in (0, 1)"),
            ("response_hours", self.response_hours, lambda v: v > 0, "> 0"),
            ("concurrency_aht_factor", self.concurrency_aht_factor, lambda v: 0 <= v <= 1,
             "in [0, 1]"),
        ]
        for name, value, ok, rule in checks:
            if value is not None and not (_finite(value) and ok(value)):
                _fail(name, rule, value)
        for name, value in (("concurrency", self.concurrency), ("min_agents", self.min_agents)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                _fail(name, "a whole number >= 0", value)
        if self.concurrency < 1:
            _fail("concurrency", ">= 1", self.concurrency)
        if self.concurrency > 1 and self.channel != "chat":
            _fail("concurrency", "1 unless channel is 'chat'", self.concurrency)
        if self.max_abandon is not None and self.patience_s is None:
            raise SchedulerError(f"max_abandon needs patience_s (Erlang A), got max_abandon="
                                 f"{self.max_abandon!r} and no patience_s")
        for part, value in self.shrinkage.items():
            if not (_finite(value) and 0 <= value < 1):
                _fail(f"shrinkage.{part}", "in [0, 1)", value)
        if self.channel == "ticket":
            if self.response_hours is None:
                raise SchedulerError("response_hours is required for channel 'ticket'")
            queue_only = {k: getattr(self, k) for k in ("sl_target", "sl_seconds", "max_asa_s",
                                                        "patience_s", "max_abandon")
                          if getattr(self, k) is not None}
            if queue_only:
                raise SchedulerError(f"channel 'ticket' is staffed by workload and response_hours;"
                                     f" remove {', '.join(queue_only)} (got {queue_only})")
        else:
            if self.response_hours is not None:
                _fail("response_hours", "unset unless channel is 'ticket'", self.response_hours)
            if all(v is None for v in (self.sl_target, self.max_asa_s, self.max_abandon,
                                       self.max_occupancy)):
                raise SchedulerError(f"channel {self.channel!r} needs at least one target: "
                                     "sl_target + sl_seconds, max_asa_s, max_abandon or "
                                     "max_occupancy")

    @property
    def human_share(self) -> float:
        """Share of all contacts that reach a human: 1 - containment + containment *
        escalation (the bot's overflow)."""
        return 1.0 - self.bot_containment + self.bot_containment * self.bot_escalation

    @property
    def total_shrinkage(self) -> float:
        """1 - prod(1 - part): the share of paid time not available for contacts."""
        return 1.0 - math.prod(1.0 - v for v in self.shrinkage.values())

    def aht_by_hour(self) -> np.ndarray:
        """Handle time in seconds for each hour of day 0..23."""
        if isinstance(self.aht_s, Mapping):
            return np.array([float(self.aht_s[h]) for h in range(24)])
        return np.full(24, float(self.aht_s))

    def elapsed_aht(self, aht_s: np.ndarray) -> np.ndarray:
        """Elapsed handle time per chat at this queue's concurrency (the slot holding time)."""
        return aht_s * (1.0 + self.concurrency_aht_factor * (self.concurrency - 1))


def open_intervals(ds: pd.Series, hours: WeeklyHours | None, interval_minutes: int) -> np.ndarray:
    """True where the interval [ds, ds + interval) overlaps an opening range of its weekday;
    everything is open when `hours` is None."""
    if hours is None:
        return np.ones(len(ds), dtype=bool)
    if len(hours) != 7:
        raise SchedulerError(f"opening hours must have 7 weekdays (Monday first), got {len(hours)}")
    day = ds.dt.day_of_week.to_numpy()
    start = (ds.dt.hour * 60 + ds.dt.minute).to_numpy()
    end = start + interval_minutes
    is_open = np.zeros(len(ds), dtype=bool)
    for weekday, ranges in enumerate(hours):
        on_day = day == weekday
        for lo, hi in ranges:
            is_open |= on_day & (start < hi) & (end > lo)
    return is_open


def _check_volume(volume: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("unique_id", "ds", "volume") if c not in volume.columns]
    if missing:
        raise SchedulerError(f"volume frame: missing column {missing[0]!r}; has "
                             f"{reprlib.repr(list(volume.columns))}")
    with_aht = "aht_s" in volume.columns
    frame = volume[["unique_id", "ds", "volume", *(["aht_s"] if with_aht else [])]].copy()
    if with_aht:
        aht = pd.to_numeric(frame["aht_s"], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isnan(aht) & ~(np.isfinite(aht) & (aht > 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise SchedulerError(f"volume frame: column 'aht_s' must be > 0 seconds (or blank "
                                 f"for the queue's configured aht_s); row {row} has "
                                 f"{np.asarray(volume['aht_s'])[row].tolist()!r}")
        frame["aht_s"] = aht
    frame["unique_id"] = frame["unique_id"].astype("string")
    try:
        frame["ds"] = pd.to_datetime(frame["ds"])
    except (TypeError, ValueError) as exc:
        raise SchedulerError(f"volume frame: column 'ds' is not a timestamp: {exc}") from exc
    vol = pd.to_numeric(frame["volume"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(vol) & (vol >= 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchedulerError(f"volume frame: column 'volume' must be a finite number >= 0; row "
                             f"{row} has {np.asarray(volume['volume'])[row].tolist()!r}")
    frame["volume"] = vol
    dup = frame.duplicated(["unique_id", "ds"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise SchedulerError(f"volume frame: (unique_id, ds) must be unique; row {row} repeats "
                             f"{frame['unique_id'].iloc[row]!r} {frame['ds'].iloc[row]}")
    return frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _input_step_minutes(frame: pd.DataFrame) -> int:
    steps = frame.groupby("unique_id", observed=True)["ds"].diff().dropna()
    if steps.empty:
        return 60
    return int(steps.min() / pd.Timedelta(minutes=1))


def _spread(frame: pd.DataFrame, step: int, interval_minutes: int,
            profile: Sequence[float] | None) -> pd.DataFrame:
    """Split each input row's volume over its `step / interval` sub-intervals."""
    parts = step // interval_minutes
    if profile is None:
        weights = np.full(parts, 1.0 / parts)
    else:
        weights = np.asarray(list(profile), dtype=float)
        if weights.size != parts or not np.isfinite(weights).all() or (weights < 0).any() \
                or weights.sum() <= 0:
            raise SchedulerError(f"intra_hour_profile must be {parts} weights >= 0 with a positive "
                                 f"sum (one per {interval_minutes}-minute part of a {step}-minute "
                                 f"row), got {list(profile)!r}")
        weights = weights / weights.sum()
    if parts == 1:
        return frame
    n = len(frame)
    offsets = np.tile(np.arange(parts) * interval_minutes, n)
    out = pd.DataFrame({
        "unique_id": np.repeat(frame["unique_id"].to_numpy(), parts),
        "ds": np.repeat(frame["ds"].to_numpy(), parts) + pd.to_timedelta(offsets, unit="min"),
        "volume": np.repeat(frame["volume"].to_numpy(), parts) * np.tile(weights, n),
    })
    if "aht_s" in frame.columns:
        out["aht_s"] = np.repeat(frame["aht_s"].to_numpy(), parts)
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def _staff_queue(q: QueueStaffing, volume: np.ndarray, hour: np.ndarray, is_open: np.ndarray,
                 interval_s: float, row_aht: np.ndarray | None = None) -> dict[str, np.ndarray]:
    aht = q.aht_by_hour()[hour]
    if row_aht is not None:  # a handle-time forecast wins; the config's aht_s fills its gaps
        aht = np.where(np.isfinite(row_aht), row_aht, aht)
    n_rows = volume.size
    nan = np.full(n_rows, np.nan)
    floor = np.where(is_open, q.min_agents, 0)
    if q.channel == "ticket":
        erl = volume * aht / interval_s
        window = max(1, int(q.response_hours * 3600 // interval_s))
        load = spread_workload(erl, is_open, window)
        cap = q.max_occupancy or 1.0
        agents = np.maximum(np.ceil(load / cap - 1e-9), floor)
        agents = np.where(is_open, agents, 0.0)
        occ = np.where(agents > 0, load / np.where(agents > 0, agents, 1.0), 0.0)
        return {"aht_s": aht, "erlangs": erl, "agents_raw": agents, "service_level": nan,
                "asa_s": nan, "occupancy": occ, "p_wait": nan, "abandon_rate": nan}
    slot_aht = q.elapsed_aht(aht) if q.channel == "chat" else aht
    erl = volume * slot_aht / interval_s  # Erlangs of slot (voice: agent) occupancy
    c = q.concurrency
    live = is_open & (volume > 0)
    slots = np.zeros(n_rows)
    if live.any():
        if q.patience_s is None:
            slots[live] = agents_for_targets(
                erl[live], slot_aht[live], sl_target=q.sl_target, sl_seconds=q.sl_seconds,
                max_asa_s=q.max_asa_s, max_occupancy=q.max_occupancy)
        else:
            slots[live] = erlang_a_agents(
                erl[live], slot_aht[live], q.patience_s, sl_target=q.sl_target,
                sl_seconds=q.sl_seconds, max_abandon=q.max_abandon, max_asa_s=q.max_asa_s,
                max_occupancy=q.max_occupancy)
    agents = np.maximum(np.ceil(slots / c), floor)
    n_slots = agents * c
    t = 0.0 if q.sl_seconds is None else q.sl_seconds
    if q.patience_s is None:
        sl = erlang_c_sl(n_slots, erl, slot_aht, t)
        p_wait = erlang_c(n_slots, erl)
        asa = erlang_c_asa(n_slots, erl, slot_aht)
        occ = erlang_c_occupancy(n_slots, erl)
        abandon = nan
    else:
        m = erlang_a_metrics(n_slots, erl, slot_aht, q.patience_s, t)
        sl, p_wait, asa, occ, abandon = (m[k] for k in ("service_level", "p_wait", "asa_s",
                                                        "occupancy", "abandon_rate"))
    if q.sl_seconds is None:
        sl = nan
    return {"aht_s": slot_aht, "erlangs": erl, "agents_raw": agents, "service_level": sl,
            "asa_s": asa, "occupancy": occ, "p_wait": p_wait, "abandon_rate": abandon}


def staff_interval(volume: float, interval_s: float, q: QueueStaffing) -> dict[str, float]:
    """Staff a single interval of `volume` contacts lasting `interval_s` seconds.

    Returns ``agents``, ``agents_with_shrinkage``, ``erlangs``, ``service_level``, ``asa_s``,
    ``occupancy``, ``p_wait`` and, with patience, ``abandon_rate`` (NaN where a measure does
    not apply: no SL target, or a ticket queue).
    """
    if not (_finite(volume) and volume >= 0):
        _fail("volume", "a finite number >= 0", volume)
    if not (_finite(interval_s) and interval_s > 0):
        _fail("interval_s", "> 0", interval_s)
    if isinstance(q.aht_s, Mapping):
        raise SchedulerError("staff_interval needs a single aht_s, got a mapping by hour")
    res = _staff_queue(q, np.array([float(volume) * q.human_share]), np.array([0]),
                       np.array([True]), float(interval_s))
    agents = int(res["agents_raw"][0])
    out = {"agents": agents,
           "agents_with_shrinkage": int(math.ceil(agents / (1.0 - q.total_shrinkage) - 1e-9)),
           **{k: float(res[k][0]) for k in ("erlangs", "service_level", "asa_s", "occupancy",
                                            "p_wait")}}
    if q.patience_s is not None:
        out["abandon_rate"] = float(res["abandon_rate"][0])
    return out


def compute_requirements(volume: pd.DataFrame, queues: Mapping[str, QueueStaffing], *,
                         interval_minutes: int = 30,
                         intra_hour_profile: Sequence[float] | None = None,
                         open_mask: pd.DataFrame | None = None,
                         opening_hours: Mapping[str, WeeklyHours | None] | None = None,
                         ) -> pd.DataFrame:
    """Agents needed per queue and interval.

    volume: ``unique_id, ds, volume`` with ``volume`` = contacts per row (rows are usually
        hourly; the row length is inferred as the smallest gap between a queue's rows, 60
        minutes for a single row), and optionally ``aht_s``, a handle-time forecast in
        seconds per row (blank rows take the queue's configured ``aht_s``). Not modified.
    queues: settings per queue; every queue in `volume` needs one.
    interval_minutes: output interval, 15, 30 or 60, dividing the row length.
    intra_hour_profile: weights of the sub-intervals of one row (flat by default, so each
        30-minute half of an hour gets half the hour's volume).
    opening_hours: queue -> weekly hours; outside them a queue needs 0 agents and inside
        them at least `min_agents`. Queues left out are always open.
    open_mask: alternatively ``unique_id, ds, is_open`` per output interval.

    Returns the requirement frame: ``unique_id, ds, volume, aht_s, erlangs, agents_raw,
    agents_required, service_level, asa_s, occupancy, p_wait`` (+ ``abandon_rate`` when a
    queue has patience_s), then the echoed settings. ``volume`` is the human share of the
    input (all of it unless the queue has a ``bot_containment``). ``aht_s`` is the slot holding time
    (elapsed per chat at the queue's concurrency) and ``erlangs`` its load. Ticket queues have
    no queueing measures: ``service_level``, ``asa_s`` and ``p_wait`` are NaN there.
    """
    if interval_minutes not in (15, 30, 60):
        _fail("interval_minutes", "15, 30 or 60", interval_minutes)
    if open_mask is not None and opening_hours is not None:
        raise SchedulerError("give opening_hours or open_mask, not both")
    frame = _check_volume(volume)
    unknown = sorted(set(frame["unique_id"].unique()) - set(queues))
    if unknown:
        raise SchedulerError(f"no staffing settings for queue {reprlib.repr(unknown)}; configured "
                             f"queues: {', '.join(sorted(queues)) or '(none)'}")
    step = _input_step_minutes(frame)
    if step % interval_minutes:
        raise SchedulerError(f"volume rows are {step} minutes apart, which interval_minutes="
                             f"{interval_minutes} does not divide")
    frame = _spread(frame, step, interval_minutes, intra_hour_profile)
    if open_mask is not None:
        mask = open_mask[["unique_id", "ds", "is_open"]].copy()
        mask["unique_id"] = mask["unique_id"].astype("string")
        mask["ds"] = pd.to_datetime(mask["ds"])
        frame = frame.merge(mask, on=["unique_id", "ds"], how="left", validate="one_to_one")
        if frame["is_open"].isna().any():
            row = frame[frame["is_open"].isna()].iloc[0]
            raise SchedulerError(f"open_mask has no row for {row['unique_id']!r} {row['ds']}")
        frame["is_open"] = frame["is_open"].astype(bool)
    interval_s = interval_minutes * 60.0
    pieces = []
    for name, group in frame.groupby("unique_id", sort=True, observed=True):
        q = queues[str(name)]
        if open_mask is None:
            hours = None if opening_hours is None else opening_hours.get(str(name))
            is_open = open_intervals(group["ds"], hours, interval_minutes)
        else:
            is_open = group["is_open"].to_numpy()
        human = group["volume"].to_numpy() * q.human_share
        res = _staff_queue(q, human, group["ds"].dt.hour.to_numpy(), is_open, interval_s,
                           group["aht_s"].to_numpy() if "aht_s" in group else None)
        shrink = q.total_shrinkage
        required = np.ceil(res["agents_raw"] / (1.0 - shrink) - 1e-9)
        piece = pd.DataFrame({
            "unique_id": group["unique_id"].to_numpy(),
            "ds": group["ds"].to_numpy(),
            "volume": human,
            **{k: res[k] for k in ("aht_s", "erlangs")},
            "agents_raw": res["agents_raw"].astype(np.int64),
            "agents_required": required.astype(np.int64),
            **{k: res[k] for k in ("service_level", "asa_s", "occupancy", "p_wait",
                                   "abandon_rate")},
            "sl_target": q.sl_target, "sl_seconds": q.sl_seconds,
            "max_asa_s": q.max_asa_s, "max_occupancy": q.max_occupancy,
            "patience_s": q.patience_s, "max_abandon": q.max_abandon,
            "concurrency": q.concurrency, "response_hours": q.response_hours,
            "min_agents": q.min_agents, "shrinkage": shrink,
            "is_open": is_open.astype(np.int64),
        })
        pieces.append(piece)
    if not pieces:
        raise SchedulerError("volume frame has no rows")
    out = pd.concat(pieces, ignore_index=True)
    for col in ("sl_target", "sl_seconds", "max_asa_s", "max_occupancy", "patience_s",
                "max_abandon", "response_hours"):
        out[col] = out[col].astype(float)
    out["unique_id"] = out["unique_id"].astype("string")
    with_abandon = out["abandon_rate"].notna().any()
    cols = [*REQUIREMENT_COLUMNS, *(["abandon_rate"] if with_abandon else []), *TARGET_COLUMNS]
    return out[cols]


def queue_pools(queues: Mapping[str, QueueStaffing]) -> dict[str, str]:
    """Queue -> pool name from the settings (a queue without `pool` is its own pool)."""
    return {name: q.pool or name for name, q in queues.items()}


def pool_requirements(req: pd.DataFrame, pools: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Agents per pool and interval: the sum over the queues of each pool. `pools` maps
    queue -> pool (see `queue_pools`); without it every queue in `req` shares one pool 'all'.

    Summing after staffing each queue on its own is an upper bound: one Erlang model of the
    pooled traffic (agents answering every queue of the pool) needs fewer agents, because
    one pool absorbs the random peaks of several queues. It is kept as the honest figure
    for agents who are not cross-skilled.
    Returns ``pool, ds, volume, erlangs, agents_raw, agents_required, queues``.
    """
    needed = [c for c in ("unique_id", "ds", "volume", "erlangs", "agents_raw",
                          "agents_required") if c not in req.columns]
    if needed:
        raise SchedulerError(f"requirement frame: missing column {needed[0]!r}")
    frame = req.copy()
    names = frame["unique_id"].astype(str)
    if pools is None:
        frame["pool"] = "all"
    else:
        missing = sorted(set(names) - set(pools))
        if missing:
            raise SchedulerError(f"pools: no pool for queue {reprlib.repr(missing)}")
        frame["pool"] = names.map(pools)
    out = (frame.groupby(["pool", "ds"], sort=True, observed=True)
           .agg(volume=("volume", "sum"), erlangs=("erlangs", "sum"),
                agents_raw=("agents_raw", "sum"), agents_required=("agents_required", "sum"),
                queues=("unique_id", lambda s: ",".join(sorted(map(str, s.unique())))))
           .reset_index())
    out["pool"] = out["pool"].astype("string")
    return out

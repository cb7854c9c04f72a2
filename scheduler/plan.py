"""Reading a solved shift model back as the plan that is written, and measuring that plan.

Two halves, both column arithmetic (no Python loop per shift or per agent):

- `tours_frame` turns the solved counts (tours, shifts, break offsets) into one row per
  tour and worked day, `TOUR_COLUMNS` plus `break2_start, break2_end, ...` for families
  with several breaks.
- `written_plan` measures any set of written shifts against the requirement: the shift
  plan itself, or the named roster where tours nobody took are simply absent (short, not
  worked). Coverage is counted at the resolution of the activities (see
  `staffcast.scheduler.roster.cover_slots`), so a quarter-hour with everyone on break shows as short
  even when the interval's average looks fine.

Hours are hours; money is in the families' currency; agents are heads at work (on shift
and not on a break or lunch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .measures import plan_measures
from .model import ShiftModel, shrinkage_of, sl_seconds_of, slots_per_agent
from .pooling import pooled_slots
from .roster import break_name, cover_slots
from .rules import ShiftFamily
from .shifts import start_bands

TOUR_COLUMNS = ["tour_id", "family", "contract", "queue", "date", "shift_start", "shift_end",
                "break_start", "break_end", "lunch_start", "lunch_end", "paid_hours", "cost"]
COVERAGE_COLUMNS = ["unique_id", "ds", "required", "scheduled", "shortfall", "service_level"]
COVERAGE_EXTRA = ["scheduled_mean", "shortfall_agent_hours"]
"""coverage.csv's columns after the contract's six: the interval's average agents at work
(what the shift model counts) and the exact agent-hours short inside the interval."""


def pause_columns(family: ShiftFamily) -> dict[str, str]:
    """{break rule name: roster column prefix} for a family: its breaks of kind "break" in
    window order are `break`, `break2`, ...; its lunch is `lunch`."""
    ordered = sorted((b for b in family.breaks if b.kind == "break"),
                     key=lambda b: b.earliest_offset_minutes)
    out = {b.name: break_name(i) for i, b in enumerate(ordered, start=1)}
    out.update({b.name: "lunch" for b in family.breaks if b.kind == "lunch"})
    return out


def tour_columns(families) -> list[str]:
    """`TOUR_COLUMNS` plus `breakN_start, breakN_end` for the most breaks any family has."""
    most = max((sum(b.kind == "break" for b in f.breaks) for f in families), default=0)
    extra = [f"{break_name(n)}_{end}" for n in range(2, most + 1) for end in ("start", "end")]
    return TOUR_COLUMNS + extra


def _count(var) -> int:
    return int(round(var.varValue or 0.0))


def tours_frame(model: ShiftModel) -> pd.DataFrame:
    """The solved plan as tour-day rows, sorted by tour then start.

    Every shift the model starts is one row: shifts of weekly tours are dealt to the tours
    of their start band in start order (the linking constraints make the counts match), and
    each shift of a family without tours is its own tour. Each shift takes its breaks at
    the offsets the model chose for its start (the i-th shift of a start the i-th chosen
    offset of every break).
    """
    families = model.families
    names = tour_columns(families.values())
    pause_cols = [n[:-6] for n in names if n.endswith("_start") and n != "shift_start"]
    band_of = {f: {s: b for b, starts in enumerate(start_bands(fam, model.rules.min_rest_hours))
                   for s in starts} for f, fam in families.items()}
    lengths = {f: {pause_columns(fam)[b.name]: b.length_minutes for b in fam.breaks}
               for f, fam in families.items()}
    keys, counts = [], []
    offsets: dict[str, list[np.ndarray]] = {c: [] for c in pause_cols}
    for key in sorted(model.shifts):
        n = _count(model.shifts[key])
        if n == 0:
            continue
        keys.append(key)
        counts.append(n)
        by_column = {}
        for rule, column in pause_columns(families[key[1]]).items():
            chosen = model.breaks[key][rule]
            at = sorted(chosen)
            by_column[column] = np.repeat(np.array(at, dtype=np.int64),
                                          [_count(chosen[o]) for o in at])[:n]
        for column in pause_cols:
            # Each shift takes the i-th chosen offset; a missing one (not expected: the
            # model ties offsets to shifts) leaves the break empty rather than inventing it.
            got = by_column.get(column, np.empty(0, np.int64))
            offsets[column].append(np.concatenate([got, np.full(n - len(got), -1)]))
    counts_arr = np.asarray(counts, dtype=np.int64)
    key_no = np.repeat(np.arange(len(keys)), counts_arr)
    kf = pd.DataFrame(keys, columns=["queue", "family", "day", "start"])
    kf["band"] = [band_of[f][s] for f, s in zip(kf["family"], kf["start"])]
    inst = kf.iloc[key_no].reset_index(drop=True)
    weekly = inst["family"].map({f: fam.days_per_week is not None
                                 for f, fam in families.items()}).to_numpy(bool)

    slot_cols = ["queue", "family", "band", "day"]
    tour = np.zeros(len(inst), np.int64)
    tour_rows, tour_no = [], 0
    for (queue, family, band, pattern), var in sorted(model.tours.items(), key=lambda kv: kv[0]):
        n = _count(var)
        if n == 0:
            continue
        days = np.asarray(pattern, dtype=np.int64)
        tour_rows.append(pd.DataFrame({
            "queue": queue, "family": family, "band": band, "day": np.tile(days, n),
            "tour": np.repeat(np.arange(tour_no + 1, tour_no + n + 1), len(days))}))
        tour_no += n
    if tour_rows and weekly.any():
        # Tours of a band take that band's shifts of each day in start order.
        tour_days = pd.concat(tour_rows, ignore_index=True).sort_values(["tour", "day"],
                                                                          kind="stable")
        tour_days["rank"] = tour_days.groupby(slot_cols, sort=False).cumcount()
        w = inst[weekly].copy()
        w["rank"] = w.groupby(slot_cols, sort=False).cumcount()
        w["row"] = np.flatnonzero(weekly)
        dealt = w.merge(tour_days, on=[*slot_cols, "rank"], how="left")
        tour[dealt["row"].to_numpy()] = dealt["tour"].fillna(0).to_numpy(np.int64)
    daily = np.flatnonzero(~weekly)
    order = daily[np.lexsort((inst["start"].to_numpy()[daily], inst["day"].to_numpy()[daily],
                              inst["family"].to_numpy()[daily].astype(str),
                              inst["queue"].to_numpy()[daily].astype(str)))]
    tour[order] = np.arange(tour_no + 1, tour_no + len(order) + 1)

    def per_row(attr: str) -> pd.Series:
        return inst["family"].map({f: getattr(fam, attr) for f, fam in families.items()})

    length = per_row("length_minutes").to_numpy(np.int64)
    date = model.origin + pd.to_timedelta(inst["day"].to_numpy(np.int64), unit="D")
    begin = date + pd.to_timedelta(inst["start"].to_numpy(np.int64), unit="m")
    frame = pd.DataFrame({
        "tour_id": np.char.mod("T%04d", tour).astype(object),
        "family": inst["family"].to_numpy(object),
        "contract": per_row("contract").to_numpy(object),
        "queue": inst["queue"].to_numpy(object), "date": date, "shift_start": begin,
        "shift_end": begin + pd.to_timedelta(length, unit="m")})
    begin_ns = np.asarray(begin, dtype="datetime64[ns]")
    for column in pause_cols:
        at = np.concatenate(offsets[column]) if keys else np.empty(0, np.int64)
        width = inst["family"].map({f: lengths[f].get(column, 0) for f in families})
        start = begin_ns + (np.maximum(at, 0) * 60).astype("timedelta64[s]")
        end = start + (width.to_numpy(np.int64) * 60).astype("timedelta64[s]")
        frame[f"{column}_start"] = np.where(at >= 0, start, np.datetime64("NaT"))
        frame[f"{column}_end"] = np.where(at >= 0, end, np.datetime64("NaT"))
    frame["paid_hours"] = per_row("paid_hours").to_numpy(float)
    cost = np.array([model.shift_cost[k] for k in keys], dtype=float)
    frame["cost"] = cost[key_no] if keys else np.zeros(0)
    frame = frame.reindex(columns=names)
    for col in names:
        if col == "date" or col.endswith(("_start", "_end")):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    frame["paid_hours"] = frame["paid_hours"].astype(float)
    frame["cost"] = frame["cost"].astype(float)
    return frame.sort_values(["tour_id", "shift_start"], kind="stable").reset_index(drop=True)


def service_levels(requirement: pd.DataFrame, slots: np.ndarray, rules, *,
                   erlang_a: bool = True) -> np.ndarray:
    """Service level per requirement row of the agents at work in each sub-slot (`slots`,
    shape (rows, k)), averaged over the k sub-slots (a time mix); 1.0 at zero volume, NaN
    where volume, aht_s or erlangs is unknown (`staffcast.scheduler.measures.plan_measures`: agents
    net of shrinkage, `concurrency` slots each).

    Rows with `patience_s` use Erlang A, as the requirement was sized; `erlang_a=False`
    measures every row with Erlang C, the convention of the model's service-level
    objective, so the written objective is comparable with the solver's bound.
    """
    req = requirement
    if not erlang_a and "patience_s" in req.columns:
        req = req.drop(columns="patience_s")
    return plan_measures(req, slots, sl_seconds_of(req, rules))["service_level"]


@dataclass(frozen=True)
class WrittenPlan:
    """What a set of written shifts achieves: coverage rows (`COVERAGE_COLUMNS` +
    `COVERAGE_EXTRA`), the objective (see `written_plan`), paid hours, labour cost, agent-
    hours short and the volume-weighted Erlang C service level per day."""

    coverage: pd.DataFrame
    objective: float
    paid_hours: float
    labour_cost: float
    shortfall_agent_hours: float
    service_level_by_day: dict[str, float]


def written_plan(model: ShiftModel, shifts: pd.DataFrame) -> WrittenPlan:
    """Measure the written `shifts` (rows with `queue, shift_start, shift_end, paid_hours,
    cost` and their pause columns: a tours frame or an assigned roster) against the
    model's requirement. When `queue` holds skill-set labels ("aftersales;presales", a
    multi-skill plan), each sub-slot's agents at work per skill set are allocated to the
    queues they can serve by a maximum flow against the requirement
    (`staffcast.scheduler.pooling.allocate`), recomputed here from the written shifts, never taken from
    the model's allocation variables; `scheduled` is then a queue's allocation.

    Coverage per requirement row: `scheduled` is the fewest agents at work at any moment of
    the interval (the minimum over its sub-slots at the activity resolution), `shortfall` =
    max(required - scheduled, 0) agents, `scheduled_mean` the interval average, and
    `shortfall_agent_hours` = sum over sub-slots of max(required - at work, 0) x sub-slot
    hours. The plan wraps past its end onto its start only when the rules are `cyclic`,
    exactly as the model counts it.

    objective (money) = labour cost of the shifts (sum of `cost`)
        + shortfall_penalty x agent-intervals short, where agent-intervals short =
          sum of `shortfall_agent_hours` / interval hours            (objective "cover")
    With objective "service_level" the shortfall counts against the model's stable minimum
    floor(erlangs / concurrency) + 1 per interval instead of `required`, and
    service_level_penalty x max(target x volume - answered, 0) is added per day (or week),
    answered = sum of volume x the row's `service_level`.
    """
    rules = model.rules
    req = model.requirement
    width_h = rules.interval_minutes / 60
    pooled = len(shifts) and not set(shifts["queue"].astype(str)) <= set(model.queues)
    # Shifts of skill sets ("a;b") serve queues through the allocation of their agents.
    count = pooled_slots if pooled else cover_slots
    slots = count(shifts, req, rules.interval_minutes, cyclic=model.grid.cyclic,
                  origin=model.origin, horizon_minutes=model.grid.horizon_minutes)
    k = slots.shape[1]
    required = req["agents_required"].to_numpy(dtype=float)
    short_slots = np.maximum(required[:, None] - slots, 0.0)
    scheduled = slots.min(axis=1)
    sl = service_levels(req, slots, rules)
    coverage = pd.DataFrame({
        "unique_id": req["unique_id"].astype("string").to_numpy(), "ds": req["ds"].to_numpy(),
        "required": required, "scheduled": scheduled,
        "shortfall": np.maximum(required - scheduled, 0.0), "service_level": sl,
        "scheduled_mean": np.round(slots.mean(axis=1), 9),
        "shortfall_agent_hours": np.round(short_slots.sum(axis=1) * width_h / k, 9)})
    labour = float(shifts["cost"].sum()) if len(shifts) else 0.0
    short_hours = float(coverage["shortfall_agent_hours"].sum())
    if rules.objective == "cover":
        objective = labour + rules.shortfall_penalty * short_hours / width_h
    else:
        objective = labour + _service_level_terms(
            model, slots, service_levels(req, slots, rules, erlang_a=False))
    return WrittenPlan(coverage=coverage, objective=float(objective),
                       paid_hours=float(shifts["paid_hours"].sum()) if len(shifts) else 0.0,
                       labour_cost=labour, shortfall_agent_hours=short_hours,
                       service_level_by_day=_by_day(req, sl))


def _service_level_terms(model: ShiftModel, slots: np.ndarray, sl: np.ndarray) -> float:
    rules = model.rules
    req = model.requirement
    volume = req["volume"].to_numpy(dtype=float)
    has = volume > 0
    # The model's stable minimum: scheduled agents net of shrinkage above the traffic.
    floor = np.floor(req["erlangs"].to_numpy(float)
                     / (slots_per_agent(req) * (1.0 - shrinkage_of(req)))) + 1
    below = np.maximum(floor[:, None] - slots, 0.0).mean(axis=1)
    total = rules.shortfall_penalty * float(below[has].sum())
    ds = pd.to_datetime(req["ds"])
    period = (ds.dt.normalize() if rules.service_level_period == "day"
              else (ds - pd.to_timedelta(ds.dt.weekday, unit="D")).dt.normalize())
    frame = pd.DataFrame({"q": req["unique_id"].astype(str), "p": period,
                          "v": np.where(has, volume, 0.0),
                          "a": np.where(has, volume * np.nan_to_num(sl), 0.0)})[has]
    per = frame.groupby(["q", "p"])[["v", "a"]].sum()
    miss = np.maximum(rules.service_level_target * per["v"] - per["a"], 0.0)
    return total + rules.service_level_penalty * float(miss.sum())


def _by_day(req: pd.DataFrame, sl: np.ndarray) -> dict[str, float]:
    """Volume-weighted service level per calendar day (rows with known SL and volume)."""
    if "volume" not in req.columns:
        return {}
    weight = req["volume"].to_numpy(dtype=float)
    keep = np.isfinite(sl) & (weight > 0)
    if not keep.any():
        return {}
    day = pd.to_datetime(req["ds"]).dt.strftime("%Y-%m-%d").to_numpy()[keep]
    frame = pd.DataFrame({"day": day, "w": weight[keep], "ws": weight[keep] * sl[keep]})
    sums = frame.groupby("day")[["w", "ws"]].sum()
    return {str(d): float(r.ws / r.w) for d, r in sums.iterrows()}


def gap_to_bound(objective: float, bound: float | None) -> float | None:
    """Relative gap of `objective` above a lower `bound`: max(0, (objective - bound) /
    |objective|); None without a bound."""
    if bound is None or not math.isfinite(bound):
        return None
    return max(0.0, (objective - bound) / max(abs(objective), 1e-9))

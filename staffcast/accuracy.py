"""Forecast accuracy week after week: every recorded run against the actuals that arrived
later, read from the run store (`staffcast.store`).

For each run (forecast, plan, whatif or reforecast) whose horizon starts at most `weeks`
weeks before the latest actual, its forecast hours are joined with the stored actuals on
(unique_id, ds); only hours with an actual count. Metrics per run x queue x model over
the run's whole horizon (`METRICS`, contacts per hour):

- `wape` = sum|y - yhat| / sum y and `bias` = sum(yhat - y) / sum y (positive =
  over-forecast); both need sum y > 0. Closed hours add nothing to either sum.
- `coverage_80`, `coverage_95`: share of OPEN hours with y inside the band (bounds
  included); `interval_score_80`, `interval_score_95`: mean interval score of the band over
  open hours (width + 2/alpha x the miss, contacts per hour; lower is better, it rewards
  narrow bands and fines misses); `mae`: mean |y - yhat| over open hours; `hours`: open
  hours compared. An hour
  is open when the forecast or the actual is non-zero: a closed hour (both zero) is
  trivially "inside" any band and would inflate coverage, so it is left out.
- `actual_total`, `forecast_total`: contacts over the compared hours.
These are the definitions of `staffcast.forecasting.metrics` (wape, bias, coverage_80, coverage_95,
interval_score_80, interval_score_95), computed from
group sums so thousands of queues x runs stay one pass.

Staffing, for runs with requirements (per scenario): the agents the forecast implied
(stored `agents_required`) against the agents the actual volume needed, found by staffing
the actuals again with the scenario's own recorded config (its queue staffing settings and
opening hours) at the stored interval, flat within the hour as `plan` does.
`over_staffed_agent_hours` = sum max(implied - needed, 0) x interval hours and
`under_staffed_agent_hours` = sum max(needed - implied, 0) x interval hours, over the
intervals whose hour has an actual; `roster_over_agent_hours` / `roster_under_agent_hours`
the same with the scheduled agents of the run's coverage instead of the implied ones.
Scenario `base` writes the plain metric names; another scenario `s` writes `<name>:s`.

Finer breakdown: by week (the Monday of the target hour) and by horizon day (lead time
ds - origin in days, rounded up: 1 = the first 24 hours after the last history hour; 7
collects 7 days and more). A forecast stored without an origin is taken to start the hour
after it (origin = its first hour - 1 h).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from staffcast.errors import StaffcastError
from staffcast.store import RunStore

HORIZON_DAYS = 7  # lead times of this many days or more share the last horizon bucket
BASE_SCENARIO = "base"
_HOUR = pd.Timedelta(hours=1)
_DAY = pd.Timedelta(days=1)
METRIC_COLUMNS = ("run_id", "unique_id", "model", "metric", "value")
DETAIL_COLUMNS = ("run_id", "unique_id", "model", "week", "horizon_day", "metric", "value")
_KEYS = ("run_id", "unique_id", "model")


class AccuracyError(StaffcastError):
    """The store cannot give an accuracy table (no actuals yet, a bad argument); the
    message names the store and what to do."""


@dataclass(frozen=True)
class Metric:
    """A metric computed from the group sums of `_sums` (columns `actual`, `forecast`,
    `abs_error`, `error`, `open_hours`, `in_80`, `in_95`); undefined rows are NaN and are
    not written."""

    name: str
    description: str
    compute: Callable[[pd.DataFrame], pd.Series]


def _per_volume(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda s: s[column] / s["actual"].where(s["actual"] > 0)


def _per_open_hour(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda s: s[column] / s["open_hours"].where(s["open_hours"] > 0)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("wape", "sum|y - yhat| / sum y (fraction)", _per_volume("abs_error")),
    Metric("bias", "sum(yhat - y) / sum y (fraction; positive = over-forecast)",
           _per_volume("error")),
    Metric("coverage_80", "share of open hours with y inside the 80% band",
           _per_open_hour("in_80")),
    Metric("coverage_95", "share of open hours with y inside the 95% band",
           _per_open_hour("in_95")),
    Metric("interval_score_80", "mean interval score of the 80% band over open hours "
           "(contacts per hour; width + 2/alpha x miss)", _per_open_hour("is_80")),
    Metric("interval_score_95", "mean interval score of the 95% band over open hours "
           "(contacts per hour; width + 2/alpha x miss)", _per_open_hour("is_95")),
    Metric("mae", "mean |y - yhat| over open hours (contacts per hour)",
           _per_open_hour("abs_error")),
    Metric("hours", "open hours compared", lambda s: s["open_hours"].astype(float)),
    Metric("actual_total", "actual contacts over the compared hours",
           lambda s: s["actual"]),
    Metric("forecast_total", "forecast contacts over the compared hours",
           lambda s: s["forecast"]),
)}

WEEKLY_METRICS = ("wape", "bias", "coverage_80", "coverage_95", "interval_score_80")
STAFFING_METRICS = ("over_staffed_agent_hours", "under_staffed_agent_hours",
                    "roster_over_agent_hours", "roster_under_agent_hours")


def get_metric(name: str) -> Metric:
    """A metric by registry name; an unknown name lists the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise AccuracyError(f"unknown metric {name!r}; valid metrics: "
                            f"{', '.join(METRICS)}") from None


@dataclass(frozen=True)
class AccuracyReport:
    """What `accuracy` found.

    runs: every run in the window: run_id, kind, model, horizon_start, horizon_end, status
        ('compared' | 'waiting' for actuals), hours_with_actuals (forecast rows joined).
    metrics: whole-horizon rows `METRIC_COLUMNS` (forecast and staffing metrics).
    detail: the same by week and horizon day, `DETAIL_COLUMNS`.
    by_week: pooled over runs per week, queue and model with open hours: runs (with open
        hours in the week), hours, wape, bias, coverage_80, coverage_95,
        interval_score_80 (the printed table).
    staffing: run_id, scenario, unique_id, model, intervals and the four agent-hour
        figures (roster ones NaN without coverage).
    notes: scenarios whose staffing could not be compared, and why.
    latest_actual, since: the newest actual hour and the earliest horizon start taken.
    """

    runs: pd.DataFrame
    metrics: pd.DataFrame
    detail: pd.DataFrame
    by_week: pd.DataFrame
    staffing: pd.DataFrame
    notes: tuple[str, ...]
    latest_actual: pd.Timestamp
    since: pd.Timestamp


def _sums(hours: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per group of `keys`: the sums every metric is computed from."""
    y, yhat = hours["y"].to_numpy(float), hours["yhat"].to_numpy(float)
    is_open = (y != 0) | (yhat != 0)
    parts = hours[list(keys)].copy()
    parts["actual"] = y
    parts["forecast"] = yhat
    parts["abs_error"] = np.abs(y - yhat)
    parts["error"] = yhat - y
    parts["open_hours"] = is_open.astype(np.int64)
    for level in ("80", "95"):
        lo = hours[f"yhat_lo_{level}"].to_numpy(float)
        hi = hours[f"yhat_hi_{level}"].to_numpy(float)
        inside = (y >= lo) & (y <= hi)
        parts[f"in_{level}"] = (inside & is_open).astype(np.int64)
        miss = np.clip(lo - y, 0.0, None) + np.clip(y - hi, 0.0, None)
        score = hi - lo + 2 / (1 - int(level) / 100) * miss
        parts[f"is_{level}"] = np.where(is_open, score, 0.0)
    return parts.groupby(list(keys), sort=True, observed=True).sum().reset_index()


def metric_rows(hours: pd.DataFrame, keys: Sequence[str],
                names: Sequence[str] | None = None) -> pd.DataFrame:
    """Long rows `keys..., metric, value` of the registry metrics `names` (all by default)
    over the hour rows `hours` (columns keys, y, yhat and the bands)."""
    metrics = [get_metric(n) for n in (names or METRICS)]
    sums = _sums(hours, keys)
    frames = []
    for metric in metrics:
        part = sums[list(keys)].copy()
        part["metric"] = metric.name
        part["value"] = metric.compute(sums).astype(float).to_numpy()
        frames.append(part)
    out = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    order = {name: i for i, name in enumerate(METRICS)}
    out = out.assign(_o=out["metric"].map(order)).sort_values([*keys, "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def week_of(ds: pd.Series) -> pd.Series:
    """The Monday (00:00) of each timestamp's week."""
    ds = pd.to_datetime(ds)
    return ds.dt.normalize() - pd.to_timedelta(ds.dt.day_of_week, unit="D")


def horizon_day(ds: pd.Series, origin: pd.Series) -> pd.Series:
    """Lead time in whole days rounded up (1 = first 24 hours after the origin), capped
    at `HORIZON_DAYS`."""
    lead = (pd.to_datetime(ds) - pd.to_datetime(origin)) / _DAY
    return np.ceil(lead).clip(1, HORIZON_DAYS).astype(np.int64)


def _in_list(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _forecast_hours(store: RunStore, run_ids: Sequence[int]) -> pd.DataFrame:
    """Forecast rows of `run_ids` joined with their actuals, plus week and horizon_day."""
    if not run_ids:
        return pd.DataFrame(columns=[*_KEYS, "ds", "y"])
    # The fallback origin is the forecast's first hour, before the join drops any hours.
    hours = store.query(
        "WITH f AS (SELECT *, coalesce(origin, min(ds) OVER (PARTITION BY run_id, "
        "unique_id, model) - INTERVAL 1 HOUR) AS lead_from FROM forecasts WHERE run_id IN "
        f"({_in_list(run_ids)})) SELECT f.run_id, f.unique_id, f.model, f.ds, a.y, f.yhat, "
        "f.yhat_lo_80, f.yhat_hi_80, f.yhat_lo_95, f.yhat_hi_95, f.lead_from AS origin "
        "FROM f JOIN actuals a USING (unique_id, ds) "
        "ORDER BY f.run_id, f.unique_id, f.model, f.ds")
    hours["week"] = week_of(hours["ds"])
    hours["horizon_day"] = horizon_day(hours["ds"], hours["origin"])
    return hours


def _metric_name(name: str, scenario: str) -> str:
    return name if scenario == BASE_SCENARIO else f"{name}:{scenario}"


def _needed_agents(config_yaml: str, where: str, volume: pd.DataFrame,
                   interval_minutes: int) -> pd.DataFrame:
    """`unique_id, ds, needed`: agents the actual hourly `volume` needed, staffed with the
    staffing settings and opening hours of the recorded config."""
    from staffcast.scheduler.requirements import compute_requirements
    from staffcast.config import parse_config
    from staffcast.pipeline import staffing_settings

    try:
        data = yaml.safe_load(config_yaml)
    except yaml.YAMLError as exc:
        raise AccuracyError(f"{where}: the recorded config is not valid YAML: {exc}") from exc
    config = parse_config(data, where)
    queues, hours = staffing_settings(config, sorted(volume["unique_id"].unique()))
    needed = compute_requirements(volume, queues, interval_minutes=interval_minutes,
                                  opening_hours=hours)
    return pd.DataFrame({"unique_id": needed["unique_id"].astype(str).to_numpy(),
                         "ds": needed["ds"].to_numpy(),
                         "needed": needed["agents_required"].to_numpy(float)})


def _hourly_volume(actuals: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`unique_id, ds, volume`: the actual contacts of each interval the requirement `rows`
    touch, on a gap-free grid per queue at the actuals' own interval (hourly, or 15/30
    minutes when the actuals are), summed onto the requirement's interval when finer.
    compute_requirements reads the row length from the smallest gap, so a missing interval
    must not make two look like one long row; intervals without an actual are zero here
    and dropped with their requirement rows later."""
    parts = []
    for uid, sub in rows.groupby("unique_id", sort=True):
        seen = actuals[actuals["unique_id"] == uid].set_index("ds")["y"].sort_index()
        gaps = seen.index.to_series().diff().dropna()
        step = gaps.min() if len(gaps) else _HOUR
        interval = pd.Timedelta(minutes=int(sub["interval_minutes"].min())) \
            if "interval_minutes" in sub else _HOUR
        step = min(step, _HOUR)
        # The last requirement interval is covered whole: its finer steps are summed.
        end = sub["ds"].max().floor(step) + max(interval, step) - step
        grid = pd.date_range(sub["ds"].min().floor(step), end, freq=step)
        volume = pd.Series(seen.reindex(grid, fill_value=0.0).to_numpy(), index=grid)
        if step < interval:
            volume = volume.groupby(volume.index.floor(interval)).sum()
        parts.append(pd.DataFrame({"unique_id": uid, "ds": volume.index,
                                   "volume": volume.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _staffing_intervals(store: RunStore, runs: pd.DataFrame, origins: pd.DataFrame
                        ) -> tuple[pd.DataFrame, list[str]]:
    """Per run, scenario, queue and interval with an actual: implied, needed and scheduled
    agents and the interval length; plus notes on scenarios that could not be compared."""
    notes: list[str] = []
    run_ids = runs["run_id"].tolist()
    columns = ["run_id", "scenario", "unique_id", "ds", "interval_minutes", "implied",
               "needed", "scheduled"]
    if not run_ids:
        return pd.DataFrame(columns=columns), notes
    implied = store.query(
        "SELECT r.run_id, r.scenario, r.unique_id, r.ds, r.interval_minutes, "
        "r.agents_required AS implied FROM requirements r WHERE r.run_id IN "
        f"({_in_list(run_ids)}) AND EXISTS (SELECT 1 FROM actuals a WHERE a.unique_id = "
        "r.unique_id AND a.ds = date_trunc('hour', r.ds)) ORDER BY r.run_id, r.scenario, "
        "r.unique_id, r.ds")
    if implied.empty:
        return pd.DataFrame(columns=columns), notes
    configs = store.query(
        f"SELECT run_id, scenario, config_yaml FROM schedules WHERE run_id IN "
        f"({_in_list(run_ids)})")
    run_config = dict(zip(runs["run_id"], runs["config_yaml"]))
    actuals = store.query(
        "SELECT DISTINCT a.unique_id, a.ds, a.y FROM actuals a JOIN requirements r ON "
        "a.unique_id = r.unique_id AND a.ds = date_trunc('hour', r.ds) WHERE r.run_id IN "
        f"({_in_list(run_ids)}) ORDER BY a.unique_id, a.ds")
    coverage = store.query(
        "SELECT run_id, scenario, unique_id, ds, scheduled FROM coverage WHERE run_id IN "
        f"({_in_list(run_ids)})")
    pieces = []
    for (run_id, scenario), rows in implied.groupby(["run_id", "scenario"], sort=True):
        where = f"run {run_id} scenario {scenario!r}"
        found = configs[(configs["run_id"] == run_id) & (configs["scenario"] == scenario)]
        text = found["config_yaml"].iloc[0] if len(found) else None
        text = text or run_config.get(run_id) or ""
        if not text.strip():
            notes.append(f"{where}: no config recorded, staffing not compared")
            continue
        volume = _hourly_volume(actuals, rows)
        parts = []
        try:
            for minutes, by_interval in rows.groupby("interval_minutes", sort=True):
                queues = by_interval["unique_id"].unique()
                needed = _needed_agents(text, where, volume[volume["unique_id"].isin(queues)],
                                        int(minutes))
                parts.append(by_interval.merge(needed, on=["unique_id", "ds"], how="inner"))
        except ValueError as exc:
            notes.append(f"{where}: staffing not compared: {' '.join(str(exc).split())}")
            continue
        piece = pd.concat(parts, ignore_index=True)
        scheduled = coverage[(coverage["run_id"] == run_id)
                             & (coverage["scenario"] == scenario)]
        piece = piece.merge(scheduled[["unique_id", "ds", "scheduled"]],
                            on=["unique_id", "ds"], how="left")
        pieces.append(piece)
    if not pieces:
        return pd.DataFrame(columns=columns), notes
    out = pd.concat(pieces, ignore_index=True)[columns]
    out = out.merge(origins, on=["run_id", "unique_id"], how="left")
    out["model"] = out["run_id"].map(dict(zip(runs["run_id"], runs["model"]))).fillna("")
    out["week"] = week_of(out["ds"])
    out["horizon_day"] = horizon_day(out["ds"], out["origin"].fillna(out["ds"] - _HOUR))
    return out, notes


def _staffing_sums(intervals: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    frame = intervals.copy()
    span = frame["interval_minutes"].to_numpy(float) / 60.0
    implied, needed = frame["implied"].to_numpy(float), frame["needed"].to_numpy(float)
    scheduled = frame["scheduled"].to_numpy(float)
    frame["over_staffed_agent_hours"] = np.maximum(implied - needed, 0) * span
    frame["under_staffed_agent_hours"] = np.maximum(needed - implied, 0) * span
    frame["roster_over_agent_hours"] = np.maximum(scheduled - needed, 0) * span
    frame["roster_under_agent_hours"] = np.maximum(needed - scheduled, 0) * span
    frame["intervals"] = 1
    frame["rostered"] = np.isfinite(scheduled).astype(np.int64)
    sums = frame.groupby(list(keys), sort=True, observed=True)[
        ["intervals", "rostered", *STAFFING_METRICS]].sum(min_count=1).reset_index()
    for name in ("roster_over_agent_hours", "roster_under_agent_hours"):
        sums[name] = sums[name].where(sums["rostered"] > 0)
    return sums


def _staffing_long(sums: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    long = sums.melt(id_vars=[*keys, "scenario"], value_vars=list(STAFFING_METRICS),
                     var_name="metric", value_name="value").dropna(subset=["value"])
    long["metric"] = [_metric_name(m, s) for m, s in zip(long["metric"], long["scenario"])]
    return long.drop(columns="scenario")


def accuracy(store: RunStore, weeks: int = 8) -> AccuracyReport:
    """Compare every run whose horizon starts at most `weeks` weeks before the latest
    stored actual with the actuals (see the module docstring). Runs without actuals yet
    are listed as waiting."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise AccuracyError(f"weeks must be a whole number >= 1, got {weeks!r}")
    latest = store.query("SELECT max(ds) AS ds FROM actuals")["ds"].iloc[0]
    if latest is None or pd.isna(latest):
        raise AccuracyError(f"run store {store.path} holds no actuals yet; load them with "
                            "`staffcast actuals --history H`")
    latest = pd.Timestamp(latest)
    since = latest - pd.Timedelta(weeks=weeks)
    runs = store.query(
        "SELECT r.run_id, r.kind, r.model, coalesce(r.horizon_start, q.start) AS "
        "horizon_start, coalesce(r.horizon_end, q.stop) AS horizon_end, r.config_yaml "
        "FROM runs r LEFT JOIN (SELECT run_id, min(ds) AS start, max(ds) AS stop FROM "
        "requirements GROUP BY run_id) q USING (run_id) WHERE coalesce(r.horizon_start, "
        "q.start) >= ? ORDER BY r.run_id", [since.to_pydatetime()])
    runs["model"] = runs["model"].astype(object).where(runs["model"].notna(), "")
    run_ids = runs["run_id"].tolist()
    hours = _forecast_hours(store, run_ids)
    origins = (hours.groupby(["run_id", "unique_id"])["origin"].min().reset_index()
               if len(hours) else pd.DataFrame(columns=["run_id", "unique_id", "origin"]))
    intervals, notes = _staffing_intervals(store, runs, origins)

    metrics = [metric_rows(hours, _KEYS)] if len(hours) else []
    detail = ([metric_rows(hours, [*_KEYS, "week", "horizon_day"])] if len(hours) else [])
    staffing = pd.DataFrame(columns=["run_id", "scenario", "unique_id", "model", "intervals",
                                     *STAFFING_METRICS])
    if len(intervals):
        whole = _staffing_sums(intervals, ["run_id", "scenario", "unique_id", "model"])
        staffing = whole[["run_id", "scenario", "unique_id", "model", "intervals",
                          *STAFFING_METRICS]]
        metrics.append(_staffing_long(whole, _KEYS))
        cells = _staffing_sums(intervals, ["run_id", "scenario", "unique_id", "model", "week",
                                           "horizon_day"])
        detail.append(_staffing_long(cells, [*_KEYS, "week", "horizon_day"]))
    metrics_frame = (pd.concat(metrics, ignore_index=True)[list(METRIC_COLUMNS)]
                     if metrics else pd.DataFrame(columns=list(METRIC_COLUMNS)))
    detail_frame = (pd.concat(detail, ignore_index=True)[list(DETAIL_COLUMNS)]
                    if detail else pd.DataFrame(columns=list(DETAIL_COLUMNS)))
    for frame in (metrics_frame, detail_frame):
        frame["run_id"] = frame["run_id"].astype(np.int64)
        frame["value"] = frame["value"].astype(float)
    if len(detail_frame):
        detail_frame["horizon_day"] = detail_frame["horizon_day"].astype(np.int64)

    joined = hours.groupby("run_id").size() if len(hours) else pd.Series(dtype=np.int64)
    staffed = set(intervals["run_id"]) if len(intervals) else set()
    listing = runs.drop(columns="config_yaml").copy()
    listing["hours_with_actuals"] = listing["run_id"].map(joined).fillna(0).astype(np.int64)
    listing["status"] = np.where((listing["hours_with_actuals"] > 0)
                                 | listing["run_id"].isin(staffed), "compared", "waiting")
    by_week = (_by_week(hours) if len(hours) else
               pd.DataFrame(columns=["week", "unique_id", "model", "runs", "hours",
                                     *WEEKLY_METRICS]))
    return AccuracyReport(listing, metrics_frame, detail_frame, by_week,
                          staffing.reset_index(drop=True), tuple(notes), latest, since)


def _by_week(hours: pd.DataFrame) -> pd.DataFrame:
    keys = ["week", "unique_id", "model"]
    wide = metric_rows(hours, keys, ["hours", *WEEKLY_METRICS]).pivot_table(
        index=keys, columns="metric", values="value", aggfunc="first").reset_index()
    for name in WEEKLY_METRICS:
        if name not in wide.columns:
            wide[name] = math.nan
    is_open = (hours["y"] != 0) | (hours["yhat"] != 0)
    runs = hours[is_open].groupby(keys)["run_id"].nunique().rename("runs").reset_index()
    # A week of closed hours only (a weekend the horizon grazes) has nothing to show.
    wide = wide.merge(runs, on=keys, how="inner")
    wide["hours"] = wide["hours"].astype(np.int64)
    wide.columns.name = None
    return wide[[*keys, "runs", "hours", *WEEKLY_METRICS]].reset_index(drop=True)

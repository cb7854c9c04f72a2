"""The Erlang measures of staffed intervals, in one place and one convention.

A queue with a mean patience (`patience_s`) is measured with Erlang A (M/M/N+M): callers
hang up, the service level counts them as not answered, and the abandonment is reported.
A queue without one is measured with Erlang C (M/M/N): nobody hangs up. This is how the
requirement was sized (`staffcast.scheduler.requirements`), so a plan's coverage, a what-if
comparison and a simulation's Erlang column say what the requirement promised.

`queue_measures` works on servers (chat slots); `plan_measures` turns agents at work into
productive slots the way the requirement grossed them up: floor(at work x (1 -
shrinkage)) agents, each holding `concurrency` slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .erlang import asa_s as erlang_c_asa
from .erlang import erlang_a_metrics
from .erlang import occupancy as erlang_c_occupancy
from .erlang import service_level as erlang_c_service_level

MEASURES = ("service_level", "asa_s", "occupancy", "abandon_rate")


def queue_measures(servers: Any, traffic_erl: Any, aht_s: Any, sl_seconds: Any,
                   patience_s: Any = None) -> dict[str, np.ndarray]:
    """{measure: array} of `MEASURES` per row: `servers` whole servers (chat slots) facing
    `traffic_erl` Erlangs of contacts handled in `aht_s` seconds; service level is the
    share answered within `sl_seconds` seconds, `asa_s` the mean wait of answered
    contacts in seconds, occupancy the share of server time busy. Rows whose `patience_s`
    (seconds) is finite and > 0 use Erlang A, the others Erlang C (abandon_rate NaN).
    All arguments broadcast to one shape of rows."""
    n, a, aht, t, pat = np.broadcast_arrays(
        np.asarray(servers, dtype=float), np.asarray(traffic_erl, dtype=float),
        np.asarray(aht_s, dtype=float), np.asarray(sl_seconds, dtype=float),
        np.asarray(np.nan if patience_s is None else patience_s, dtype=float))
    n = n.astype(np.int64)
    out = {k: np.full(n.shape, np.nan) for k in MEASURES}
    with_a = np.isfinite(pat) & (pat > 0)
    c = ~with_a
    if c.any():
        out["service_level"][c] = erlang_c_service_level(n[c], a[c], aht[c], t[c])
        out["asa_s"][c] = erlang_c_asa(n[c], a[c], aht[c])
        out["occupancy"][c] = erlang_c_occupancy(n[c], a[c])
    if with_a.any():
        m = erlang_a_metrics(n[with_a], a[with_a], aht[with_a], pat[with_a], t[with_a])
        for key in MEASURES:
            out[key][with_a] = m[key]
    return out


def _column(frame: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default)
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, default)


def plan_measures(requirement: pd.DataFrame, at_work: np.ndarray,
                  sl_seconds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """`queue_measures` of the agents at work per requirement row: `at_work` has one value
    per row, or shape (rows, k) for k sub-slots of each interval (the measures are then
    averaged over them, a time mix). The requirement supplies `volume`, `erlangs` and
    `aht_s` (per chat slot) and the echoed `shrinkage`, `concurrency`, `sl_seconds` and
    `patience_s` (`sl_seconds` given here overrides it). An interval without contacts has
    service level 1, ASA 0 and no abandonment; NaN where volume, AHT or Erlangs are
    unknown."""
    req = requirement
    rows = len(req)
    slots = np.asarray(at_work, dtype=float).reshape(rows, -1)
    k = slots.shape[1]
    out = {key: np.full(rows, np.nan) for key in MEASURES}
    if not {"volume", "aht_s", "erlangs"} <= set(req.columns):
        return out
    volume = req["volume"].to_numpy(dtype=float)
    aht = req["aht_s"].to_numpy(dtype=float)
    traffic = req["erlangs"].to_numpy(dtype=float)
    shrink = _column(req, "shrinkage", 0.0)
    shrink = np.where((shrink >= 0) & (shrink < 1), shrink, 0.0)
    per_agent = _column(req, "concurrency", 1.0)
    per_agent = np.where(per_agent >= 1, np.floor(per_agent), 1.0)
    seconds = _column(req, "sl_seconds", 0.0) if sl_seconds is None else sl_seconds
    patience = _column(req, "patience_s", np.nan)
    productive = np.floor(slots * (1.0 - shrink)[:, None] + 1e-9) * per_agent[:, None]
    known = (volume > 0) & np.isfinite(aht) & (aht > 0) & np.isfinite(traffic)
    if known.any():
        got = queue_measures(productive[known].ravel(), np.repeat(traffic[known], k),
                             np.repeat(aht[known], k), np.repeat(seconds[known], k),
                             np.repeat(patience[known], k))
        for key in MEASURES:
            out[key][known] = got[key].reshape(-1, k).mean(axis=1)
    idle = volume == 0
    out["service_level"][idle] = 1.0
    out["asa_s"][idle] = 0.0
    out["abandon_rate"][idle & np.isfinite(patience)] = 0.0
    return out

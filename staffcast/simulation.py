"""A plan checked by simulation, in memory: the result, its files and its day table.

`simulate(plan_or_folder, ...)` runs `staffcast.scheduler.simulate` on a `staffcast.api.Plan` held in
memory or on a plan folder; `Simulation.files()` gives simulation_intervals.csv,
simulation_days.csv and simulation.json as text, `Simulation.write(folder)` writes them
atomically and `Simulation.table(folder)` is the day table the CLI prints.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

OUTPUT_FILES = ("simulation_intervals.csv", "simulation_days.csv", "simulation.json")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Simulation:
    """A simulated plan: `intervals` and `days` (as `staffcast.scheduler.simulate.PlanSimulation`:
    service level and abandonment as shares, ASA in seconds, 95% confidence bounds, the
    Erlang figure beside each), the `settings` it ran with (as simulation.json holds them,
    with `contacts_simulated`, `seconds` of wall time and `skipped_queues`)."""

    intervals: pd.DataFrame
    days: pd.DataFrame
    settings: Mapping[str, Any]

    def files(self) -> dict[str, str]:
        """{file name: text} of simulation_intervals.csv, simulation_days.csv and
        simulation.json."""
        intervals = self.intervals.assign(
            ds=self.intervals["ds"].dt.strftime("%Y-%m-%d %H:%M"))
        days = self.days.assign(day=self.days["day"].dt.strftime("%Y-%m-%d"))
        return {OUTPUT_FILES[0]: intervals.to_csv(index=False, date_format=_DATE_FORMAT),
                OUTPUT_FILES[1]: days.to_csv(index=False, date_format=_DATE_FORMAT),
                OUTPUT_FILES[2]: json.dumps(dict(self.settings), indent=2) + "\n"}

    def write(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write `files()` into `folder`, each atomically; returns {name: path}."""
        from staffcast.outputs import atomic_write_text

        return {name: atomic_write_text(Path(folder) / name, text)
                for name, text in self.files().items()}

    def table(self, folder: str | os.PathLike[str] | None = None) -> str:
        """The day table as text: offered contacts, simulated SL with its 95% interval,
        the Erlang SL, ASA and abandonment per queue and day; `folder` names where the
        files are."""
        s = self.settings
        lines = [f"simulate: {s['contacts_simulated']:,} contacts, {s['replications']} "
                 f"replication(s), {s['seconds']:.1f} s",
                 f"  {'queue':<14}{'day':<12}{'offered':>9}  {'SL':>6} {'95% CI':>15}  "
                 f"{'Erlang':>6}  {'ASA s':>6}  {'aband.':>6}"]
        for row in self.days.itertuples(index=False):
            ci = (f"[{_pct(row.service_level_lo_95).strip()}, "
                  f"{_pct(row.service_level_hi_95).strip()}]")
            lines.append(f"  {row.unique_id:<14}{row.day:%Y-%m-%d}  {row.offered:9,.0f}  "
                         f"{_pct(row.service_level)} {ci:>15}  "
                         f"{_pct(row.erlang_service_level)}  {row.asa_s:6.1f}  "
                         f"{_pct(row.abandon_rate)}")
        for queue, reason in s["skipped_queues"].items():
            lines.append(f"  skipped {queue}: {reason}")
        if folder is not None:
            lines.append(f"  outputs in {folder}")
        return "\n".join(lines)


def _pct(value: float) -> str:
    return "  n/a" if not math.isfinite(value) else f"{value:6.1%}"


def simulate(plan: Any, *, replications: int = 20, seed: int = 0,
             handle_dist: str = "exponential", handle_cv: float = 1.0,
             sl_seconds: float | None = None, patience_s: float | None = None,
             forecast: pd.DataFrame | None = None, forecast_path: Path | None = None,
             model: str | None = None, volume_shock: str = "day") -> Simulation:
    """Simulate a plan contact by contact (`staffcast.scheduler.simulate.simulate_plan`): `plan` is
    a `staffcast.api.Plan` in memory or the path of a plan folder. `sl_seconds` and
    `patience_s` (seconds) override the requirement's; `forecast` (yhat and its 80% band)
    makes each replication draw its volumes from the band; `forecast_path` and `model`
    are only recorded in the settings."""
    from staffcast.scheduler.simulate import PlanError, simulate_frames, simulate_plan

    arguments = dict(replications=replications, seed=seed, handle_dist=handle_dist,
                     handle_cv=handle_cv, sl_seconds=sl_seconds, patience_s=patience_s,
                     forecast=forecast, volume_shock=volume_shock)
    started = time.perf_counter()
    if isinstance(plan, (str, os.PathLike)):
        res = simulate_plan(plan, **arguments)
        source = str(plan)
    else:
        if not plan.has_plan:
            raise PlanError(f"no plan to simulate ({plan.summary['status']})")
        res = simulate_frames(plan.requirements, plan.roster, plan.activities,
                              interval_minutes=plan.config.schedule.interval_minutes,
                              **arguments)
        source = "(in memory)"
    settings = {"plan": source, "replications": replications, "seed": seed,
                "handle_dist": handle_dist, "handle_cv": handle_cv, "sl_seconds": sl_seconds,
                "patience_s": patience_s,
                "forecast": None if forecast_path is None else str(forecast_path),
                "model": model, "volume_shock": volume_shock if forecast_path else None,
                "contacts_simulated": res.contacts,
                "seconds": round(time.perf_counter() - started, 3),
                "skipped_queues": res.skipped}
    return Simulation(res.intervals, res.days, settings)

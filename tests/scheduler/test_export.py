"""Schedule outputs: golden CSV bytes, summary JSON, atomic and all-or-nothing writing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffcast.scheduler.agents import Agent, assign_agents
from staffcast.scheduler.export import SUMMARY_KEYS, write_schedule_outputs
from staffcast.scheduler.roster import activities_frame, roster_frame

GOLDEN = Path(__file__).parent / "golden"
T = pd.Timestamp
NAT = pd.NaT


def small_tours() -> pd.DataFrame:
    """Two tours over three days: a day shift with break and lunch, an overnight shift, a
    part-time evening shift without breaks."""
    base = dict(family="ft8", contract="full_time", queue="presales", cost=0.0)
    return pd.DataFrame([
        dict(base, tour_id="T0001", date=T("2026-11-09"), shift_start=T("2026-11-09 08:00"),
             shift_end=T("2026-11-09 17:00"), break_start=T("2026-11-09 10:00"),
             break_end=T("2026-11-09 10:15"), lunch_start=T("2026-11-09 12:30"),
             lunch_end=T("2026-11-09 13:30"), paid_hours=8.0),
        dict(base, tour_id="T0001", date=T("2026-11-10"), shift_start=T("2026-11-10 22:00"),
             shift_end=T("2026-11-11 06:00"), break_start=T("2026-11-11 01:00"),
             break_end=T("2026-11-11 01:15"), lunch_start=NAT, lunch_end=NAT, paid_hours=7.75),
        dict(base, tour_id="T0002", family="pt4", contract="part_time", queue="aftersales",
             date=T("2026-11-11"), shift_start=T("2026-11-11 18:00"),
             shift_end=T("2026-11-11 22:00"), break_start=NAT, break_end=NAT, lunch_start=NAT,
             lunch_end=NAT, paid_hours=4.0),
    ])


def small_plan():
    agents = [Agent("ana", "full_time", 0, 40), Agent("bo", "part_time", 0, 20),
              Agent("cy", "part_time", 0, 20, queues=frozenset({"presales"}))]
    assignment = assign_agents(small_tours(), agents, min_rest_hours=11, max_consecutive_days=6)
    roster = roster_frame(assignment.roster)
    activities = activities_frame(roster, pd.date_range("2026-11-09", periods=3),
                                  idle_agents=assignment.idle_agents)
    coverage = pd.DataFrame({"unique_id": ["presales", "presales"],
                             "ds": [T("2026-11-09 08:00"), T("2026-11-09 08:30")],
                             "required": [1.0, 2.0], "scheduled": [1.0, 1.0],
                             "shortfall": [0.0, 1.0], "service_level": [0.9, np.nan]})
    return roster, activities, coverage


def summary(status="optimal", **extra):
    values = dict(status=status, objective=123.5, lp_bound=123.0, mip_gap=np.float64(0.004),
                  solve_seconds=1.25, solver="cbc", paid_hours=19.75, labour_cost=float("nan"),
                  shortfall_agent_hours=0.5, service_level_by_day={"2026-11-09": 0.9})
    return {**values, **extra}


def test_roster_and_activities_match_golden_bytes(tmp_path):
    roster, activities, coverage = small_plan()
    paths = write_schedule_outputs(tmp_path, roster=roster, activities=activities,
                                   coverage=coverage, summary=summary())
    assert set(paths) == {"roster.csv", "activities.csv", "coverage.csv", "summary.json"}
    for name in ("roster.csv", "activities.csv", "coverage.csv"):
        assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes(), name


def test_summary_json_has_every_key_and_null_for_nan(tmp_path):
    roster, activities, coverage = small_plan()
    write_schedule_outputs(tmp_path, roster=roster, activities=activities, coverage=coverage,
                           summary=summary(unassigned_tours=0, agents_used=2))
    data = json.loads((tmp_path / "summary.json").read_text())
    assert set(SUMMARY_KEYS) <= set(data)
    assert data["labour_cost"] is None and data["mip_gap"] == 0.004
    assert data["agents_used"] == 2 and data["service_level_by_day"] == {"2026-11-09": 0.9}


def test_extra_files_are_written_next_to_outputs(tmp_path):
    roster, activities, coverage = small_plan()
    write_schedule_outputs(tmp_path, roster=roster, activities=activities, coverage=coverage,
                           summary=summary(), extra_files={"config.resolved.yaml": "a: 1\n"})
    assert (tmp_path / "config.resolved.yaml").read_text() == "a: 1\n"
    with pytest.raises(ValueError, match="plain file name"):
        write_schedule_outputs(tmp_path, roster=roster, activities=activities,
                               coverage=coverage, summary=summary(),
                               extra_files={"../escape.txt": "x"})


@pytest.mark.parametrize("bad, message", [
    ({"status": "done"}, "status must be one of optimal, feasible, infeasible, error"),
    ({"objective": None, "__drop__": "lp_bound"}, "missing key.*lp_bound"),
])
def test_bad_summary_is_rejected(tmp_path, bad, message):
    roster, activities, coverage = small_plan()
    values = summary()
    values.pop(bad.pop("__drop__", ""), None)
    values.update(bad)
    with pytest.raises(ValueError, match=message):
        write_schedule_outputs(tmp_path, roster=roster, activities=activities,
                               coverage=coverage, summary=values)
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_leaves_old_outputs_and_no_temp_files(tmp_path, monkeypatch):
    roster, activities, coverage = small_plan()
    (tmp_path / "roster.csv").write_text("old roster\n")
    calls = {"n": 0}
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_schedule_outputs(tmp_path, roster=roster, activities=activities,
                               coverage=coverage, summary=summary())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]
    assert (tmp_path / "roster.csv").read_text() == "old roster\n"


def test_plan_less_status_writes_summary_only_and_clears_stale_plan(tmp_path):
    for name in ("roster.csv", "activities.csv", "coverage.csv", "unassigned_tours.csv",
                 "notes.txt"):
        (tmp_path / name).write_text("from an earlier run\n")
    write_schedule_outputs(tmp_path, summary=summary("infeasible", message="headcount too low"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "summary.json"]
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "infeasible"


def test_plan_and_status_must_agree(tmp_path):
    roster, activities, coverage = small_plan()
    with pytest.raises(ValueError, match="needs roster, activities and coverage"):
        write_schedule_outputs(tmp_path, roster=roster, summary=summary())
    with pytest.raises(ValueError, match="has no plan"):
        write_schedule_outputs(tmp_path, roster=roster, activities=activities,
                               coverage=coverage, summary=summary("error"))


def test_plan_run_removes_an_earlier_runs_unassigned_tours(tmp_path):
    roster, activities, coverage = small_plan()
    (tmp_path / "unassigned_tours.csv").write_text("tour_id\nT0009\n")
    write_schedule_outputs(tmp_path, roster=roster, activities=activities, coverage=coverage,
                           summary=summary())
    assert not (tmp_path / "unassigned_tours.csv").exists()


def test_text_cells_needing_quotes_are_written_as_pandas_quotes_them():
    from staffcast.scheduler.export import _text_csv

    plain = pd.DataFrame({"a": ["x", "y"], "b": ["1", ""]})
    quoted = pd.DataFrame({"a": ['x,1', 'say "hi"'], "b": ["1", ""]})
    for cells in (plain, quoted, pd.concat([plain, quoted], ignore_index=True)):
        for chunk_rows in (1, 3, 100_000):
            assert _text_csv(cells, chunk_rows) == cells.to_csv(index=False)

"""The named roster's shortfall: with too few agents the plan holds only the tours they
can work (the rest is short), and summary.json's roster_shortfall_agent_hours is what the
written roster really misses (required minus what roster.csv covers, counted only where short): positive,
at least the shift plan's own shortfall, and recomputed here from the files."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.scheduler.roster import read_roster, roster_coverage
from staffcast.cli import main
from tests.staffcast.test_cli_schedule import CONFIG, requirement

ONE_AGENT = ("agent_id,contract,min_weekly_hours,max_weekly_hours,queues,unavailable_dates,"
             "preferred_days_off\nana,full_time,0,40,,,\n")


def test_roster_shortfall_is_what_the_named_roster_misses(tmp_path):
    requirement().to_csv(tmp_path / "req.csv", index=False)
    (tmp_path / "shop.yaml").write_text(CONFIG)
    (tmp_path / "agents.csv").write_text(ONE_AGENT)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "schedule", "--requirements", str(tmp_path / "req.csv"), "--config",
        str(tmp_path / "shop.yaml"), "--agents", str(tmp_path / "agents.csv"), "--out-dir",
        str(out), "--time-limit", "20", "--no-exports"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # The agents shape the plan (issue 11): one full-time agent, so one tour is planned.
    assert summary["unassigned_tours"] == 0 and summary["tours"] == 1
    roster = read_roster(out / "roster.csv")
    coverage = pd.read_csv(out / "coverage.csv", parse_dates=["ds"])
    covered = roster_coverage(roster, coverage, 60)
    short = (coverage["required"] - covered).clip(lower=0).sum()  # agent-hours (60 min)
    assert summary["roster_shortfall_agent_hours"] == pytest.approx(short)
    # The summary describes the written roster; the shift plan's own figure is kept apart.
    assert summary["shortfall_agent_hours"] == pytest.approx(short)
    assert summary["roster_shortfall_agent_hours"] == summary["shortfall_agent_hours"]
    assert summary["roster_shortfall_agent_hours"] >= summary["plan_shortfall_agent_hours"] > 0
    # One agent on 40 hours cannot cover a week that needs far more.
    assert short >= coverage["required"].sum() - 40 - 1e-9
    assert f"shortfall {short:,.1f} agent-hours" in result.output
    # The status describes the roster as written: optimal only within the gap or proven.
    assert (summary["status"] == "feasible" or summary["mip_gap"] <= 0.005 + 1e-12
            or "proven" in summary["message"])

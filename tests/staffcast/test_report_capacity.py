"""The capacity section of the HTML report, on a hand-made capacity folder."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main
from staffcast.report import ReportInputError, build_report, capacity_figure


def write_capacity(folder):
    folder.mkdir(parents=True, exist_ok=True)
    weeks = pd.date_range("2026-10-26", periods=3, freq="7D")
    rows = []
    for i, week in enumerate(weeks):
        rows.append({"week": week.date(), "queue": "total", "required_hours": [100, 300, 120][i],
                     "productive_hours_regular": 80, "productive_hours_new_hire": 0,
                     "productive_hours_temp": [0, 60, 20][i], "productive_hours_outsourced": 0,
                     "productive_hours_cloud": [0, 40, 0][i], "hires_new_hire": 0,
                     "hires_temp": [3, 0, 0][i], "overtime_hours": [20, 100, 20][i],
                     "shortfall_hours": [0, 20, 0][i], "cost": 1000.0 + i,
                     "festivals": ["", "double11_day", ""][i]})
        rows.append({**rows[-1], "queue": "q", "cost": None, "festivals": rows[-1]["festivals"]})
    pd.DataFrame(rows).to_csv(folder / "capacity.csv", index=False)
    pd.DataFrame({"cohort": ["temp", "new_hire"], "recruit_by": ["2026-10-12", "2026-09-28"],
                  "start_training": ["2026-10-26", "2026-10-26"],
                  "productive_from": ["2026-11-02", "2026-11-09"], "count": [3, 6],
                  "unit": ["people", "people"]}).to_csv(folder / "hiring_plan.csv", index=False)
    (folder / "summary.json").write_text(json.dumps({
        "status": "optimal", "solver": "highs", "cost": 3003.0, "shortfall_hours": 20.0,
        "lp_gap": 0.001, "start": "2026-10-26", "weeks": 3,
        "hires": {"new_hire": 6, "temp": 3, "outsourced": 0},
        "festival_weeks": [{"week": "2026-11-02", "cover": 0.9333}]}))
    return folder


def test_capacity_report_stacks_supply_against_requirement(tmp_path):
    folder = write_capacity(tmp_path / "cap")
    report = build_report(folder)
    assert report.charts == ("chart-capacity",)
    assert "staffcast capacity report" in report.html
    assert "93.3%" in report.html  # lowest festival-week cover
    assert "6 / 3 / 0" in report.html
    weekly = pd.read_csv(folder / "capacity.csv", parse_dates=["week"])
    hiring = pd.read_csv(folder / "hiring_plan.csv",
                         parse_dates=["recruit_by", "start_training", "productive_from"])
    fig = capacity_figure(weekly, hiring)
    names = [t.name for t in fig.data]
    # Cohorts with hours, overtime and shortfall stacked; new hires had none here.
    assert names[:5] == ["regular", "temp", "cloud", "overtime", "shortfall"]
    assert fig.layout.barmode == "stack"
    required = next(t for t in fig.data if t.name == "required")
    assert list(required.y) == [100, 300, 120]
    stacked = sum(pd.Series(t.y) for t in fig.data if t.type == "bar")
    # Supply plus shortfall reaches the requirement in every week of this folder.
    assert (stacked.to_numpy() >= required.y).all()
    markers = {t.name: list(t.text) for t in fig.data if t.name.startswith("start:")}
    assert markers == {"start: temp": ["3"], "start: new hire": ["6"]}
    assert len(fig.layout.shapes) == 1  # one festival week shaded


def test_capacity_report_errors_name_the_file(tmp_path):
    folder = write_capacity(tmp_path / "cap")
    (folder / "hiring_plan.csv").unlink()
    with pytest.raises(ReportInputError, match="missing hiring_plan.csv"):
        build_report(folder)
    write_capacity(folder)
    with pytest.raises(ReportInputError, match="--day and --scenario do not apply"):
        build_report(folder, day="2026-11-02")


def test_report_command_on_a_capacity_folder(tmp_path):
    folder = write_capacity(tmp_path / "cap")
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").stat().st_size > 100_000

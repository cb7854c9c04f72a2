"""Report tests on a tiny hand-made plan folder and what-if folder (fast, no browser)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main
from staffcast.report import ReportInputError, build_report, write_report

WEEK_START = pd.Timestamp("2026-11-09")
QUEUES = ("presales", "aftersales")


def write_plan(folder: Path, days: int = 2, busy_day: int = 1) -> Path:
    """Write a plan folder: `days` days of hourly rows per queue, day `busy_day` busiest."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = pd.date_range(WEEK_START, periods=24 * days, freq="h")
    hours = ds.hour.to_numpy()
    shape = np.where((hours >= 8) & (hours < 22), 10.0, 1.0)
    boost = np.where(ds.normalize() == WEEK_START + pd.Timedelta(days=busy_day), 3.0, 1.0)
    forecast, coverage, history = [], [], []
    hist_ds = pd.date_range(WEEK_START - pd.Timedelta(days=2), periods=48, freq="h")
    for queue in QUEUES:
        yhat = shape * boost
        forecast.append(pd.DataFrame({
            "unique_id": queue, "ds": ds, "model": "auto", "yhat": yhat,
            "yhat_lo_80": yhat * 0.9, "yhat_hi_80": yhat * 1.1,
            "yhat_lo_95": yhat * 0.8, "yhat_hi_95": yhat * 1.2}))
        required = np.ceil(yhat / 2)
        scheduled = np.where(hours == 12, required - 1, required)
        coverage.append(pd.DataFrame({
            "unique_id": queue, "ds": ds, "required": required, "scheduled": scheduled,
            "shortfall": required - scheduled,
            "service_level": np.where(scheduled < required, 0.6, 0.9)}))
        history.append(pd.DataFrame({"unique_id": queue, "ds": hist_ds,
                                     "y": np.resize(shape, 48)}))
    for name, frames in (("forecast", forecast), ("coverage", coverage),
                         ("history", history)):
        pd.concat(frames).to_csv(folder / f"{name}.csv", index=False)
    pd.DataFrame({"event": ["festival"], "start": ["2026-11-10 00:00:00"],
                  "end": ["2026-11-10 00:00:00"], "kind": ["promotion"],
                  "unique_id": [""]}).to_csv(folder / "calendar.csv", index=False)
    roster, activities = [], []
    for d in range(days):
        day = WEEK_START + pd.Timedelta(days=d)
        for i, queue in enumerate(QUEUES):
            start, end = day + pd.Timedelta(hours=8 + i), day + pd.Timedelta(hours=17 + i)
            brk = start + pd.Timedelta(hours=2)
            lunch = start + pd.Timedelta(hours=4)
            roster.append({"agent_id": f"A{i + 1:03d}", "date": f"{day:%Y-%m-%d}",
                           "shift_start": start, "shift_end": end, "break_start": brk,
                           "break_end": brk + pd.Timedelta(minutes=15),
                           "lunch_start": lunch, "lunch_end": lunch + pd.Timedelta(hours=1),
                           "paid_hours": 8.0, "queue": queue})
            for a, b, kind in ((start, brk, "WORK"), (brk, brk + pd.Timedelta(minutes=15),
                                                      "BREAK"),
                               (brk + pd.Timedelta(minutes=15), lunch, "WORK"),
                               (lunch, lunch + pd.Timedelta(hours=1), "LUNCH"),
                               (lunch + pd.Timedelta(hours=1), end, "WORK")):
                activities.append({"agent_id": f"A{i + 1:03d}", "start": a, "end": b,
                                   "activity": kind})
    fmt = "%Y-%m-%d %H:%M"
    pd.DataFrame(roster).to_csv(folder / "roster.csv", index=False, date_format=fmt)
    pd.DataFrame(activities).to_csv(folder / "activities.csv", index=False, date_format=fmt)
    (folder / "summary.json").write_text(json.dumps({
        "status": "optimal", "solver": "highs", "mip_gap": 0.004, "paid_hours": 32.0,
        "labour_cost": 1234.5, "shortfall_agent_hours": 4.0,
        "service_level_by_day": {"2026-11-09": 0.85, "2026-11-10": 0.8}}))
    return folder


def write_whatif(folder: Path) -> Path:
    """A what-if folder: comparison.csv (base first) and one plan folder per scenario."""
    names = ("base", "volume_up_20")
    for i, name in enumerate(names):
        write_plan(folder / name, busy_day=i)
    pd.DataFrame({"scenario": names, "agents_peak": [15, 18], "paid_hours": [32.0, 40.0],
                  "labour_cost": [1234.5, 1500.0], "sl_daily_min": [0.8, 0.7],
                  "sl_worst_interval": [0.6, 0.5], "abandon_rate": [0.02, 0.04],
                  "shortfall_agent_hours": [4.0, 9.0], "status": ["optimal", "optimal"],
                  "mip_gap": [0.004, 0.003]}).to_csv(folder / "comparison.csv", index=False)
    return folder


# --- tests -------------------------------------------------------------------------------

CHART_IDS = ("chart-forecast", "chart-coverage", "chart-sl", "chart-gantt")


def _figures(page: str) -> dict[str, dict]:
    """div id -> plotly figure JSON, parsed back out of the page's newPlot calls."""
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, match.end())
        end = re.compile(r",\s*").match(page, end).end()
        layout, _ = decoder.raw_decode(page, end)
        found[match.group(1)] = {"data": data, "layout": layout}
    return found


def test_plan_report_has_one_chart_per_section_and_is_self_contained(tmp_path):
    plan = write_plan(tmp_path / "plan")
    out = tmp_path / "r" / "report.html"
    report = write_report(plan, out)
    page = out.read_text(encoding="utf-8")
    assert page == report.html
    assert report.charts == CHART_IDS
    figures = _figures(page)
    assert sorted(figures) == sorted(CHART_IDS)
    assert page.count('class="plotly-graph-div"') == len(CHART_IDS)
    assert "chart-comparison" not in page
    # Self-contained: plotly.js inline, no remote script or stylesheet.
    assert re.search(r"<script[^>]*\bsrc=", page) is None
    assert "<script src=\"http" not in page and "<link" not in page
    assert len(page) > 3_000_000  # plotly.js itself is ~3.5 MB minified
    # Summary block figures from summary.json.
    assert "1,234.50" in page and "32.0" in page and "0.40%" in page and "optimal" in page


def test_busiest_day_is_the_default_gantt_day_and_day_can_be_chosen(tmp_path):
    plan = write_plan(tmp_path / "plan", days=3, busy_day=2)
    assert build_report(plan).day == dt.date(2026, 11, 11)
    assert build_report(plan, day="2026-11-09").day == dt.date(2026, 11, 9)
    gantt = _figures(build_report(plan, day="2026-11-09").html)["chart-gantt"]
    labels = {y for trace in gantt["data"] for y in trace["y"]}
    assert labels == {"A001 (presales)", "A002 (aftersales)"}
    kinds = {trace["name"] for trace in gantt["data"]}
    assert kinds == {"work", "break", "lunch"}


def test_heat_map_is_day_by_hour_with_the_coverage_service_level(tmp_path):
    plan = write_plan(tmp_path / "plan", days=2)
    sl = _figures(build_report(plan).html)["chart-sl"]
    heat = sl["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["Mon 2026-11-09", "Tue 2026-11-10"]
    assert heat["x"] == list(range(24))
    z = _decode(heat["z"])
    assert z.shape == (2, 24)
    assert z[0, 12] == pytest.approx(0.6) and z[0, 11] == pytest.approx(0.9)


def test_promotion_window_is_shaded_over_its_whole_day(tmp_path):
    plan = write_plan(tmp_path / "plan", days=2)
    layout = _figures(build_report(plan).html)["chart-forecast"]["layout"]
    rects = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert len(rects) == len(QUEUES)  # the blank unique_id applies to every queue
    assert {(r["x0"][:16], r["x1"][:16]) for r in rects} == {
        ("2026-11-10T00:00", "2026-11-10T23:00")}  # clipped to the last forecast hour
    assert [a["text"] for a in layout["annotations"]].count("festival") == 1


def test_whatif_folder_adds_the_comparison_chart(tmp_path):
    folder = write_whatif(tmp_path / "out")
    report = build_report(folder)
    assert report.charts == ("chart-comparison", *CHART_IDS)
    assert report.scenario == "base" and report.day == dt.date(2026, 11, 9)
    assert "scenario <b>base</b> in detail" in report.html
    figures = _figures(report.html)
    bars = figures["chart-comparison"]["data"]
    assert len(bars) == 7
    assert all(bar["x"] == ["base", "volume_up_20"] for bar in bars)
    assert _decode(bars[0]["y"]).tolist() == [15, 18]
    other = build_report(folder, scenario="volume_up_20")
    assert other.scenario == "volume_up_20" and other.day == dt.date(2026, 11, 10)


@pytest.mark.parametrize("name", ["summary.json", "forecast.csv", "history.csv",
                                  "coverage.csv", "roster.csv", "activities.csv"])
def test_missing_file_is_a_one_line_error_naming_folder_and_file(tmp_path, name):
    plan = write_plan(tmp_path / "plan")
    (plan / name).unlink()
    with pytest.raises(ReportInputError) as info:
        build_report(plan)
    message = str(info.value)
    assert "\n" not in message and str(plan) in message and name in message


def test_missing_scenario_folder_and_unknown_scenario_are_errors(tmp_path):
    folder = write_whatif(tmp_path / "out")
    with pytest.raises(ReportInputError, match="scenarios: base, volume_up_20"):
        build_report(folder, scenario="nope")
    shutil.rmtree(folder / "volume_up_20")
    with pytest.raises(ReportInputError, match="missing scenario folder volume_up_20"):
        build_report(folder, scenario="volume_up_20")


def test_bad_values_name_file_row_and_column(tmp_path):
    plan = write_plan(tmp_path / "plan")
    cov = pd.read_csv(plan / "coverage.csv")
    cov["required"] = cov["required"].astype(object)
    cov.loc[3, "required"] = "many"
    cov.to_csv(plan / "coverage.csv", index=False)
    with pytest.raises(ReportInputError, match=r"coverage\.csv: data row 4, column "
                                               r"'required': must be a number, got 'many'"):
        build_report(plan)
    with pytest.raises(ReportInputError, match=r"--day must be YYYY-MM-DD, got '11/10'"):
        build_report(write_plan(tmp_path / "ok"), day="11/10")
    with pytest.raises(ReportInputError, match=r"--day 2026-12-01: no shift starts"):
        build_report(tmp_path / "ok", day="2026-12-01")


def test_cli_writes_the_report_and_reports_errors_in_one_line(tmp_path):
    plan = write_plan(tmp_path / "plan")
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(plan), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "4 charts, roster day 2026-11-10" in result.output
    assert (tmp_path / "r.html").stat().st_size > 3_000_000
    default = runner.invoke(main, ["report", str(plan)])
    assert default.exit_code == 0 and (plan / "report.html").is_file()
    (plan / "roster.csv").unlink()
    failed = runner.invoke(main, ["report", str(plan), "--out", str(tmp_path / "x.html")])
    assert failed.exit_code == 1
    assert failed.output.strip() == f"Error: {plan}: missing roster.csv (not a plan folder?)"
    assert not (tmp_path / "x.html").exists()


def _decode(values) -> np.ndarray:
    """A plotly JSON array: a plain list, or plotly 6's base64 typed array."""
    if isinstance(values, dict):
        raw = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        if "shape" not in values:
            return raw
        return raw.reshape([int(n) for n in str(values["shape"]).split(",")])
    return np.asarray(values, dtype=float)

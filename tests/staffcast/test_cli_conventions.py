"""CLI conventions: --json summaries, --quiet, progress bars only on a terminal, init and
config check/schema, the plan folder's exports and manifest as later commands see them,
and the sanity limits on history (outliers, day-first dates)."""

import io
import json

import jsonschema
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from icalendar import Calendar

from staffcast import console
from staffcast.cli import main
from staffcast.commands.setup import STARTER_CONFIG
from staffcast.config import load_config
from staffcast.schema import config_schema
from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

ROOT_CONFIG = "configs/example.yaml"


@pytest.fixture
def shop(tmp_path):
    write_small_shop(tmp_path, SMALL_SHOP_CONFIG)
    return tmp_path


def plan(shop, out, *extra, quiet=False):
    return CliRunner().invoke(main, [
        *(["--quiet"] if quiet else []), "plan", "--history", str(shop / "history.csv"),
        "--config", str(shop / "config.yaml"), "--out-dir", str(out), "--solver", "highs",
        "--time-limit", "30", *extra])


def test_plan_json_exports_manifest_and_a_clean_replan(shop):
    out = shop / "out"
    result = plan(shop, out, "--json", "--simulate", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["run_id"] == manifest["run_id"] and summary["command"] == "plan"
    assert summary["summary"]["status"] in ("optimal", "feasible")
    assert summary["lost_queues"] == [] and summary["out_dir"] == str(out)
    assert {"roster.xlsx", "wfm_import.csv", "simulation_days.csv"} <= set(summary["files"])
    listed = set(manifest["files"])
    assert listed == {p.relative_to(out).as_posix() for p in out.rglob("*")
                      if p.is_file() and p.name != "manifest.json"}

    roster = pd.read_csv(out / "roster.csv", keep_default_na=False)
    # roster.xlsx: every roster.csv shift is in its agent's row under its day.
    book = openpyxl.load_workbook(out / "roster.xlsx")
    assert book.sheetnames == ["Week 2026-11-09", "coverage"]
    sheet = book["Week 2026-11-09"]
    header = [c.value for c in sheet[1]]
    cells = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(cells) == set(roster["agent_id"])
    for row in roster.itertuples(index=False):
        day = pd.Timestamp(row.date)
        text = cells[row.agent_id][header.index(f"{day:%a} {day:%Y-%m-%d}")]
        assert text.startswith(f"{row.shift_start[11:]}-{row.shift_end[11:]}")
        if row.break_start:
            assert f"break {row.break_start[11:]}-{row.break_end[11:]}" in text
    coverage = pd.read_csv(out / "coverage.csv")
    covered = list(book["coverage"].iter_rows(min_row=2, values_only=True))
    assert len(covered) == len(coverage)
    assert sum(r[3] for r in covered) == pytest.approx(coverage["scheduled"].sum())
    # One calendar per agent, one event per roster row.
    for agent, rows in roster.groupby("agent_id"):
        cal = Calendar.from_ical((out / "agents" / f"{agent}.ics").read_bytes())
        starts = sorted(e.decoded("dtstart") for e in cal.walk("VEVENT"))
        assert [f"{s:%Y-%m-%d %H:%M}" for s in starts] == sorted(rows["shift_start"])
    wfm = pd.read_csv(out / "wfm_import.csv")
    req = pd.read_csv(out / "requirements.csv")
    assert list(wfm.columns) == ["interval_start", "queue", "interval_minutes", "volume",
                                 "aht_s", "required_agents"]
    assert wfm["required_agents"].sum() == pytest.approx(req["agents_required"].sum())
    assert wfm["volume"].sum() == pytest.approx(req["volume"].sum(), abs=0.01)

    # `report` and `simulate` verify the folder; a changed roster is refused in one line.
    assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    assert "report.html" in json.loads((out / "manifest.json").read_text())["files"]
    text = (out / "roster.csv").read_text()
    (out / "roster.csv").write_text(text.replace("\n", "\n", 1) + "\n")
    refused = CliRunner().invoke(main, ["simulate", "--plan", str(out)])
    assert refused.exit_code == 1
    assert f"roster.csv was changed after run {manifest['run_id']}" in refused.output

    # Re-planning without exports leaves nothing of the first run behind.
    again = plan(shop, out, "--no-exports", quiet=True)
    assert again.exit_code == 0, again.output
    names = {p.name for p in out.iterdir()}
    assert not names & {"roster.xlsx", "agents", "wfm_import.csv", "simulation_days.csv",
                        "simulation.json", "report.html"}
    assert json.loads((out / "manifest.json").read_text())["run_id"] != manifest["run_id"]
    assert "plan: week" not in again.stderr  # --quiet hides the stage lines
    assert "plan: week" in result.stderr


def test_forecast_json(shop):
    out = shop / "f.csv"
    result = CliRunner().invoke(main, ["forecast", "--history", str(shop / "history.csv"),
                                       "--config", str(shop / "config.yaml"), "--horizon",
                                       "24", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    frame = pd.read_csv(out)
    assert summary["rows"] == len(frame) == 24 and summary["failed"] == []
    assert summary["queues"] == [{"unique_id": "chat", "model": "histavg",
                                  "total_yhat": pytest.approx(frame["yhat"].sum())}]


def test_progress_bars_only_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    console.configure(console.NORMAL)
    assert not console.progress_enabled(io.StringIO())
    assert console.progress_enabled(Tty())
    console.configure(console.QUIET)
    assert not console.progress_enabled(Tty())
    console.configure(console.NORMAL)
    stream = Tty()
    monkeypatch.setattr("sys.stderr", stream)
    with console.progress(3, "forecast") as bar:
        for queue in ("a", "b", "c"):
            bar.step(queue)
    assert "forecast" in stream.getvalue() and "3/3" in stream.getvalue().replace(" ", "")


def test_quiet_and_verbose_exclude_each_other():
    result = CliRunner().invoke(main, ["-q", "-v", "config", "schema"])
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_init_writes_a_config_that_checks(tmp_path):
    folder = tmp_path / "shop"
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["data", "forecasts", "plans",
                                                        "staffcast.yaml"]
    assert (folder / "staffcast.yaml").read_text() == STARTER_CONFIG
    checked = CliRunner().invoke(main, ["config", "check", str(folder / "staffcast.yaml")])
    assert checked.exit_code == 0 and "ok: 1 queue(s)" in checked.output
    assert load_config(folder / "staffcast.yaml").schedule.families[0].name == "day"
    again = CliRunner().invoke(main, ["init", str(folder)])
    assert again.exit_code == 1 and "exists; use --force" in again.output


def test_schema_accepts_the_shipped_configs_and_rejects_what_the_parser_rejects(tmp_path):
    result = CliRunner().invoke(main, ["config", "schema"])
    schema = json.loads(result.stdout)
    assert schema == json.loads(json.dumps(config_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for text in (STARTER_CONFIG, SMALL_SHOP_CONFIG, open(ROOT_CONFIG).read()):
        assert list(validator.iter_errors(yaml.safe_load(text))) == []
    base = yaml.safe_load(STARTER_CONFIG)
    broken = [
        {**base, "forecats": {}},                                           # top-level typo
        {**base, "forecast": {"model": "auto", "horizon": "a week"}},       # wrong type
        {**base, "forecast": {"fill_missing": "guess"}},                    # not in the enum
        {**base, "queues": {"chat": {"sl_target": 0.8}}},                   # aht_s missing
        {**base, "schedule": {"families": [{"name": "x"}]}},                # required keys
        {**base, "forecast": {"models": {"sarima": {}}}},                   # unknown model
        {**base, "forecast": {"models": {"prophet": {"changepoint": 3}}}},  # unknown knob
        {**base, "forecast": {"models": {"arima": {"transform": "log"}}}},  # not in the enum
        {**base, "history_columns": {"queue": "Skill"}},                    # not our column
    ]
    for data in broken:
        assert list(validator.iter_errors(data)), data
        path = tmp_path / "broken.yaml"
        path.write_text(yaml.safe_dump(data))
        checked = CliRunner().invoke(main, ["config", "check", str(path)])
        assert checked.exit_code == 1 and checked.output.startswith("Error: "), data
    assert schema["properties"]["schedule"]["properties"]["interval_minutes"]["default"] == 30
    prophet = schema["$defs"]["ProphetParams"]["properties"]
    assert prophet["changepoints"]["default"] == 3 and "trend" in prophet["changepoints"][
        "description"]


def test_a_history_value_1000_times_the_queues_p99_is_refused_with_its_row(shop):
    frame = pd.read_csv(shop / "history.csv")
    frame.loc[200, "y"] = 1e12
    frame.to_csv(shop / "history.csv", index=False)
    args = ["forecast", "--history", str(shop / "history.csv"), "--config",
            str(shop / "config.yaml"), "--horizon", "24", "--out", str(shop / "f.csv")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert (f"queue 'chat', ds {frame.loc[200, 'ds'][:16]}: y = 1e+12 is more than 1000x "
            "the queue's 99% percentile") in result.output
    assert "--allow-outliers" in result.output and not (shop / "f.csv").exists()
    assert CliRunner().invoke(main, [*args, "--allow-outliers"]).exit_code == 0


def test_day_first_dates_are_reported_as_day_first(shop):
    frame = pd.read_csv(shop / "history.csv", parse_dates=["ds"])
    frame["ds"] = frame["ds"].dt.strftime("%d/%m/%Y %H:%M")
    frame.to_csv(shop / "history.csv", index=False)
    result = CliRunner().invoke(main, ["forecast", "--history", str(shop / "history.csv"),
                                       "--config", str(shop / "config.yaml"),
                                       "--out", str(shop / "f.csv")])
    assert result.exit_code == 1
    first = frame.index[frame["ds"].str[:2].astype(int) > 12][0]
    assert (f"column 'ds' holds day-first dates: CSV line {first + 2} has "
            f"'{frame.loc[first, 'ds']}'") in result.output
    assert "sorted" not in result.output


def test_schedule_json_matches_the_folder(tmp_path):
    from tests.staffcast.test_cli_schedule import CONFIG, requirement

    requirement().to_csv(tmp_path / "req.csv", index=False)
    (tmp_path / "shop.yaml").write_text(CONFIG)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["schedule", "--requirements", str(tmp_path / "req.csv"),
                                       "--config", str(tmp_path / "shop.yaml"), "--out-dir",
                                       str(out), "--time-limit", "20", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["run_id"] == json.loads((out / "manifest.json").read_text())["run_id"]
    assert summary["summary"] == json.loads((out / "summary.json").read_text())
    assert summary["has_plan"] and "roster.xlsx" in summary["files"]

"""`staffcast` commands: the HTML report of a plan or what-if folder (`staffcast report`)."""

from __future__ import annotations

from pathlib import Path

import click

from staffcast.report import write_report

REPORT_INPUTS = ("forecast.csv", "requirements.csv", "roster.csv", "activities.csv",
                 "coverage.csv", "summary.json", "history.csv", "calendar.csv",
                 "comparison.csv", "simulation_days.csv", "simulation_intervals.csv")
"""Files the report may draw: each present one must belong to the folder's run."""


@click.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: FOLDER/report.html).")
@click.option("--day", default=None, metavar="YYYY-MM-DD",
              help="Day whose roster the Gantt chart shows (default: the busiest day by "
                   "required agents).")
@click.option("--scenario", default=None,
              help="For a what-if folder: the scenario shown in detail (default: the base, "
                   "the first row of comparison.csv).")
def report(folder: Path, out: Path | None, day: str | None, scenario: str | None) -> None:
    """Write one self-contained HTML report (plotly, opens offline) of FOLDER.

    FOLDER is a plan folder (from `staffcast plan`) or a what-if folder holding
    comparison.csv and one plan folder per scenario.
    """
    from staffcast.outputs import add_to_manifest, verify

    verify(folder, names=REPORT_INPUTS)
    target = out if out is not None else folder / "report.html"
    built = write_report(folder, target, day=day, scenario=scenario)
    if target.parent.resolve() == folder.resolve():
        add_to_manifest(folder, {target.name: target})
    shown = f", scenario {built.scenario}" if built.scenario else ""
    click.echo(f"report: {target} ({len(built.charts)} charts, roster day {built.day}{shown})")


COMMANDS: tuple[click.Command, ...] = (report,)

"""`staffcast` commands: scheduling (`staffcast schedule`)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from staffcast.scheduler.roster import read_roster
from staffcast.scheduler.solve import DEFAULT_SOLVER, SOLVERS
from staffcast import console
from staffcast.config import load_config
from staffcast.exports import WFM_IMPORT, WORKBOOK
from staffcast.outputs import Generation
from staffcast.pipeline import ScheduleRun, schedule_rules, with_multi_skill
from staffcast.tables import TableError, check_unique_keys, numeric_column, read_keyed_csv, row_at


def read_requirements(path: str | Path, interval_minutes: int) -> pd.DataFrame:
    """Read and check a requirement CSV (`unique_id, ds, ..., agents_required`).

    `ds` is the interval start in naive local time; every queue's rows must lie on one
    `interval_minutes` grid (gaps of whole intervals are closed hours). Errors name the file,
    the data row (1 = first row under the header), the column and the value.
    """
    path = Path(path)
    frame = read_keyed_csv(path, "requirement file", ["agents_required"])
    for col in [c for c in frame.columns if c not in ("unique_id", "ds")]:
        frame[col] = (numeric_column(frame, path, col, min_value=0)
                      if col == "agents_required"
                      else numeric_column(frame, path, col, required=False))
    check_unique_keys(frame, path)
    step = pd.Timedelta(minutes=interval_minutes)
    origin = frame["ds"].min().normalize()
    off_grid = ((frame["ds"] - origin) % step) != pd.Timedelta(0)
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise TableError(f"{row_at(path, i, 'ds')}: irregular interval: "
                         f"{frame['ds'].iloc[i]:%Y-%m-%d %H:%M} is off the "
                         f"{interval_minutes}-minute grid (schedule.interval_minutes)")
    for queue, rows in frame.groupby("unique_id", sort=True):
        gaps = rows["ds"].sort_values().diff().dropna()
        if len(gaps) and gaps.min() != step:
            i = int(rows.index[0])
            raise TableError(f"{row_at(path, i, 'ds')}: irregular interval: queue "
                             f"{queue!r} has rows {gaps.min()} apart, but "
                             f"schedule.interval_minutes is {interval_minutes}")
    return frame


def _echo_summary(summary: dict, out_dir: Path) -> None:
    def num(key, fmt):
        value = summary.get(key)
        return "n/a" if value is None else format(value, fmt)

    lines = [f"schedule: {summary['status']} ({summary['solver']}, "
             f"{summary['solve_seconds']:.1f} s, gap {num('mip_gap', '.3%')})",
             f"  labour cost {num('labour_cost', ',.2f')}, paid hours {num('paid_hours', ',.1f')}, "
             f"shortfall {num('shortfall_agent_hours', ',.1f')} agent-hours"]
    if "agents_used" in summary:
        lines.append(f"  agents: {summary['agents_source']}; {summary['agents_used']} used, "
                     f"{summary['agents_idle']} idle, {summary['unassigned_tours']} tour(s) "
                     "with no agent")
    lines.append(f"  outputs in {out_dir}")
    click.echo("\n".join(lines), err=True)


def export_option(command):
    """--no-exports, shared by `schedule` and `plan`."""
    return click.option(
        "--exports/--no-exports", default=True, show_default=True,
        help=f"Also write {WORKBOOK} (a sheet per week: agents x days), agents/<id>.ics "
             f"(one calendar per agent) and {WFM_IMPORT} (interval, queue, volume, AHT, "
             "required agents) beside roster.csv.")(command)


def schedule_json(run: ScheduleRun, *, command: str, run_id: str,
                  problems: pd.DataFrame | None = None) -> dict:
    """The `--json` object of `schedule` and `plan`: the run id, the folder, its files and
    the summary (as in summary.json)."""
    files = sorted(p.relative_to(run.out_dir).as_posix() for p in run.out_dir.rglob("*")
                   if p.is_file())
    lost = ([] if problems is None or not len(problems) else
            sorted(problems.loc[problems["stage"] != "fallback", "unique_id"].astype(str)))
    return {"command": command, "run_id": run_id, "out_dir": str(run.out_dir),
            "has_plan": run.has_plan, "files": files, "lost_queues": lost,
            "summary": run.summary}


def multi_skill_option(command):
    """--multi-skill/--single-skill, shared by `schedule`, `plan` and `whatif`."""
    return click.option(
        "--multi-skill/--single-skill", "multi_skill", default=None,
        help="Pool multi-skilled agents: tours belong to the agents' skill sets (the agents "
             "file's `queues`) and each interval's agents are allocated among the queues "
             "they serve; needs an agents file [default: the config's "
             "schedule.multi_skill].")(command)


def solver_options(command):
    """--time-limit, --gap and --solver, shared by `schedule` and `plan`."""
    options = [
        click.option("--time-limit", default=60.0, show_default=True,
                     type=click.FloatRange(min=0, min_open=True),
                     help="Solver time limit in seconds; on time-out the best plan found is "
                          "kept."),
        click.option("--gap", default=0.005, show_default=True,
                     type=click.FloatRange(0, 1, max_open=True),
                     help="Relative MIP gap at which the solver stops (0.005 = 0.5%)."),
        click.option("--solver", type=click.Choice(sorted(SOLVERS)), default=DEFAULT_SOLVER,
                     show_default=True,
                     help="MIP solver: cbc (bundled with PuLP) or highs (through highspy)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("schedule")
@click.option("--requirements", "requirements_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Requirement CSV: unique_id, ds, ..., agents_required (agents at work per "
                   "interval).")
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="YAML config whose `schedule:` section holds the shift families and rules.")
@click.option("--agents", "agents_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Agents CSV (agent_id, contract, min/max_weekly_hours, queues, "
                   "unavailable_dates, preferred_days_off). Without it the roster uses tour "
                   "ids (T0001...) as placeholder agent ids.")
@click.option("--previous-roster", "previous_path",
              type=click.Path(dir_okay=False, path_type=Path),
              help="roster.csv of the weeks just before (with --agents): its shifts count for "
                   "rest, consecutive working days and weekend fairness.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for roster.csv, activities.csv, coverage.csv, summary.json and "
                   "config.resolved.yaml.")
@solver_options
@multi_skill_option
@export_option
@console.json_option
def schedule(requirements_path: Path, config_path: Path, agents_path: Path | None,
             previous_path: Path | None, out_dir: Path, time_limit: float, gap: float,
             solver: str, multi_skill: bool | None, exports: bool, as_json: bool) -> None:
    """Turn a requirement into least-cost weekly shifts and a named roster.

    Solves the shift integer program, assigns the tours to the agents of --agents (or to
    placeholder ids), and writes roster.csv, activities.csv, coverage.csv, summary.json
    and the exports into --out-dir, replaced as a whole (with manifest.json) when the run
    ends. A plan-less outcome (infeasible or solver error) writes only summary.json with
    the reason and exits with status 1.
    """
    from staffcast import api
    from staffcast.recording import command_line

    config = with_multi_skill(load_config(config_path), multi_skill)
    rules = schedule_rules(config)
    requirement = read_requirements(requirements_path, rules.interval_minutes)
    if previous_path is not None and agents_path is None:
        raise click.UsageError("--previous-roster needs --agents (placeholder ids have no past)")
    history = read_roster(previous_path) if previous_path is not None else None
    with Generation(out_dir, command=command_line()) as generation:
        plan = api.schedule(requirement, config, agents=agents_path, previous_roster=history,
                            solver=solver, time_limit_s=time_limit, gap=gap)
        plan.write(generation, exports=exports)
    run = plan.schedule_run(out_dir)
    if as_json:
        console.emit_json(schedule_json(run, command="schedule", run_id=generation.run_id))
    report_schedule(run)


def report_schedule(run: ScheduleRun) -> None:
    """Print the run's summary to stderr (stdout stays clean); a plan-less run exits 1."""
    summary, unassigned, out_dir = run.summary, run.unassigned, run.out_dir
    _echo_summary(summary, out_dir)
    if not run.has_plan:
        raise click.ClickException(f"no plan ({summary['status']}): {summary.get('message')}")
    if len(unassigned):
        click.echo(f"warning: {len(unassigned)} tour(s) have no agent (see "
                   f"{out_dir / 'unassigned_tours.csv'}); coverage.csv counts them as short: "
                   f"the named roster is {summary['shortfall_agent_hours']:,.1f} agent-hours "
                   f"short (the shift plan {summary['plan_shortfall_agent_hours']:,.1f}); "
                   f"first: {unassigned['tour_id'].iloc[0]}: "
                   f"{unassigned['reason'].iloc[0]}", err=True)


COMMANDS: tuple[click.Command, ...] = (schedule,)

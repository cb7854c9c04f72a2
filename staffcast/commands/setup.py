"""`staffcast init` (a starter project) and `staffcast config check|schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from staffcast import console

STARTER_CONFIG = """\
# staffcast config: written by `staffcast init`; check it with `staffcast config check`.
# Every key is listed by `staffcast config schema` (JSON Schema); unknown keys are errors.
queues:
  # One block per queue (the unique_id of your history). Staffing keys are the fields of
  # staffcast.scheduler.requirements.QueueStaffing; a queue named `default` serves unlisted queues.
  default:
    opening_hours: {mon-fri: "08:00-20:00", sat: "09:00-18:00", sun: closed}
    rest_day: auto          # the quiet weekday, learnt from history (or 'sun', 0-6)
    channel: voice          # voice, chat or ticket
    aht_s: 300              # mean handle time, seconds
    sl_target: 0.8          # 80% of contacts answered ...
    sl_seconds: 20          # ... within 20 seconds
    max_occupancy: 0.85
    min_agents: 1           # on duty whenever the queue is open
    shrinkage: {breaks: 0.08, training: 0.04, absence: 0.06}
forecast:
  model: auto               # auto, arima, prophet, histavg or snaive
  country: CN               # built-in public holidays (a holidays-package code, or 'none')
  horizon: 168              # hours forecast by `staffcast forecast`
schedule:
  interval_minutes: 30
  min_rest_hours: 11
  max_consecutive_days: 6
  shortfall_penalty: 1000   # per agent-interval short; above the cost of any shift
  headcount: {full_time: 20}
  families:
    - name: day
      contract: full_time
      paid_hours: 8
      earliest_start: "08:00"
      latest_start: "12:00"
      start_step_minutes: 30
      cost_per_hour: 20
      weekend_premium: 0.1
      days_per_week: 5
      breaks:
        - {name: break, length_minutes: 15, earliest_offset_minutes: 90,
           latest_offset_minutes: 150, paid: true}
        - {name: lunch, kind: lunch, length_minutes: 60, earliest_offset_minutes: 210,
           latest_offset_minutes: 300}
# agents: data/agents.csv   # named agents (agent_id, contract, min/max_weekly_hours, ...)
"""

FOLDERS = ("data", "forecasts", "plans")


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing staffcast.yaml.")
def init_command(folder: Path, force: bool) -> None:
    """Start a project: write a starter config and the data, forecasts and plans folders.

    FOLDER (default: the current folder) gets staffcast.yaml, a config that `staffcast
    config check` accepts, and the folders data/ (history, calendar, agents), forecasts/
    and plans/. An existing staffcast.yaml is kept unless --force."""
    from staffcast.outputs import atomic_write_text

    config_path = folder / "staffcast.yaml"
    if config_path.exists() and not force:
        raise click.ClickException(f"{config_path} exists; use --force to overwrite it")
    for name in FOLDERS:
        (folder / name).mkdir(parents=True, exist_ok=True)
    atomic_write_text(config_path, STARTER_CONFIG)
    console.info(f"init: wrote {config_path} and the folders {', '.join(FOLDERS)} in {folder}")
    click.echo(f"next: put your history in {folder / 'data'}, edit {config_path}, then\n"
               f"  staffcast plan --history {folder / 'data' / 'history.csv'} "
               f"--config {config_path} --out-dir {folder / 'plans' / 'week1'}")


@click.group("config")
def config_group() -> None:
    """Check a config file, or print the JSON Schema of the config."""


@config_group.command("check")
@click.argument("config_path", metavar="CONFIG",
                type=click.Path(dir_okay=False, path_type=Path))
def check_command(config_path: Path) -> None:
    """Parse CONFIG as `plan` would: exit 0 and print what it holds, or one line naming the
    key, the rule and the value, and exit 1."""
    from staffcast.config import load_config

    config = load_config(config_path)
    families = config.schedule.families
    staffed = sorted(n for n, q in config.queues.items() if q.staffing is not None)
    click.echo(f"{config_path}: ok: {len(config.queues)} queue(s) "
               f"({', '.join(config.queues) or 'none'}; staffing for "
               f"{', '.join(staffed) or 'none'}), {len(families)} shift famil"
               f"{'y' if len(families) == 1 else 'ies'}, forecast model "
               f"{config.forecast.model}")
    if not families:
        console.warn("the config has no schedule.families: forecast and requirements work, "
                     "schedule and plan do not")
    if config.agents is not None and not config.agents.is_file():
        raise click.ClickException(f"{config_path}: agents: {config.agents} not found")


@config_group.command("schema")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the schema to this file instead of stdout.")
def schema_command(out_path: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a config file, generated from the config
    dataclasses; point an editor's YAML support at it for completion and checks."""
    from staffcast.schema import config_schema

    text = json.dumps(config_schema(), indent=2) + "\n"
    if out_path is None:
        click.echo(text, nl=False)
    else:
        from staffcast.outputs import atomic_write_text

        atomic_write_text(out_path, text)
        console.info(f"config schema: wrote {out_path}")


COMMANDS: tuple[click.Command, ...] = (init_command, config_group)

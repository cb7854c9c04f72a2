"""The `staffcast` command line: a thin shell over library calls.

Each command lives in `staffcast/commands/` and is imported only when it runs (or its own
`--help` is asked for): `staffcast --help` lists the commands from the table below without
loading pandas, scipy, PuLP or plotly. A user's mistake (`staffcast.errors.StaffcastError`,
or an OSError naming a file) becomes one line and exit status 1; any other exception is a
bug and keeps its traceback. STAFFCAST_DEBUG=1 shows the traceback of user errors too.
"""

from __future__ import annotations

import importlib
import os
import time

import click

from staffcast import __version__, console
from staffcast.errors import is_user_error, one_line

# name: (module, attribute, first paragraph of the command's help). The help text is
# repeated here so the command list needs no import; tests/staffcast/test_cli_help.py
# checks it against each command's own docstring.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("staffcast.commands.setup", "init_command",
             "Start a project: write a starter config and the data, forecasts and plans "
             "folders."),
    "config": ("staffcast.commands.setup", "config_group",
               "Check a config file, or print the JSON Schema of the config."),
    "ingest": ("staffcast.commands.ingest", "ingest_command",
               "Turn raw contact logs into an interval history with handle and wait times."),
    "forecast": ("staffcast.commands.forecasting", "forecast_command",
                 "Forecast contact volume per queue and interval with 80% and 95% intervals "
                 "(and handle time, aht_s, when the history has it)."),
    "backtest": ("staffcast.commands.forecasting", "backtest_command",
                 "Rolling-origin backtest: MASE, WAPE, bias, 80% coverage and fit time per "
                 "model."),
    "erlang": ("staffcast.commands.staffing", "erlang_command",
               "Agents needed for one interval (Erlang C, or Erlang A with --patience-s)."),
    "requirements": ("staffcast.commands.staffing", "requirements_command",
                     "Agents needed per queue and interval, from a forecast and the queue "
                     "settings."),
    "schedule": ("staffcast.commands.scheduling", "schedule",
                 "Turn a requirement into least-cost weekly shifts and a named roster."),
    "plan": ("staffcast.commands.planning", "plan_command",
             "Forecast, staff and schedule one week: history in, named roster out."),
    "simulate": ("staffcast.commands.simulation", "simulate_command",
                 "Simulate the plan's queues contact by contact and report the service "
                 "level, ASA and abandonment it really delivers, per interval and per day, "
                 "with 95% confidence intervals and the Erlang figure next to each."),
    "report": ("staffcast.commands.reporting", "report",
               "Write one self-contained HTML report (plotly, opens offline) of FOLDER."),
    "whatif": ("staffcast.commands.whatif", "whatif_command",
               "Plan the base week and every scenario from ONE forecast and compare them."),
    "actuals": ("staffcast.commands.runs", "actuals_command",
                "Load actual hourly contacts into the run store; an hour loaded before is "
                "replaced."),
    "runs": ("staffcast.commands.runs", "runs_group",
             "List, show and compare the runs recorded in the run store."),
    "accuracy": ("staffcast.commands.accuracy", "accuracy_command",
                 "Compare each recorded forecast with the actuals that arrived later: WAPE, "
                 "bias and interval coverage by week, queue, model and horizon, and over- "
                 "and under-staffed agent-hours."),
    "capacity": ("staffcast.commands.capacity", "capacity_command",
                 "Plan hires, temps, outsourced blocks, cloud hours and overtime week by week "
                 "so the festival weeks meet the service targets at least cost (a MIP)."),
    "reforecast": ("staffcast.commands.accuracy", "reforecast_command",
                   "Re-forecast the rest of today: the morning forecast rescaled by the ratio "
                   "of actual to forecast volume so far, shrunk towards 1 while little of the "
                   "day has been seen."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and whose `invoke` turns user
    errors into one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module, attribute, _ = COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(n) for n in self.list_commands(ctx))
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                stand_in = click.Command(name, help=COMMANDS[name][2])
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        started = time.perf_counter()
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not is_user_error(exc) or os.environ.get("STAFFCAST_DEBUG"):
                raise
            raise click.ClickException(one_line(exc)) from exc
        finally:
            console.log.debug("staffcast %s: %.2f s", ctx.invoked_subcommand or "",
                              time.perf_counter() - started)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"],
                                              "max_content_width": 100})
@click.version_option(__version__, prog_name="staffcast")
@click.option("-q", "--quiet", is_flag=True,
              help="Only warnings and errors on stderr: no stage lines, no progress bars.")
@click.option("-v", "--verbose", count=True,
              help="More detail on stderr; -vv adds the libraries' debug logs.")
def main(quiet: bool, verbose: int) -> None:
    """Forecast contact volume, staff it with Erlang maths and schedule shifts with a MIP.

    Results go to files and stdout; stage lines, warnings and progress bars go to stderr.
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    console.configure(console.QUIET if quiet else min(verbose, console.DEBUG))

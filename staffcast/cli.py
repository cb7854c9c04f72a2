"""The `staffcast` command line: a thin shell over library calls.

Each command lives in `staffcast/commands/`; this module only assembles the group and
turns a user's mistake (a library ValueError or OSError) into one readable line and a
non-zero exit. Set STAFFCAST_DEBUG=1 to see the full traceback instead.
"""

from __future__ import annotations

import os

import click

from staffcast import __version__


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ValueError, OSError) as exc:
            if os.environ.get("STAFFCAST_DEBUG"):
                raise
            raise click.ClickException(" ".join(str(exc).split()) or type(exc).__name__) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"],
                                           "max_content_width": 100})
@click.version_option(__version__, prog_name="staffcast")
def main() -> None:
    """Forecast contact volume, staff it with Erlang maths and schedule shifts with a MIP."""


def _register() -> None:
    # Imported here so `staffcast --help` stays fast and each command module stays small.
    from staffcast.commands import (
        accuracy,
        capacity,
        forecasting,
        planning,
        reporting,
        runs,
        scheduling,
        simulation,
        staffing,
        whatif,
    )

    for command in (*forecasting.COMMANDS, *staffing.COMMANDS, *scheduling.COMMANDS,
                    *planning.COMMANDS, *simulation.COMMANDS, *reporting.COMMANDS,
                    *whatif.COMMANDS, *runs.COMMANDS, *accuracy.COMMANDS,
                    *capacity.COMMANDS):
        main.add_command(command)


_register()

"""`staffcast` commands: staffing."""

import click

COMMANDS: tuple[click.Command, ...] = ()

"""`staffcast` commands: scheduling."""

import click

COMMANDS: tuple[click.Command, ...] = ()

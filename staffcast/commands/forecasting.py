"""`staffcast` commands: forecasting."""

import click

COMMANDS: tuple[click.Command, ...] = ()

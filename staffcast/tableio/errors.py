"""The table reader's error (no imports: `staffcast --help` may load this module)."""


class TableError(ValueError):
    """A table file breaks its contract; the message names the file, row, column, rule
    and value. (`staffcast.errors` registers it as a `StaffcastError`.)"""

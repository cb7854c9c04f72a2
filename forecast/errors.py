"""Errors and warnings raised by the forecasting inputs (no imports: `staffcast --help`
may load this module)."""


class ForecastError(ValueError):
    """A caller's input cannot be forecast; the message names the input, the rule and the
    value. The CLI shows it as one line; any other exception keeps its traceback."""


class InputError(ForecastError):
    """Bad user input; the message names the file, the row or line, the column, the rule
    and the offending value."""


class CalendarCoverageWarning(UserWarning):
    """The built-in country calendar has no official schedule for a requested year; the
    calendar file must supply that year's holidays and adjusted workdays."""


class InputNote(UserWarning):
    """Something the loader did to the input that the user should know about (rows merged
    at a daylight-saving change, rows dropped by a rule); the command line prints it."""

"""Errors and warnings raised by the forecasting inputs."""


class InputError(ValueError):
    """Bad user input; the message names the file, the row or line, the column, the rule
    and the offending value."""


class CalendarCoverageWarning(UserWarning):
    """The built-in country calendar has no official schedule for a requested year; the
    calendar file must supply that year's holidays and adjusted workdays."""

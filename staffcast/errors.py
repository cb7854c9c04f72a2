"""One error base for every user mistake: `StaffcastError`.

`forecast/` and `scheduler/` never import each other (nor this package), so each keeps its
own base (`staffcast.forecasting.errors.ForecastError`, `staffcast.scheduler.errors.SchedulerError`; the table
reader's is `staffcast.tableio.TableError`); all are registered here as virtual subclasses, so
`isinstance(exc, StaffcastError)` holds for an error from any of these packages.
Python's `except` clause ignores virtual subclasses: catch `USER_ERRORS` (a tuple) to
handle all of them.

The CLI shows a `StaffcastError` (and an `OSError`: a missing or unwritable file, whose
message names the path) as one line and exits 1; every other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

from abc import ABCMeta

from staffcast.forecasting.errors import ForecastError
from staffcast.scheduler.errors import SchedulerError
from staffcast.tableio.errors import TableError


class StaffcastError(ValueError, metaclass=ABCMeta):
    """A user's input (file, option, config value) breaks a rule; the message names where,
    the rule and the offending value."""


StaffcastError.register(ForecastError)
StaffcastError.register(SchedulerError)
StaffcastError.register(TableError)

USER_ERRORS: tuple[type[Exception], ...] = (StaffcastError, ForecastError, SchedulerError,
                                            TableError)
"""Every user-error base, for `except USER_ERRORS:`."""


def is_user_error(exc: BaseException) -> bool:
    """True for an error the CLI reports as one line (a user's mistake or a file the
    system could not read or write); False for a bug, which keeps its traceback."""
    return isinstance(exc, (*USER_ERRORS, OSError))


def one_line(exc: BaseException) -> str:
    """The error's message on one line (its type name when it has no message)."""
    return " ".join(str(exc).split()) or type(exc).__name__

"""The error base of the scheduler package (no imports: `staffcast --help` may load it)."""


class SchedulerError(ValueError):
    """A caller's input breaks a scheduling rule; the message names the input (file, row,
    column or setting), the rule and the offending value. The CLI shows it as one line;
    any other exception is a bug and keeps its traceback."""

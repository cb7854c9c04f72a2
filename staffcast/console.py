"""What the CLI says on stderr: log lines, progress bars and machine-readable summaries.

stdout carries results (tables, `--json` objects); everything about the run (stages,
warnings, progress) goes to stderr through the `staffcast` logger, so `--quiet` and
`--verbose` are one setting. Imports nothing heavy: `staffcast --help` loads it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click

log = logging.getLogger("staffcast")

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2

_state = {"verbosity": NORMAL}


class _ClickHandler(logging.Handler):
    """Writes each record with click.echo to the stderr of the moment (CliRunner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if record.levelno >= logging.WARNING and not message.lower().startswith(
                    ("warning", "error")):
                message = f"{record.levelname.lower()}: {message}"
            click.echo(message, err=True)
        except Exception:  # noqa: BLE001 - logging must never take the run down
            self.handleError(record)


def configure(verbosity: int) -> None:
    """Route the `staffcast` logger to stderr: QUIET shows warnings and errors only, NORMAL
    adds the stage lines, VERBOSE details, DEBUG also the libraries' own debug logs."""
    _state["verbosity"] = verbosity
    level = {QUIET: logging.WARNING, NORMAL: logging.INFO}.get(verbosity, logging.DEBUG)
    log.handlers[:] = [_ClickHandler()]
    log.handlers[0].setFormatter(logging.Formatter(
        "%(name)s %(levelname)s: %(message)s" if verbosity >= DEBUG else "%(message)s"))
    log.setLevel(level)
    log.propagate = False
    if verbosity >= DEBUG:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)


def verbosity() -> int:
    """The verbosity set by the last `configure` (NORMAL when the CLI did not set one)."""
    return _state["verbosity"]


def info(message: str) -> None:
    """A stage line on stderr (hidden by --quiet)."""
    log.info(message)


def warn(message: str) -> None:
    """A warning on stderr (shown even with --quiet)."""
    log.warning(message)


def progress_enabled(stream: Any = None) -> bool:
    """Progress bars are drawn only on an interactive stderr and without --quiet."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return verbosity() > QUIET and bool(isatty and isatty())


class _Bar:
    def __init__(self, bar: Any):
        self._bar = bar

    def step(self, label: str = "") -> None:
        """One item done; `label` (e.g. the queue) is shown beside the bar."""
        if self._bar is not None:
            self._bar.update(1, label)


@contextmanager
def progress(total: int, label: str) -> Iterator[_Bar]:
    """A progress bar of `total` items on stderr; `bar.step(name)` after each item. Drawn
    only when `progress_enabled()`, so piped output and logs stay free of bar frames."""
    if total <= 0 or not progress_enabled():
        yield _Bar(None)
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                           item_show_func=lambda item: item or "") as bar:
        yield _Bar(bar)


def json_option(command):
    """`--json`: print one JSON object summarising the run on stdout instead of the text."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print a JSON summary of the run on stdout (stage lines and "
                             "warnings stay on stderr).")(command)


def emit_json(summary: Mapping[str, Any]) -> None:
    """Print `summary` as one JSON document on stdout (NaN and inf as null)."""
    click.echo(json.dumps(_plain(summary), indent=2, sort_keys=False, allow_nan=False))


def _plain(value: Any) -> Any:
    import math

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        try:
            value = value.item()
        except (TypeError, ValueError):
            value = str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

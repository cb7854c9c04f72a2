"""staffcast: workload forecasting and staff scheduling for customer service.

    import staffcast
    config = staffcast.load_config("configs/example.yaml")
    history = staffcast.load_history("examples/data/history.csv", config=config)
    calendar = staffcast.load_calendar("examples/data/calendar.csv", config=config)
    plan = staffcast.plan(config, history, calendar, time_limit_s=60)
    plan.write("out/python-demo")

The names below come from `staffcast.api` (see docs/api.md) and are imported on first use,
so `import staffcast` and `staffcast --help` stay fast. The repository's `forecast/` and
`scheduler/` folders are the subpackages `staffcast.forecasting` and `staffcast.scheduler`
(`staffcast.forecast` is the API function); they never import each other. This package
holds the library API, the CLI, the YAML config loading and the pipeline that wires them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from staffcast import _layout

__version__ = "0.1.0"

API = ("load_config", "load_history", "load_calendar", "forecast", "backtest",
       "requirements", "schedule", "plan", "simulate", "whatif", "Plan", "Simulation",
       "WhatIf", "QueuesLost")
__all__ = [*API, "__version__"]

_layout.install()

if TYPE_CHECKING:
    from staffcast.api import (
        Plan,
        QueuesLost,
        Simulation,
        WhatIf,
        backtest,
        forecast,
        load_calendar,
        load_config,
        load_history,
        plan,
        requirements,
        schedule,
        simulate,
        whatif,
    )


def __getattr__(name: str) -> Any:
    if name in API:
        from staffcast import api

        return getattr(api, name)
    raise AttributeError(f"module 'staffcast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *API})

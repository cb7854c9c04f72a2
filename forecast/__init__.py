"""Forecast hourly contact volume per queue from history and an event calendar.

Long frames at the edges (`unique_id, ds, y` in; `unique_id, ds, model, yhat, yhat_lo_80,
yhat_hi_80, yhat_lo_95, yhat_hi_95` out). Imports nothing from `scheduler`.

The folder installs as `staffcast.forecasting` (pyproject.toml; `staffcast/_layout.py` in a
source tree) and imports its own modules relatively.
"""

if __name__ != "staffcast.forecasting":
    # With the repository root on sys.path the folder would also load as `forecast`: a
    # second copy of every module, whose errors staffcast.errors.USER_ERRORS does not catch.
    raise ImportError(f"the forecast/ folder is the package staffcast.forecasting: import that, "
                      f"not {__name__}")

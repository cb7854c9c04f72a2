"""Turn contact volume into staff: Erlang maths, requirements, shift model, roster, export.

Imports no forecasting model: it takes a `unique_id, ds, volume` frame.

The folder installs as `staffcast.scheduler` (pyproject.toml; `staffcast/_layout.py` in a
source tree) and imports its own modules relatively.
"""

if __name__ != "staffcast.scheduler":
    # With the repository root on sys.path the folder would also load as `scheduler`: a
    # second copy of every module, whose errors staffcast.errors.USER_ERRORS does not catch.
    raise ImportError(f"the scheduler/ folder is the package staffcast.scheduler: import that, "
                      f"not {__name__}")

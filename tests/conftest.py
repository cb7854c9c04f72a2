"""Shared test set-up: one BLAS thread per process, and the path to the real shared data."""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Folder of the real call-centre data; skips the test when this clone has none."""
    if not (SHARED_DATA / "bank_calls_hourly_2003.csv").is_file():
        pytest.skip(f"real call-centre data not found at {SHARED_DATA} (only in the "
                    "developers' workspace, never copied into the repo)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _run_store(tmp_path_factory, monkeypatch) -> None:
    """Commands record runs in the default store; tests keep it out of the repo (a test
    that needs its own store passes --store)."""
    monkeypatch.setenv("STAFFCAST_STORE",
                       str(tmp_path_factory.mktemp("store") / "runs.duckdb"))

"""What installing staffcast puts into an environment, and the same names in a source tree.

The repository keeps `forecast/` and `scheduler/` at its top, but `forecast` and `scheduler`
are other projects' names on the package index: the wheel installs them inside `staffcast`
as `staffcast.forecasting` and `staffcast.scheduler` (`staffcast.forecast` is the library
function), and nothing else at the top. A source tree (PYTHONPATH=repo) and the editable
install (`make setup`) give the same names, each module under one name only.

The wheel is built from a copy of the package folders (no build/ or egg-info in the
repository) without build isolation or an index, so the test needs no network: it needs
setuptools >= 70.1 (the test extra), else it is skipped with that reason.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# folder in the repository -> where its files go in the wheel
INSTALLED_AS = {"forecast": "staffcast/forecasting", "scheduler": "staffcast/scheduler",
                "staffcast": "staffcast"}
DIST_INFO = "staffcast-0.1.0.dist-info"


def _can_build_wheel() -> str | None:
    """Why a wheel cannot be built here without isolation, or None."""
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed"
    version = tuple(int(p) for p in re.findall(r"\d+", setuptools.__version__)[:2])
    if version < (70, 1):
        try:
            import wheel  # noqa: F401  (setuptools < 70.1 builds wheels with it)
        except ImportError:
            return (f"setuptools {setuptools.__version__} needs the wheel package to build "
                    "one; the test extra asks for setuptools >= 70.1 (make setup)")
    return None


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _copy_sources(target: Path) -> Path:
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    for folder in INSTALLED_AS:
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return _copy_sources(tmp_path_factory.mktemp("staffcast") / "src")


@pytest.fixture(scope="module")
def wheel(sources, tmp_path_factory) -> Path:
    reason = _can_build_wheel()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out),
         str(sources), cwd=out)
    (built,) = out.glob("staffcast-*.whl")
    return built


def _source_files() -> set[str]:
    """Every file of the three folders as the wheel should hold it."""
    expected = set()
    for folder, installed in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                expected.add(f"{installed}/{path.relative_to(ROOT / folder).as_posix()}")
    return expected


def test_wheel_holds_staffcast_only_with_every_module_inside(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"staffcast", DIST_INFO}
    assert {n for n in names if not n.startswith(DIST_INFO)} == _source_files()
    meta = zipfile.ZipFile(wheel)
    if f"{DIST_INFO}/top_level.txt" in names:
        assert meta.read(f"{DIST_INFO}/top_level.txt").decode().split() == ["staffcast"]
    assert "staffcast = staffcast.cli:main" in meta.read(
        f"{DIST_INFO}/entry_points.txt").decode()


def _venv_with_our_dependencies(folder: Path) -> Path:
    """A fresh virtual environment without pip or staffcast that sees this interpreter's
    installed dependencies: a .pth of its site directories (their own .pth files, such as
    an editable staffcast's, are not run from there; the repository root is not one)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True,
                   timeout=120)
    python = folder / "bin" / "python"
    site_dir = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))
            and Path(p).is_dir()]
    Path(site_dir, "_staffcast_test_deps.pth").write_text("\n".join(ours) + "\n")
    return python


# Run by the environment under test from a folder outside the repository.
CHECK = r"""
import json, sys
import pulp
import staffcast
import staffcast.forecasting.core, staffcast.scheduler.solve
from staffcast.errors import USER_ERRORS
from staffcast.forecasting.errors import ForecastError
from staffcast.scheduler.errors import SchedulerError
from staffcast.scheduler.mip import Columns, run_mip

# A MIP solved in the child process (scheduler/_mip_worker.py, started by path):
# min x + y with x + 2y >= 3, x and y whole and >= 0 -> 2.
problem = pulp.LpProblem("tiny", pulp.LpMinimize)
x = pulp.LpVariable("x", lowBound=0, cat="Integer")
y = pulp.LpVariable("y", lowBound=0, cat="Integer")
problem += x + y
problem += (x + 2 * y >= 3, "cover")
cols = Columns.of(problem)
outcome = run_mip(cols, lower=cols.lower, upper=cols.upper, start=None, time_limit_s=20,
                  gap=0.0)
print(json.dumps({
    "staffcast": staffcast.__file__,
    "forecasting": staffcast.forecasting.__file__,
    "scheduler": staffcast.scheduler.__file__,
    "forecast_is_the_function": callable(staffcast.forecast)
        and staffcast.forecast.__module__ == "staffcast.api",
    "user_errors": issubclass(ForecastError, USER_ERRORS)
        and issubclass(SchedulerError, USER_ERRORS),
    "source_finder": any(type(f).__name__ == "SourceTreeFinder" for f in sys.meta_path),
    "ours": sorted(m for m, mod in sys.modules.items()
                   if m.split(".")[0] in ("forecast", "scheduler", "staffcast")
                   and getattr(mod, "__file__", None)),
    "mip": [outcome.status, outcome.objective],
}))
"""


def _check(python: Path, cwd: Path, pythonpath: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run([str(python), "-c", CHECK], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _same_names(found: dict) -> None:
    assert found["forecast_is_the_function"] and found["user_errors"]
    assert found["mip"] == ["optimal", pytest.approx(2.0)]
    # one name per module: nothing loaded as top-level forecast / scheduler
    assert found["ours"] and all(m.startswith("staffcast") for m in found["ours"])


@pytest.mark.slow
def test_installed_wheel_works_from_outside_the_repository(wheel, tmp_path):
    python = _venv_with_our_dependencies(tmp_path / "venv")
    _pip("--python", str(python), "install", "--no-deps", "--no-index", "--ignore-installed",
         str(wheel), cwd=tmp_path)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    assert sorted(p.name for p in site.iterdir() if p.name != "__pycache__") == sorted(
        ["_staffcast_test_deps.pth", "staffcast", DIST_INFO])
    found = _check(python, tmp_path)
    assert Path(found["forecasting"]) == site / "staffcast" / "forecasting" / "__init__.py"
    assert Path(found["scheduler"]) == site / "staffcast" / "scheduler" / "__init__.py"
    assert not found["source_finder"]
    _same_names(found)
    shown = subprocess.run([str(tmp_path / "venv" / "bin" / "staffcast"), "--help"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "plan" in shown.stdout, shown.stderr


@pytest.mark.slow
def test_editable_install_maps_the_folders(sources, tmp_path):
    reason = _can_build_wheel()
    if reason:
        pytest.skip(reason)
    python = _venv_with_our_dependencies(tmp_path / "venv")
    _pip("--python", str(python), "install", "--no-deps", "--no-index", "--ignore-installed",
         "--no-build-isolation", "-e", str(sources), cwd=tmp_path)
    found = _check(python, tmp_path)
    assert Path(found["staffcast"]) == sources / "staffcast" / "__init__.py"
    assert Path(found["forecasting"]) == sources / "forecast" / "__init__.py"
    assert Path(found["scheduler"]) == sources / "scheduler" / "__init__.py"
    _same_names(found)


def test_source_tree_maps_the_folders_once(tmp_path):
    found = _check(Path(sys.executable), tmp_path, pythonpath=ROOT)
    assert Path(found["staffcast"]) == ROOT / "staffcast" / "__init__.py"
    assert Path(found["forecasting"]) == ROOT / "forecast" / "__init__.py"
    assert Path(found["scheduler"]) == ROOT / "scheduler" / "__init__.py"
    assert found["source_finder"]
    _same_names(found)


@pytest.mark.parametrize("old, new", [("forecast", "staffcast.forecasting"),
                                      ("scheduler", "staffcast.scheduler")])
def test_source_tree_refuses_the_old_top_level_name(tmp_path, old, new):
    done = subprocess.run([sys.executable, "-c", f"import {old}.errors"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ImportError: the {old}/ folder is the package {new}: import that, not {old}")

"""Import contracts, checked on the source text (an AST scan, so an import inside a
function counts as much as one at the top):

- The folders `forecast/` and `scheduler/` install as `staffcast.forecasting` and
  `staffcast.scheduler`. Each imports its own modules relatively and nothing else of the
  project: `forecast` never imports `scheduler`, `scheduler` never imports `forecast`, and
  neither imports the rest of `staffcast` (the library layer sits above them).
- The one exception is `staffcast.tableio`, the one table reader: it imports nothing of
  the project, and both may import it (relatively, `from ..tableio import ...`).
- Nothing imports the folders under their old top-level names (`forecast`, `scheduler`):
  that would be a second copy of every module, with error classes staffcast does not catch.
- pandas' file readers appear only in the table reader.
- The CLI module itself imports no command module at start-up.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# folder at the top of the repository -> the package it installs as
PACKAGES = {"forecast": "staffcast.forecasting", "scheduler": "staffcast.scheduler"}
PROJECT = ("forecast", "scheduler", "staffcast")  # top-level names an absolute import may name
SOURCES = ("forecast", "scheduler", "staffcast", "tests", "benchmarks", "examples", "docs")
SHARED = "staffcast.tableio"  # the one package outside themselves both may import


def module_name(path: Path, root: Path = ROOT) -> list[str]:
    """The installed dotted name of `path` as parts (`__init__` kept as the last part)."""
    parts = path.relative_to(root).with_suffix("").parts
    return [*PACKAGES.get(parts[0], parts[0]).split("."), *parts[1:]]


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, relative?) of every import statement in `path`;
    relative imports are resolved against the module's installed name, and
    `from . import x` names `<package>.x`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root)[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                found.append((node.lineno, node.module or "", False))
                continue
            up = node.level - 1
            # above the top-level package: named as written (Python refuses it anyway)
            base = "." * node.level if up >= len(package) else ".".join(
                package[:len(package) - up]) + "."
            if node.module:
                found.append((node.lineno, base + node.module, True))
            else:
                found += [(node.lineno, base + alias.name, True) for alias in node.names]
    return found


def violations(folder: str, root: Path = ROOT) -> list[str]:
    """Imports of project code by a module of `folder` other than relative imports of
    its own package or of the shared table reader."""
    own = PACKAGES.get(folder, folder.replace("/", "."))
    out = []
    for path in sorted((root / folder).rglob("*.py")):
        for line, name, relative in imported_modules(path, root):
            if relative:
                bad = not any(name == ok or name.startswith(ok + ".") for ok in (own, SHARED))
            else:
                bad = name.split(".")[0] in PROJECT
            if bad:
                out.append(f"{path.relative_to(root).as_posix()}:{line} imports {name}")
    return out


OLD_NAME_IN_TEXT = re.compile(r"^\s*(?:>>> )?(?:from|import)\s+(forecast|scheduler)\b(?!\w)",
                              re.MULTILINE)


def old_name_imports(root: Path = ROOT, sources=SOURCES) -> list[str]:
    """Imports of the top-level names `forecast` / `scheduler`: in Python files (AST) and
    in the Markdown's code (text)."""
    out = []
    for source in sources:
        for path in sorted((root / source).rglob("*.py")):
            for line, name, relative in imported_modules(path, root):
                if not relative and name.split(".")[0] in PACKAGES:
                    out.append(f"{path.relative_to(root).as_posix()}:{line} imports {name}")
    for path in sorted([*root.glob("*.md"), *(root / "docs").rglob("*.md")]):
        text = path.read_text(encoding="utf-8")
        for match in OLD_NAME_IN_TEXT.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.append(f"{path.relative_to(root).as_posix()}:{line} imports {match[1]}")
    return out


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_package_imports_only_itself_and_relatively(folder):
    assert violations(folder) == []


def test_the_table_reader_imports_nothing_of_the_project():
    assert violations("staffcast/tableio") == []


def test_every_table_file_is_opened_by_the_one_reader():
    # pandas' file readers appear only in the table reader (ingest streams logs with
    # pyarrow).
    readers = []
    for package in ("forecast", "scheduler", "staffcast"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(ROOT / "staffcast" / "tableio"):
                continue
            text = path.read_text(encoding="utf-8")
            readers += [f"{path.relative_to(ROOT)}: {call}" for call in
                        ("pd.read_csv(", "pd.read_parquet(") if call in text]
    assert readers == []


def test_nothing_imports_the_folders_as_top_level_packages():
    assert old_name_imports() == []


def test_the_scans_see_forbidden_imports(tmp_path):
    # The contract tests must be able to fail: plant violating modules and scan them.
    (tmp_path / "forecast" / "models").mkdir(parents=True)
    (tmp_path / "forecast" / "models" / "bad.py").write_text(
        "def f():\n"
        "    from ..errors import InputError\n"           # own package: fine
        "    import scheduler.erlang\n"                    # old top-level name
        "    from ... import scheduler\n"                  # the sibling, relatively
        "    from ...scheduler.erlang import erlang_c\n"
        "    from staffcast.forecasting import data\n"     # own, but absolute
        "    from staffcast import api\n"                  # the library layer
        "    from .... import nothing\n")                  # above the top
    (tmp_path / "forecast" / "ok.py").write_text(
        "import numpy as np\nfrom .errors import InputError\nfrom . import data\n"
        "from .models.base import Model\nfrom ..tableio.reader import read_table\n")
    (tmp_path / "staffcast" / "tableio").mkdir(parents=True)
    (tmp_path / "staffcast" / "tableio" / "reader.py").write_text(
        "from .errors import TableError\nfrom ..config import load_config\n"
        "from staffcast.forecasting import data\n")
    assert violations("staffcast/tableio", tmp_path) == [
        "staffcast/tableio/reader.py:2 imports staffcast.config",
        "staffcast/tableio/reader.py:3 imports staffcast.forecasting"]
    assert violations("forecast", tmp_path) == [
        "forecast/models/bad.py:3 imports scheduler.erlang",
        "forecast/models/bad.py:4 imports staffcast.scheduler",
        "forecast/models/bad.py:5 imports staffcast.scheduler.erlang",
        "forecast/models/bad.py:6 imports staffcast.forecasting",
        "forecast/models/bad.py:7 imports staffcast",
        "forecast/models/bad.py:8 imports ....nothing"]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import staffcast.forecasting as forecast\nfrom staffcast.scheduler import erlang\n"
        "import forecast.core\nfrom scheduler import solve\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text(
        "the forecast module\n```python\nfrom staffcast.forecasting.core import forecast\n"
        "from forecast.core import forecast\n>>> import scheduler\n```\n")
    assert old_name_imports(tmp_path, ("forecast", "tests", "docs")) == [
        "forecast/models/bad.py:3 imports scheduler.erlang",
        "tests/test_x.py:3 imports forecast.core",
        "tests/test_x.py:4 imports scheduler",
        "docs/x.md:4 imports forecast",
        "docs/x.md:5 imports scheduler"]


def test_cli_module_imports_no_command_module():
    names = [name for _, name, _ in imported_modules(ROOT / "staffcast" / "cli.py")]
    assert not [n for n in names if n.startswith("staffcast.commands")], names

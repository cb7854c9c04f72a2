"""Import contracts, checked on the source text (an AST scan, so an import inside a
function counts as much as one at the top):

- `forecast` never imports `scheduler`, and `scheduler` never imports a forecasting model
  (nor `forecast` at all): only `staffcast` wires the two.
- Neither imports `staffcast` (the library layer sits above them).
- `tableio`, the one table reader, imports none of the three: all three may import it.
- The CLI module itself imports no command module at start-up.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"forecast": ("scheduler", "staffcast"), "scheduler": ("forecast", "staffcast"),
             "tableio": ("forecast", "scheduler", "staffcast")}


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = path.relative_to(root).with_suffix("").parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = parts[:len(parts) - node.level]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / package).rglob("*.py")):
        for line, name in imported_modules(path, root):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                out.append(f"{path.relative_to(root)}:{line} imports {name}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_the_other(package):
    assert violations(package) == []


def test_the_scan_sees_a_forbidden_import(tmp_path):
    # The contract test must be able to fail: plant violating modules and scan them.
    (tmp_path / "forecast" / "models").mkdir(parents=True)
    (tmp_path / "forecast" / "models" / "bad.py").write_text(
        "def f():\n    from ..errors import InputError\n    import scheduler.erlang\n"
        "    from ...staffcast import errors\n")
    (tmp_path / "forecast" / "ok.py").write_text("from .errors import InputError\n")
    assert violations("forecast", tmp_path) == [
        "forecast/models/bad.py:3 imports scheduler.erlang",
        "forecast/models/bad.py:4 imports staffcast"]


def test_every_table_file_is_opened_by_the_one_reader():
    # pandas' file readers appear only in tableio (ingest streams logs with pyarrow).
    readers = []
    for package in ("forecast", "scheduler", "staffcast"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            readers += [f"{path.relative_to(ROOT)}: {call}" for call in
                        ("pd.read_csv(", "pd.read_parquet(") if call in text]
    assert readers == []


def test_cli_module_imports_no_command_module():
    names = [name for _, name in imported_modules(ROOT / "staffcast" / "cli.py")]
    assert not [n for n in names if n.startswith("staffcast.commands")], names

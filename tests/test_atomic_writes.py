"""Every output file goes through an atomic writer (temporary sibling, fsync, rename):

- statically, no module of the three packages writes a file any other way;
- behaviourally, a write that fails part-way leaves the old file and no temporary file.
"""

import ast
import os
from pathlib import Path

import pytest

from staffcast.scheduler import export
from staffcast import outputs

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("forecast", "scheduler", "staffcast")
WRITE_METHODS = {"write_text", "write_bytes", "to_csv", "to_parquet", "to_excel", "to_json",
                 "write_html", "write_image", "savefig"}
# The atomic writers themselves open their temporary file; openpyxl saves into memory.
# The MIP worker's scratch files live in a private temporary folder and are not outputs:
# options.json is written before the worker starts, result.json read after it exits.
ALLOWED = {("scheduler/export.py", "fdopen"), ("staffcast/outputs.py", "fdopen"),
           ("scheduler/mip.py", "write_text"), ("scheduler/_mip_worker.py", "write_text")}


def direct_writes(path: Path, rel: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in WRITE_METHODS and name in ("to_csv", "to_json") and not node.args:
            continue  # to_csv(index=False) returns text for an atomic writer
        mode = next((a for a in node.args[1:2]), None) or next(
            (k.value for k in node.keywords if k.arg == "mode"), None)
        writes_mode = (isinstance(mode, ast.Constant) and isinstance(mode.value, str)
                       and any(c in mode.value for c in "wax+"))
        if (name in WRITE_METHODS or (name in ("open", "fdopen") and writes_mode)) and (
                (rel, name) not in ALLOWED):
            if name == "open" and node.args and ast.unparse(node.args[0]) == "os.devnull":
                continue
            found.append(f"{rel}:{node.lineno} {ast.unparse(node)[:80]}")
    return found


def test_no_module_writes_a_file_except_through_the_atomic_writers():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += direct_writes(path, path.relative_to(ROOT).as_posix())
    assert found == []


def test_the_scan_catches_a_direct_write(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(frame, p):\n    frame.to_csv(p, index=False)\n"
                   "    open(p, 'w').write('x')\n    p.write_text('y')\n")
    assert len(direct_writes(bad, "bad.py")) == 3


@pytest.mark.parametrize("write", [export.atomic_write_text, outputs.atomic_write_text])
def test_a_write_failing_part_way_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch,
                                                                       write):
    target = tmp_path / "roster.csv"
    write(target, "old\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write(target, "new\n" * 1000)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roster.csv"]

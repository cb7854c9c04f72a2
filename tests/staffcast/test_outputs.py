"""Output folders written as one generation: stale files never survive, the manifest
catches changed files, files honour the umask, and a process killed (SIGKILL) at any
moment leaves the old folder whole or the new one whole."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from staffcast import outputs
from staffcast.outputs import (
    Generation,
    OutputFolderError,
    atomic_write_text,
    read_manifest,
    verify,
)

ROOT = Path(__file__).resolve().parents[2]
OLD_RUN = "20261129T000000Z-0000aaaa"
NEW_RUN = "20261129T000001Z-0000bbbb"


def write_generation(target: Path, run_id: str, files: dict[str, str]) -> None:
    with Generation(target, command="test", run_id=run_id) as generation:
        for name, text in files.items():
            atomic_write_text(generation.path / name, text)


def test_a_new_generation_drops_the_old_runs_files(tmp_path):
    target = tmp_path / "plan"
    write_generation(target, OLD_RUN, {"roster.csv": "old\n", "simulation_days.csv": "old\n"})
    write_generation(target, NEW_RUN, {"roster.csv": "new\n"})
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "roster.csv"]
    manifest = verify(target)
    assert manifest["run_id"] == NEW_RUN and list(manifest["files"]) == ["roster.csv"]
    assert manifest["files"]["roster.csv"]["bytes"] == 4
    # Nothing is left beside the folder either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_a_failed_run_leaves_the_old_folder_untouched(tmp_path):
    target = tmp_path / "plan"
    write_generation(target, OLD_RUN, {"roster.csv": "old\n"})
    with pytest.raises(RuntimeError):
        with Generation(target, run_id=NEW_RUN) as generation:
            atomic_write_text(generation.path / "roster.csv", "half\n")
            raise RuntimeError("solver crashed")
    assert (target / "roster.csv").read_text() == "old\n"
    assert verify(target)["run_id"] == OLD_RUN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_verify_names_a_changed_a_missing_and_a_foreign_file(tmp_path):
    target = tmp_path / "plan"
    write_generation(target, OLD_RUN, {"roster.csv": "a\n", "coverage.csv": "b\n"})
    (target / "roster.csv").write_text("edited\n")
    with pytest.raises(OutputFolderError, match=r"roster\.csv was changed after run "
                                                 f"{OLD_RUN}"):
        verify(target)
    write_generation(target, NEW_RUN, {"roster.csv": "a\n", "coverage.csv": "b\n"})
    (target / "coverage.csv").unlink()
    with pytest.raises(OutputFolderError, match=r"coverage\.csv is missing"):
        verify(target)
    write_generation(target, NEW_RUN, {"roster.csv": "a\n"})
    (target / "simulation_days.csv").write_text("from another run\n")
    with pytest.raises(OutputFolderError, match=r"simulation_days\.csv is not part of run"):
        verify(target, names=("simulation_days.csv",))


def test_a_folder_with_the_users_own_files_is_not_replaced(tmp_path):
    target = tmp_path / "documents"
    target.mkdir()
    (target / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputFolderError, match=r"holds 1 file\(s\) no staffcast run wrote "
                                                r"\(first: 'thesis.docx'\)"):
        Generation(target)
    assert (target / "thesis.docx").read_text() == "years of work"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_files_and_folders_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_generation(tmp_path / "plan", OLD_RUN, {"roster.csv": "x\n"})
        from staffcast.scheduler.export import atomic_write_text as scheduler_write

        scheduler_write(tmp_path / "forecast.csv", "y\n")
    finally:
        os.umask(old)
    for path in (tmp_path / "plan" / "roster.csv", tmp_path / "plan" / "manifest.json",
                 tmp_path / "forecast.csv"):
        assert path.stat().st_mode & 0o777 == mode, path
    assert (tmp_path / "plan").stat().st_mode & 0o777 == mode | ((mode >> 2) & 0o111)


def test_the_fallback_swap_is_undone_by_the_next_reader(tmp_path, monkeypatch):
    target = tmp_path / "plan"
    write_generation(target, OLD_RUN, {"roster.csv": "old\n"})
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    write_generation(target, NEW_RUN, {"roster.csv": "new\n"})
    assert verify(target)["run_id"] == NEW_RUN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from staffcast import outputs

    target, run_id, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    if mode == "aside":  # a system without renameat2(RENAME_EXCHANGE)
        outputs._exchange = lambda a, b: False
    real_rename = os.rename

    def slow_rename(a, b):
        print("RENAME", flush=True)
        time.sleep(0.4)
        real_rename(a, b)

    os.rename = slow_rename
    with outputs.Generation(target, command="kill test", run_id=run_id) as generation:
        for i in range(40):
            outputs.atomic_write_text(generation.path / f"part{i:02d}.csv",
                                      f"{run_id},{i}\\n" * 3000)
            if i == 20:
                print("STAGING", flush=True)
                time.sleep(0.4)
        print("COMMIT", flush=True)
    print("DONE", flush=True)
""")


def start_writer(tmp_path: Path, target: Path, mode: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen([sys.executable, str(script), str(target), NEW_RUN, mode],
                            stdout=subprocess.PIPE, text=True, env=env)


def kill_after(process: subprocess.Popen, marker: str, count: int = 1) -> None:
    seen = 0
    for line in process.stdout:
        if line.strip() == marker:
            seen += 1
            if seen == count:
                break
    else:
        pytest.fail(f"the writer ended before printing {marker!r} {count} time(s)")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def whole_generation(target: Path) -> str:
    """The run id of the folder after the next reader's check, which must pass: every file
    of its manifest present and unchanged, and every part file from that run."""
    manifest = verify(target)
    for name in manifest["files"]:
        assert (target / name).read_text().split(",")[0] == manifest["run_id"]
    assert sorted(p.name for p in target.iterdir()) == sorted([*manifest["files"],
                                                               "manifest.json"])
    return manifest["run_id"]


def old_folder(target: Path) -> None:
    write_generation(target, OLD_RUN, {f"part{i:02d}.csv": f"{OLD_RUN},{i}\n"
                                       for i in range(7)})


@pytest.mark.parametrize("mode", ["exchange", "aside"])
def test_sigkill_while_staging_leaves_the_old_folder_whole(tmp_path, mode):
    target = tmp_path / "plan"
    old_folder(target)
    kill_after(start_writer(tmp_path, target, mode), "STAGING")
    assert whole_generation(target) == OLD_RUN
    # The dead writer's staging folder is cleared by the next reader (verify ran recover).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan", "writer.py"]


def test_sigkill_between_the_fallback_renames_leaves_the_old_folder_whole(tmp_path):
    target = tmp_path / "plan"
    old_folder(target)
    # The second rename is announced after the first (old folder aside) is done.
    kill_after(start_writer(tmp_path, target, "aside"), "RENAME", count=2)
    assert not target.exists()  # the kill really fell between the two renames
    assert whole_generation(target) == OLD_RUN
    write_generation(target, NEW_RUN, {"part00.csv": f"{NEW_RUN},0\n"})
    assert whole_generation(target) == NEW_RUN


@pytest.mark.parametrize("delay_s", [0.0, 0.15, 0.3, 0.45])
def test_sigkill_at_any_moment_of_the_commit_leaves_one_whole_generation(tmp_path, delay_s):
    target = tmp_path / "plan"
    old_folder(target)
    process = start_writer(tmp_path, target, "exchange")
    kill_after_commit = delay_s
    for line in process.stdout:
        if line.strip() == "COMMIT":
            break
    time.sleep(kill_after_commit)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert whole_generation(target) in (OLD_RUN, NEW_RUN)
    manifest = read_manifest(target)
    assert len(manifest["files"]) == (7 if manifest["run_id"] == OLD_RUN else 40)


def test_manifest_lists_files_in_subfolders(tmp_path):
    target = tmp_path / "plan"
    write_generation(target, OLD_RUN, {"roster.csv": "r\n"})
    with Generation(target, run_id=NEW_RUN) as generation:
        atomic_write_text(generation.path / "agents" / "A1.ics", "BEGIN:VCALENDAR\n")
    manifest = json.loads((target / "manifest.json").read_text())
    assert list(manifest["files"]) == ["agents/A1.ics"]
    (target / "agents" / "A1.ics").write_text("tampered\n")
    with pytest.raises(OutputFolderError, match=r"agents/A1\.ics was changed"):
        verify(target)


def test_an_older_staffcast_folder_without_manifest_is_replaced(tmp_path):
    target = tmp_path / "whatif"
    (target / "base").mkdir(parents=True)
    (target / "base" / "roster.csv").write_text("old\n")
    (target / "comparison.csv").write_text("old\n")
    (target / "simulation_days.csv").write_text("old\n")
    write_generation(target, NEW_RUN, {"comparison.csv": "new\n"})
    assert sorted(p.name for p in target.iterdir()) == ["comparison.csv", "manifest.json"]
    (target / "base").mkdir()
    (target / "base" / "notes.txt").write_text("mine\n")
    with pytest.raises(OutputFolderError, match="first: 'base'"):
        Generation(target)


def test_the_current_folder_is_never_an_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in (".", str(tmp_path), str(tmp_path.parent)):
        with pytest.raises(OutputFolderError, match="is the current folder"):
            Generation(name)
    write_generation(Path("out"), OLD_RUN, {"roster.csv": "r\n"})
    assert verify(tmp_path / "out")["run_id"] == OLD_RUN

"""Output folders written as one generation, and files created with the user's umask.

A plan folder is never a mix of two runs. `Generation` stages the whole folder in a
sibling `.<name>.staging-<run id>-<pid>`, writes `manifest.json` (run id, command, and the
SHA-256 and size of every file), and swaps it in with one atomic exchange of the two
directory entries (Linux `renameat2(RENAME_EXCHANGE)`); where the system lacks it, the old
folder is renamed aside and the new one renamed in, and the next run or reader puts the
old one back if a crash fell between the two renames. Either way a reader sees the old
folder whole or the new one whole, and nothing of an older run survives in the new one.

`verify(folder)` checks a folder against its manifest before `report` or `simulate` read
it. Files are created mode 0666 minus the umask (0644 under the usual 022), as `open()`
would, not 0600 as `tempfile.mkstemp` makes them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from staffcast.errors import StaffcastError

log = logging.getLogger("staffcast.outputs")
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_RENAME_EXCHANGE = 2
_STAGING = re.compile(r"^\.(?P<name>.+)\.staging-(?P<run>[0-9A-Za-z]+-[0-9a-f]+)-(?P<pid>\d+)$")
_ASIDE = re.compile(r"^\.(?P<name>.+)\.old-(?P<run>[0-9A-Za-z]+-[0-9a-f]+)$")

# Names a staffcast run writes into an output folder. A folder holding anything else is
# not replaced: swapping it would delete files the user put there.
_OURS = re.compile(
    r"^(roster\.csv|activities\.csv|coverage\.csv|summary\.json|unassigned_tours\.csv|"
    r"forecast\.csv|requirements\.csv|history\.csv|calendar\.csv|config\.resolved\.yaml|"
    r"failures\.csv|comparison\.csv|roster\.xlsx|wfm_import\.csv|report(_[\w.-]+)?\.html|"
    r"simulation_[\w.-]+\.csv|manifest\.json|agents|\..+\.tmp)$")


class OutputFolderError(StaffcastError):
    """An output folder cannot be replaced, or does not match its manifest."""


def new_run_id() -> str:
    """A run id that sorts by time: UTC timestamp and 8 random hex digits."""
    return f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def create_new_file(folder: Path, name: str) -> tuple[int, Path]:
    """(file descriptor, path) of a new, empty temporary file `.name.<random>.tmp` in
    `folder`, mode 0666 minus the umask (the kernel applies it, as for `open()`)."""
    for _ in range(100):
        path = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder / name))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling and a rename, creating parent
    folders: a reader sees the old file or the new one, never a part of it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_new_file(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """`atomic_write_bytes` of `text` in UTF-8 (newlines as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            yield path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path) -> dict[str, dict[str, Any]]:
    """{relative POSIX path: {sha256, bytes}} of every file under `folder` but the
    manifest."""
    return {p.relative_to(folder).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in _files(folder)}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the directory entries `a` and `b`; False when the system cannot."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name, use_errno=True) if name else None
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(target: Path) -> None:
    """Undo what a killed run left beside `target`: put back an old folder renamed aside
    (when `target` is missing) and remove staging folders of processes that are gone."""
    parent = target.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        aside = _ASIDE.match(entry.name)
        if aside and aside["name"] == target.name:
            if not target.exists():
                os.rename(entry, target)
            else:
                shutil.rmtree(entry, ignore_errors=True)
            continue
        staged = _STAGING.match(entry.name)
        if staged and staged["name"] == target.name and not _alive(int(staged["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def _ours(entry: Path) -> bool:
    """A name staffcast writes, or a folder (a what-if scenario's plan) holding only such."""
    if _OURS.match(entry.name):
        return True
    return entry.is_dir() and all(_OURS.match(e.name) for e in entry.iterdir())


def check_replaceable(target: Path) -> None:
    """An `OutputFolderError` unless `target` is absent, empty, or holds only what
    staffcast writes (its manifest's files and the known output names)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputFolderError(f"{target}: is a file; an output folder is needed")
    listed: set[str] = set()
    manifest = target / MANIFEST
    if manifest.is_file():
        try:
            listed = {p.split("/")[0] for p in json.loads(manifest.read_text("utf-8"))["files"]}
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            listed = set()
    foreign = sorted(e.name for e in target.iterdir() if e.name not in listed and not _ours(e))
    if foreign:
        raise OutputFolderError(
            f"{target}: holds {len(foreign)} file(s) no staffcast run wrote (first: "
            f"{foreign[0]!r}); a run replaces its whole output folder, so choose a new or "
            "empty folder")


class Generation:
    """One output folder written as a whole: write into `.path`, then `commit()`.

    Used as a context manager, an exception discards the staged folder and leaves the old
    one untouched; leaving the block normally commits (if `commit` was not called).
    """

    def __init__(self, target: str | os.PathLike[str], *, command: str = "",
                 run_id: str | None = None):
        self.target = Path(target).resolve()
        cwd = Path.cwd().resolve()
        if self.target == cwd or self.target in cwd.parents:
            raise OutputFolderError(f"{target}: is the current folder (or holds it); a run "
                                    "replaces its whole output folder, so name a subfolder "
                                    "such as out/week1")
        self.run_id = run_id or new_run_id()
        self.command = command
        self.committed = False
        self.target.parent.mkdir(parents=True, exist_ok=True)
        recover(self.target)
        check_replaceable(self.target)
        self.path = self.target.parent / f".{self.target.name}.staging-{self.run_id}-{os.getpid()}"
        os.mkdir(self.path)  # mode 0777 minus the umask, like the folder it replaces

    def __enter__(self) -> Generation:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.discard()
        elif not self.committed:
            self.commit()

    def discard(self) -> None:
        """Remove the staged folder; the old output folder stays as it was."""
        shutil.rmtree(self.path, ignore_errors=True)

    def manifest(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The manifest of the staged folder as it is now."""
        return {"manifest_version": MANIFEST_VERSION, "run_id": self.run_id,
                "command": self.command,
                "written_utc": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
                **dict(extra or {}), "files": file_entries(self.path)}

    def commit(self, extra: Mapping[str, Any] | None = None) -> Path:
        """Write the manifest, then swap the staged folder in place of the target in one
        step; the old folder is deleted afterwards. Returns the target."""
        if self.committed:
            return self.target
        atomic_write_text(self.path / MANIFEST,
                          json.dumps(self.manifest(extra), indent=2) + "\n")
        for folder in [self.path, *(p for p in self.path.rglob("*") if p.is_dir())]:
            _fsync_dir(folder)
        if not self.target.exists():
            os.rename(self.path, self.target)
            how = "renamed into place"
        elif _exchange(self.path, self.target):
            shutil.rmtree(self.path, ignore_errors=True)  # now the old generation
            how = "exchanged with the old folder"
        else:
            how = "swapped by two renames (no renameat2 exchange here)"
            aside = self.target.parent / f".{self.target.name}.old-{self.run_id}"
            os.rename(self.target, aside)
            os.rename(self.path, self.target)
            shutil.rmtree(aside, ignore_errors=True)
        _fsync_dir(self.target.parent)
        log.debug("run %s: %s %s", self.run_id, self.target, how)
        self.committed = True
        return self.target


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none (written by an older staffcast)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data.get("files"), dict) or "run_id" not in data:
            raise ValueError("no run_id or files")
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise OutputFolderError(f"{path}: not a staffcast manifest ({exc})") from exc
    return data


def verify(folder: str | os.PathLike[str], names: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """Check `folder` against its manifest: every listed file present with its size and
    SHA-256, and each of `names` present in the folder listed too (a file of another run
    beside this run's). Returns the manifest, or None for a folder without one."""
    folder = Path(folder)
    recover(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    run = manifest["run_id"]
    for rel, entry in manifest["files"].items():
        path = folder / rel
        if not path.is_file():
            raise OutputFolderError(f"{folder}: {rel} is missing, but manifest.json of run "
                                    f"{run} lists it; re-run the command that wrote the folder")
        if path.stat().st_size != entry.get("bytes") or _sha256(path) != entry.get("sha256"):
            raise OutputFolderError(f"{folder}: {rel} was changed after run {run} wrote it "
                                    "(its SHA-256 differs from manifest.json); re-run the "
                                    "command that wrote the folder")
    for name in names:
        if (folder / name).is_file() and name not in manifest["files"]:
            raise OutputFolderError(f"{folder}: {name} is not part of run {run} (not in "
                                    "manifest.json); it comes from another run")
    return manifest


def add_to_manifest(folder: str | os.PathLike[str], written: Mapping[str, Path]) -> None:
    """Record files a later command (simulate, report) wrote into a verified folder, so
    the manifest keeps describing every file of the folder."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return
    for name, path in written.items():
        path = Path(path)
        manifest["files"][name] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")

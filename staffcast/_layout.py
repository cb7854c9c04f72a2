"""Where `staffcast.forecasting` and `staffcast.scheduler` come from.

The repository keeps them as the top-level folders `forecast/` and `scheduler/`. A wheel
installs them inside this package (pyproject.toml maps the folders), so no top-level
`forecast` or `scheduler` is installed to clash with the packages of those names on the
index. In a source tree (PYTHONPATH=repo, or the editable install) the folders sit beside
this package; `install()` then adds a meta path finder for exactly these two names, so
nothing else of the repository root becomes importable and each module has one name in a
process. Stdlib only: `import staffcast` stays cheap.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_file_location

PACKAGE = __name__.rpartition(".")[0]
# Subpackage name -> its folder at the top of the repository. Not `staffcast.forecast`:
# that name is the library function `staffcast.forecast(...)`.
SUBPACKAGES = {"forecasting": "forecast", "scheduler": "scheduler"}


class SourceTreeFinder:
    """Finds `staffcast.forecasting` and `staffcast.scheduler` in the repository folders;
    their submodules are then found on the package's `__path__` as usual."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.folders = {f"{PACKAGE}.{name}": os.path.join(root, folder)
                        for name, folder in SUBPACKAGES.items()}

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> ModuleSpec | None:
        folder = self.folders.get(fullname)
        if folder is None:
            return None
        return spec_from_file_location(fullname, os.path.join(folder, "__init__.py"),
                                       submodule_search_locations=[folder])


def source_root() -> str | None:
    """The repository root when this package runs from a source tree, else None."""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isdir(os.path.join(here, "forecasting")):
        return None  # installed from a wheel: the subpackages are real folders here
    root = os.path.dirname(here)
    if os.path.isfile(os.path.join(root, "pyproject.toml")) and all(
            os.path.isfile(os.path.join(root, folder, "__init__.py"))
            for folder in SUBPACKAGES.values()):
        return root
    return None


def install() -> None:
    """Put a `SourceTreeFinder` first on `sys.meta_path` when running from a source tree
    (once per process). First, so another staffcast's editable finder cannot map the names
    elsewhere."""
    root = source_root()
    if root is not None and not any(isinstance(f, SourceTreeFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SourceTreeFinder(root))

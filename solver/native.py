"""Which build of the compiled search to use (stdlib only: setup.py loads it by path too).

setup.py compiles `NATIVE_MODULES` with mypyc and records their sources' hashes in
`BUILD_RECORD`; the package uses the build only while those hashes match (solver/__init__.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path

PACKAGE = "solver"
NATIVE_MODULES = ("compile", "greedy", "localsearch", "terms")
PURE_PYTHON_VARIABLE = "SIDELINES_PURE_PYTHON"
BUILD_RECORD = "native.json"
HERE = Path(__file__).parent


def source_hashes(directory: Path = HERE) -> dict[str, str]:
    """The SHA-256 of each compiled module's source, as the build records them."""
    return {
        f"{name}.py": hashlib.sha256((directory / f"{name}.py").read_bytes()).hexdigest() for name in NATIVE_MODULES
    }


def build_is_current(directory: Path = HERE) -> bool:
    """True when a compiled build lies here and was made from these very sources."""
    try:
        recorded = json.loads((directory / BUILD_RECORD).read_text())
    except (OSError, ValueError):
        return False
    return recorded == source_hashes(directory)


class PythonSources(MetaPathFinder):
    """Imports the compiled modules from their .py files, even with a build beside them
    (an extension module would otherwise win over the source of the same name)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != PACKAGE or name not in NATIVE_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")

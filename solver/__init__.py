"""The scheduling engine: the forum model, the solvers and the validator (pure, no I/O).

The local search's hot modules (`NATIVE_MODULES`) are compiled with mypyc when the package
is installed (setup.py): the same code, making the same moves, about twice as fast. A
compiled module is used only while every one of their sources is the one the build was
made from (`native.json` records their hashes). An edited source therefore runs as Python
until the next `pip install -e .`, never shadowed by an old build; tests/test_native.py
fails until then, so the speed is not lost unnoticed. SIDELINES_PURE_PYTHON=1 runs them as
Python too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path

NATIVE_MODULES = ("compile", "greedy", "localsearch", "terms")  # setup.py compiles these
PURE_PYTHON_VARIABLE = "SIDELINES_PURE_PYTHON"
HERE = Path(__file__).parent
BUILD_RECORD = "native.json"


def source_hashes(directory: Path = HERE) -> dict[str, str]:
    """The SHA-256 of each compiled module's source, as setup.py records them."""
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
        if package != __name__ or name not in NATIVE_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")


COMPILED = not os.environ.get(PURE_PYTHON_VARIABLE) and build_is_current()
if not COMPILED:
    sys.meta_path.insert(0, PythonSources())

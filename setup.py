"""Compiles the local search's hot modules with mypyc: the same typed Python, making the same
moves about twice as fast (docs/engine.md, fifteenth session). Everything else is in
pyproject.toml.

Without mypyc, a C compiler or the Python headers, or when mypy rejects the sources, the
package installs as plain Python and says so; tests/test_native.py then fails, because the
engine's speed targets are measured compiled. The build records the hashes of the sources it
compiled (solver/native.py says how), and solver/__init__.py uses the build only while they match.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent


def _native_rules() -> ModuleType:
    """solver/native.py, loaded by its path: a build cannot count on importing the package."""
    spec = importlib.util.spec_from_file_location("sidelines_native_rules", ROOT / "solver" / "native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NATIVE = _native_rules()


def native_extensions() -> list[Extension]:
    try:
        from mypyc.build import mypycify

        sources = [f"solver/{name}.py" for name in NATIVE.NATIVE_MODULES]
        extensions = mypycify(sources, opt_level="3", group_name="solver_native")
    except (Exception, SystemExit) as error:  # mypycify exits on a type error
        print(f"sidelines: the search is not compiled and runs as Python ({error!r})")
        return []
    for extension in extensions:
        extension.optional = True  # no compiler: install as Python rather than fail
    return extensions


class RecordedBuild(build_ext):
    """build_ext that writes solver/native.json beside the build once every module is built."""

    def run(self) -> None:
        super().run()
        if not self.extensions:
            return
        record = Path(self.get_ext_fullpath("solver.localsearch")).parent / NATIVE.BUILD_RECORD
        if all(Path(self.get_ext_fullpath(extension.name)).is_file() for extension in self.extensions):
            record.write_text(json.dumps(NATIVE.source_hashes(ROOT / "solver"), indent=1) + "\n")
        else:
            print("sidelines: the search's build failed; it runs as Python")
            record.unlink(missing_ok=True)


setup(ext_modules=native_extensions(), cmdclass={"build_ext": RecordedBuild})

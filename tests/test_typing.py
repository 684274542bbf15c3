"""mypy passes on the packages, the tests and the benchmarks, with the settings of pyproject.toml ([tool.mypy]).

CI runs `.venv/bin/mypy` after ruff (.ci/run); this test makes a type error fail the suite
too, so that it shows up where the tests are run, not only at the end of CI."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_mypy_checks_every_package_that_is_installed() -> None:
    settings = _pyproject()["tool"]
    packages = {pattern.rstrip("*") for pattern in settings["setuptools"]["packages"]["find"]["include"]}
    assert set(settings["mypy"]["files"]) == packages | {"tests", "bench"}
    assert settings["mypy"]["disallow_untyped_defs"] is True
    # A bare `Reply` (Any inside) leaves a handler's answer unchecked against its Response[Record].
    assert settings["mypy"]["disallow_any_generics"] is True
    loosened = [o["module"] for o in settings["mypy"]["overrides"] if o.get("disallow_any_generics") is False]
    assert all(module.split(".")[0] == "solver" for modules in loosened for module in modules), loosened


def test_the_packages_type_check() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")

"""CI (`bash .ci/run`) runs exactly the README's test command, then the linters.

Running .ci/run itself here would recurse into this suite; its structure is
checked instead: valid bash, the README's command verbatim on a line of its own
(not in a comment), its exit status kept, and the linters after it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / ".ci" / "run"


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("Run the tests (the exact command CI runs, in `.ci/run`):", 1)[1]
    block = re.search(r"```sh\n(?P<body>.*?)\n```", section, re.DOTALL)
    assert block is not None, "the README's test command is no longer a sh block"
    (command,) = block["body"].strip().splitlines()
    return command


def ci_lines() -> list[str]:
    return [line.strip() for line in CI.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]


def test_ci_script_is_valid_bash() -> None:
    assert subprocess.run(["bash", "-n", str(CI)], capture_output=True).returncode == 0


def test_ci_runs_the_readme_test_command_verbatim_then_the_linters() -> None:
    command = readme_test_command()
    assert command.endswith(".venv/bin/pytest")
    lines = ci_lines()
    assert command in lines, "the README's test command must be a line of .ci/run, word for word"
    after = lines[lines.index(command) + 1 :]
    assert after[0] == "status=$?"  # pytest's status is kept (5, no tests collected, fails CI)
    assert after[-3:] == [".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy"]
    assert lines[0] == "set -euo pipefail"

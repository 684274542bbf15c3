"""What the user's documents promise exists: every `sidelines` command line they show
parses with the real argument parser (its options are real), and every file of the
repository they name is there."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from api.cli import CliError, build_parser

ROOT = Path(__file__).resolve().parent.parent
# The newcomer's documents; engine.md, benchmarks.md and status.md are logs that also name
# what was tried and removed, and are left out of the file check (their commands are checked).
GUIDES = ["README.md", "docs/csv.md", "docs/importers.md", "docs/publication.md", "docs/resolve.md", "docs/rules.md"]
GUIDES.append("examples/README.md")
DOCUMENTS = sorted({*GUIDES, *(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))})
_BLOCK = re.compile(r"```(?:sh|console|bash)?\n(.*?)```", re.DOTALL)
_REPOSITORY_PATH = re.compile(r"`((?:api|db|solver|bench|tests|docs|examples|\.ci)/[\w./-]*)`")


def _command_lines(text: str) -> list[str]:
    """`sidelines ...` as shown: each line of a shell block (prompt, variables and comment
    dropped), and each inline one that has arguments (`sidelines load` alone names a command)."""
    lines = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            line = re.sub(r"^(\$ )?(\w+=\S+ )*", "", line.strip())
            if line.startswith("sidelines "):
                lines.append(line)
    lines += [line for line in re.findall(r"`(sidelines [^`]+)`", text) if len(line.split()) > 2]
    return [re.split(r"\s+#", line)[0].strip() for line in lines]


COMMANDS = sorted({(name, line) for name in DOCUMENTS for line in _command_lines((ROOT / name).read_text())})


def test_the_documents_show_commands() -> None:
    shown = {name for name, _ in COMMANDS}
    assert {"README.md", "docs/csv.md", "docs/engine.md"} <= shown and len(COMMANDS) > 30


@pytest.mark.parametrize(("document", "line"), COMMANDS)
def test_every_command_line_shown_parses(document: str, line: str) -> None:
    try:
        build_parser().parse_args(shlex.split(line)[1:])
    except CliError as error:
        pytest.fail(f"{document}: `{line}`: {error}")


@pytest.mark.parametrize("document", GUIDES)
def test_every_repository_path_named_exists(document: str) -> None:
    named = {path.rstrip("/") for path in _REPOSITORY_PATH.findall((ROOT / document).read_text())}
    assert sorted(path for path in named if not (ROOT / path).exists()) == []


def test_the_layout_table_names_files_that_exist() -> None:
    """README's Layout rows list each folder's files by bare name (`bench/` ... `run_all.py`)."""
    rows = re.findall(r"^\| `(\w+)/` \| (.*) \|$", (ROOT / "README.md").read_text(), flags=re.MULTILINE)
    assert len(rows) >= 6
    missing = [
        f"{folder}/{name}"
        for folder, text in rows
        for name in re.findall(r"`([\w.-]+\.py)`", text)
        if not (ROOT / folder / name).exists() and not any((ROOT / folder).rglob(name))
    ]
    assert missing == []

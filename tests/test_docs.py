"""What the user's documents promise exists: every `sidelines` command line they show
parses with the real argument parser (its options are real), and every file of the
repository they name is there."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.cli import CliError, build_parser
from api.worker import WorkerSettings, claim_next, process_run
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
# The newcomer's documents; engine.md, benchmarks.md and status.md are logs that also name
# what was tried and removed, and are left out of the file check (their commands are checked).
GUIDES = [
    "README.md",
    "docs/api.md",
    "docs/csv.md",
    "docs/importers.md",
    "docs/organisers.md",
    "docs/publication.md",
    "docs/resolve.md",
    "docs/rules.md",
]
GUIDES.append("examples/README.md")
DOCUMENTS = sorted({*GUIDES, *(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("*.md"))})
_SHELL = {"", "sh", "console", "bash"}
_REPOSITORY_PATH = re.compile(r"`((?:api|db|solver|bench|tests|docs|examples|\.ci)/[\w./-]*)`")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Each fenced block's info string and body, fences paired line by line. A regex from one
    fence of a shell block to the next paired a closing fence with the next opening one after a
    block of another kind (```json forum.json), and read the prose between them instead."""
    blocks: list[tuple[str, str]] = []
    info: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        if info is None:
            if line.startswith("```"):
                info, body = line[3:].strip(), []
        elif line.startswith("```"):
            blocks.append((info, "".join(f"{kept}\n" for kept in body)))
            info = None
        else:
            body.append(line)
    assert info is None, "a fenced block is never closed"
    return blocks


def _shell_blocks(text: str) -> list[str]:
    return [body for info, body in fenced_blocks(text) if info.split(" ")[0] in _SHELL]


def _command_lines(text: str) -> list[str]:
    """`sidelines ...` as shown: each line of a shell block (prompt, variables and comment
    dropped), and each inline one that has arguments (`sidelines load` alone names a command)."""
    lines = []
    for block in _shell_blocks(text):
        for line in block.splitlines():
            line = re.sub(r"^(\$ )?(\w+=\S+ )*", "", line.strip())
            if line.startswith("sidelines "):
                lines.append(line)
    lines += [line for line in re.findall(r"`(sidelines [^`]+)`", text) if len(line.split()) > 2]
    return [re.split(r"\s+#", line)[0].strip() for line in lines]


def _arguments(line: str) -> list[str]:
    """The command's own arguments: what follows a redirection, a pipe or `&&` is the shell's."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    ends = [index for index, word in enumerate(words) if word in {">", ">>", "<", "|", "||", "&&", ";"}]
    return words[1 : ends[0] if ends else len(words)]


COMMANDS = sorted({(name, line) for name in DOCUMENTS for line in _command_lines((ROOT / name).read_text())})


def test_the_documents_show_commands() -> None:
    shown = {name for name, _ in COMMANDS}
    assert {"README.md", "docs/csv.md", "docs/engine.md"} <= shown and len(COMMANDS) > 30


@pytest.mark.parametrize(("document", "line"), COMMANDS)
def test_every_command_line_shown_parses(document: str, line: str) -> None:
    try:
        build_parser().parse_args(_arguments(line))
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


# ---- docs/api.md, run call by call


def _curl_commands(text: str) -> list[str]:
    """The guide's shell lines, a command continued over lines (a trailing backslash,
    or a quoted body that spans lines) joined into one."""
    commands: list[str] = []
    pending = ""
    for block in _shell_blocks(text):
        for line in block.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            if pending.endswith("\\"):
                pending = pending[:-1]
                continue
            try:
                shlex.split(pending)
            except ValueError:  # a quote still open: the body goes on
                continue
            commands.append(pending.strip())
            pending = ""
    return commands


class _Guide:
    """The reader's shell: variables set by hand, and those the guide says to keep from answers."""

    def __init__(self, client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
        self.client, self.pool = client, pool
        self.variables: dict[str, str] = {}
        self.answers: list[httpx.Response] = []

    async def run(self, command: str) -> None:
        if re.fullmatch(r"\w+=\S+", command):
            name, value = command.split("=", 1)
            self.variables[name] = {"SIDELINES": "http://testserver", "ADMIN": ADMIN_TOKEN}.get(name, value)
            return
        words = shlex.split(re.sub(r"\$(\w+)", lambda match: self.variables[match[1]], command))
        assert words[0] == "curl", command
        method, headers, body, url = "GET", {}, None, ""
        options = iter(words[1:])
        for word in options:
            if word == "-X":
                method = next(options)
            elif word == "-H":
                name, _, value = next(options).partition(": ")
                headers[name] = value
            elif word == "-d":
                body = next(options)
            elif word.startswith("http"):
                url = word
            else:
                assert word == "-s", f"{command}: the test does not know {word}"
        answer = await self.client.request(method, url, headers=headers, content=body)
        self.answers.append(answer)
        await self._remember(url, method, answer)

    async def _remember(self, url: str, method: str, answer: httpx.Response) -> None:
        """What the guide tells the reader to keep; a queued run is worked, as serve's worker would."""
        data = answer.json() if answer.headers.get("content-type", "").endswith("json") else None
        if not isinstance(data, dict) or method != "POST":
            return
        if "forum" in data and "organiser_token" in data:
            self.variables.update(FORUM=data["forum"]["id"], ORGANISER=data["organiser_token"])
        elif "delegation" in data and "token" in data:
            self.variables[data["delegation"]["id"]] = data["token"]
        elif url.endswith("/requests"):
            self.variables["REQUEST"] = data["id"]
        elif url.endswith("/runs"):
            run = await claim_next(self.pool, "docs-guide", 10)
            assert run is not None and str(run.forum_id) == self.variables["FORUM"]
            await process_run(self.pool, run, "docs-guide", WorkerSettings())


async def test_the_api_guide_works_as_written(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    guide = _Guide(client, pool)
    commands = _curl_commands((ROOT / "docs" / "api.md").read_text())
    assert len(commands) == 21, commands
    for command in commands:
        await guide.run(command)
    *calls, hidden = guide.answers[:15]
    issued, tokens, closed, reopened = guide.answers[15:]
    assert [answer.status_code for answer in (issued, tokens, closed, reopened)] == [201, 200, 200, 200]
    assert [token["name"] for token in tokens.json()] == ["first organiser token", "Duty officer, night shift"]
    assert issued.json()["token"] not in tokens.text
    assert closed.json()["closed_at"] is not None and reopened.json()["closed_at"] is None
    assert [answer.status_code for answer in calls] == [201] * 7 + [200, 200, 202, 200, 200, 200, 200]
    assert (calls[8].json()["priority"], calls[8].json()["requested_priority"]) == ("must", "normal")
    assert calls[10].json()["status"] == "succeeded" and calls[10].json()["version"] == 1
    agenda = calls[-1].json()
    assert set(agenda) == {"delegation", "version", "publication", "published_at", "meetings"}
    assert (agenda["version"], agenda["publication"]) == (1, 1)
    (meeting,) = agenda["meetings"]
    assert meeting["meeting"] == guide.variables["REQUEST"] and meeting["attendees"] == ["CA/ca-min", "UA/ua-min"]
    assert (
        meeting["room"] == "R1" and meeting["start"].startswith("2024-11-22T") and meeting["start"].endswith("-04:00")
    )
    assert hidden.status_code == 404 and hidden.json()["type"] == "urn:sidelines:problem:not-found"
    spots = calls[11].json()  # where the request can go in version 1: its own place first, at no cost
    assert spots and (spots[0]["start"], spots[0]["room"], spots[0]["cost"]) == (meeting["start"], "R1", 0)

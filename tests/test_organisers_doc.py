"""docs/organisers.md works as written: every command of its shell blocks is run by bash, in
order, against a real `sidelines serve` (with its solve worker) on a throwaway database; the
files it shows (```json forum.json, ```csv requests.csv) are written where the commands read
them; every `sidelines` command runs the tree under test; every HTTP call answers 2xx unless
its line says `# answers NNN`; and every answer the guide shows (```json answer, under a block)
is what the block's last command printed. Then what the guide claims of the results is checked
against the server: a rotated token refused, the exports readable, the token files private.

The reader's shell is kept between commands as a shell keeps it: the variables (exported),
and the umask. Two lines are the reader's own and are replaced: `DATABASE_URL=` and
`SIDELINES=` (the test's database and server)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import openpyxl
import pytest

from api.cli import build_parser
from tests.conftest import bearer
from tests.processes import Isolated, serving
from tests.test_docs import fenced_blocks

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "organisers.md"
COMMAND_SECONDS = 120  # the longest is a solve with a 20 s limit; a slow machine takes its time
STATUS = "curl-status:"
CALL = "curl-call"
EXPECTED = re.compile(r"#\s*answers (\d{3})\b")
READERS_OWN = re.compile(r"^(export )?(DATABASE_URL|SIDELINES)=\S+$")


@dataclass
class Command:
    text: str
    answer: str | None = None  # the ```json answer shown under its block, when it is the last command


@dataclass
class Guide:
    steps: list[Command | tuple[str, str]] = field(default_factory=list)  # a command, or (file name, content)

    @property
    def commands(self) -> list[Command]:
        return [step for step in self.steps if isinstance(step, Command)]


def _split_commands(body: str) -> list[str]:
    """A block's commands as bash reads them: a line continued by a trailing backslash, or by a
    quote still open, belongs to the command above it. Comment lines are left out."""
    commands: list[str] = []
    pending = ""
    for line in body.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # a quote still open
            continue
        commands.append(pending)
        pending = ""
    assert not pending, f"a command is never finished: {pending}"
    return commands


def read_guide(text: str) -> Guide:
    guide = Guide()
    for info, body in fenced_blocks(text):
        kind, _, name = info.partition(" ")
        if kind == "sh":
            commands = [Command(command) for command in _split_commands(body)]
            assert commands, "an empty shell block"
            guide.steps += commands
        elif kind == "json" and name == "answer":
            last = guide.steps[-1] if guide.steps else None
            assert isinstance(last, Command) and last.answer is None, f"an answer under no command: {body}"
            last.answer = body
        elif kind in {"json", "csv"} and name:
            guide.steps.append((name, body))
        else:
            pytest.fail(f"docs/organisers.md: a ```{info} block, which this test does not know how to check")
    return guide


def json_values(text: str) -> list[Any]:
    """Every JSON value in `text`, one after another (jq prints a stream)."""
    decoder = json.JSONDecoder()
    values, at = [], 0
    text = text.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        values.append(value)
        while at < len(text) and text[at].isspace():
            at += 1
    return values


@dataclass
class Ran:
    command: Command
    stdout: str
    statuses: list[int]


class Reader:
    """The organiser's shell: a working directory, `sidelines` and `curl` on the PATH, the state
    of the shell (variables, umask) kept in a file between commands."""

    def __init__(self, home: Path, database_url: str, server: str) -> None:
        self.work, self.bin = home / "work", home / "bin"
        self.work.mkdir(parents=True)
        self.bin.mkdir()
        self.state = home / "state.sh"
        self.state.write_text("")
        self.replacements = {"DATABASE_URL": database_url, "SIDELINES": server}
        self.replaced: set[str] = set()
        self.snapshots: dict[str, str] = {}  # files the guide later removes, as they were
        real_curl = shutil.which("curl")
        assert real_curl is not None, "curl is needed (apt-get install curl)"
        assert shutil.which("jq") is not None, "jq is needed (apt-get install jq)"
        # The tree under test, whichever `sidelines` is installed; each call's status on stderr.
        self._script("sidelines", f'PYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} -m api "$@"')
        write_status = f"--write-out '%{{stderr}}{STATUS}%{{http_code}}\\n'"
        self._script("curl", f'echo {CALL} >&2\nexec {shlex.quote(real_curl)} {write_status} "$@"')
        self.environment = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        for name in ("DATABASE_URL", "SIDELINES", "SIDELINES_TOKEN", "FORUM", "ORGANISER", "RUN", "PYTHONPATH"):
            self.environment.pop(name, None)

    def _script(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)

    def write(self, name: str, content: str) -> None:
        (self.work / name).write_text(content)

    async def run(self, command: Command) -> Ran:
        text = command.text
        found = READERS_OWN.match(text)
        if found:
            name = found[2]
            text = f"{found[1] or ''}{name}={shlex.quote(self.replacements[name])}"
            self.replaced.add(name)
        script = (
            f"set -a\nsource {shlex.quote(str(self.state))}\nset -eo pipefail\n{text}\n"
            f'export -p > {shlex.quote(str(self.state))}\necho "umask $(umask)" >> {shlex.quote(str(self.state))}\n'
        )
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            script,
            cwd=self.work,
            env=self.environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), COMMAND_SECONDS)
        out, err = stdout.decode(), stderr.decode()
        assert process.returncode == 0, f"`{command.text}` exited {process.returncode}:\n{out}\n{err}"
        calls = err.count(CALL)
        statuses = [int(line.removeprefix(STATUS)) for line in err.splitlines() if line.startswith(STATUS)]
        assert len(statuses) == calls, f"`{command.text}`: a curl call whose status was not written:\n{err}"
        for name in ("delegation-tokens.json", "agenda-links.txt", "au-link.txt"):
            if (self.work / name).exists():
                self.snapshots[name] = (self.work / name).read_text()
        return Ran(command, out, statuses)


def _check_statuses(ran: Ran) -> None:
    expected = EXPECTED.search(ran.command.text)
    if expected:
        assert ran.statuses == [int(expected[1])], f"`{ran.command.text}` answered {ran.statuses}"
    else:
        assert all(200 <= status < 300 for status in ran.statuses), f"`{ran.command.text}` answered {ran.statuses}"


def _check_answer(ran: Ran) -> None:
    if ran.command.answer is not None:
        shown, printed = json_values(ran.command.answer), json_values(ran.stdout)
        where = f"`{ran.command.text}` printed\n{ran.stdout}\nwhere the guide shows\n{ran.command.answer}"
        assert printed == shown, where


def _one(results: list[Ran], fragment: str) -> Ran:
    (found,) = [ran for ran in results if fragment in ran.command.text]
    return found


async def test_the_organisers_guide_works_as_written(isolated: Isolated, tmp_path: Path) -> None:
    guide = read_guide(GUIDE.read_text())
    assert len(guide.commands) >= 35 and sum(command.answer is not None for command in guide.commands) >= 12
    async with serving(isolated) as (_, client):
        reader = Reader(tmp_path / "organiser", isolated.url, str(client.base_url).rstrip("/"))
        results: list[Ran] = []
        for step in guide.steps:
            if isinstance(step, tuple):
                reader.write(*step)
                continue
            ran = await reader.run(step)
            _check_statuses(ran)
            _check_answer(ran)
            results.append(ran)
        assert reader.replaced == {"DATABASE_URL", "SIDELINES"}
        await _check_outcomes(client, isolated.pool, reader, results)


async def _check_outcomes(client: httpx.AsyncClient, pool: asyncpg.Pool, reader: Reader, results: list[Ran]) -> None:
    work = reader.work
    # "make them readable by you alone": the umask the guide sets is the shell's from then on
    assert stat.S_IMODE((work / "forum-tokens.json").stat().st_mode) == 0o600
    forum = json.loads((work / "forum-tokens.json").read_text())
    base, organiser = f"/forums/{forum['forum_id']}", bearer(forum["organiser_token"])

    # the links handed out open each delegation's own page, and the files were then removed
    assert not (work / "delegation-tokens.json").exists() and not (work / "agenda-links.txt").exists()
    tokens = json.loads(reader.snapshots["delegation-tokens.json"])["tokens"]
    links = dict(line.split(" ") for line in reader.snapshots["agenda-links.txt"].splitlines())
    assert sorted(links) == sorted(tokens) == ["AU", "ID", "JP", "SG", "US"]
    site = str(client.base_url).rstrip("/")
    assert links == {delegation: f"{site}/agenda#token={token}" for delegation, token in tokens.items()}
    for delegation in ("SG", "US", "JP", "ID"):  # Australia's is rotated below
        me = await client.get("/me", headers=bearer(tokens[delegation]))
        assert me.json() == {"kind": "delegation", "forum_id": forum["forum_id"], "delegation_id": delegation}

    # the first solve (`sidelines forum solve --wait`) followed the run to its end, with the guide's
    # limit; the preview agrees on what cannot be held
    solved = json.loads((work / "run.json").read_text())
    assert solved["status"] == "succeeded" and solved["options"]["time_limit"] == 20 and solved["finished_at"]
    preview = json.loads((work / "preview.json").read_text())
    assert [entry["meeting"] for entry in preview["unplaced"]] == ["AU-ID"]

    # the published version is the last re-solve's, holding the new meeting; Australia's agenda is its own
    published = (await client.get(f"{base}/schedules/4", headers=organiser)).json()
    assert published["published"] and published["out_of_date"] is None and published["derived_from"] == 3
    held = {placement["meeting"] for placement in published["placements"]}
    assert "JP-ID" not in held and "SG-AU" in held and len(held) == 8
    # who was told of each publication: of the re-solve's, the four whose meetings moved or went, not
    # the United States; of the new meeting's, its two parties
    told = await pool.fetch(
        "SELECT p.number, n.delegation_id FROM notices n JOIN publications p ON p.id = n.publication_id"
        " WHERE n.forum_id = $1",
        UUID(forum["forum_id"]),
    )
    by_publication = {number: {row["delegation_id"] for row in told if row["number"] == number} for number in (2, 3)}
    assert by_publication == {2: {"AU", "SG", "JP", "ID"}, 3: {"JP", "SG"}}
    agenda = _one(results, "forum agenda $FORUM AU").stdout.splitlines()  # a row a meeting, its time first
    rows = [line.split()[1] for line in agenda if re.match(r"\d\d:\d\d-\d\d:\d\d ", line)]
    assert sorted(rows) == ["AU-JP-US", "AU-US", "SG-AU"], agenda

    # exports: a workbook with a sheet per day and the list; the list as CSV; Australia's calendar
    workbook = openpyxl.load_workbook(BytesIO((work / "grid.xlsx").read_bytes()))
    assert len(workbook.sheetnames) == 3 and workbook.sheetnames[-1] == "Meetings"
    listed = (work / "meetings.csv").read_text()
    assert listed.startswith("meeting,title,date,start,end,room,venue,delegations,attendees") and (
        "Defence industry dialogue" in listed
    )
    calendar = (work / "AU.ics").read_text()
    assert calendar.count("BEGIN:VEVENT") >= 3 and f"UID:SG-AU.{forum['forum_id']}@sidelines" in calendar
    audit = json.loads((work / "audit.json").read_text())
    assert {"load", "import", "create", "move", "publish"} <= {entry["action"] for entry in audit}
    tail = _one(results, "audit $FORUM | tail").stdout.splitlines()  # the last five entries, a line each
    assert [line.split()[0] for line in tail] == [str(entry["id"]) for entry in audit[-5:]]

    # the rotated token: the old one refused at once, the new link's accepted
    old = await client.get(f"{base}/delegations/AU/agenda", headers=bearer(tokens["AU"]))
    assert old.status_code == 401
    assert _one(results, "delegation-token $FORUM AU").stdout.strip().endswith("the old one stopped")
    assert not (work / "au.token").exists() and not (work / "au-link.txt").exists()
    line = reader.snapshots["au-link.txt"].strip()
    new_token = line.removeprefix(f"AU {site}/agenda#token=")
    assert new_token != line and new_token != tokens["AU"]
    assert (await client.get(f"{base}/delegations/AU/agenda", headers=bearer(new_token))).status_code == 200


# ---- what the guide names in its prose


def _options() -> set[str]:
    """Every option of every `sidelines` command."""
    found: set[str] = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            found.update(action.option_strings)
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                parsers.extend(choices.values())
    return found


def test_every_option_the_guide_names_exists() -> None:
    named = set(re.findall(r"`(--[a-z][a-z-]*)`", GUIDE.read_text()))
    assert named, "the guide names no option: the check has lost its pattern"
    assert sorted(named - _options()) == []


_CALL = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) ((?:/|\.\.\./)[^`\s?]*)")


def _matches(shown: list[str], path: list[str]) -> bool:
    return len(shown) == len(path) and all(
        mine == theirs or (mine.startswith("{") and theirs.startswith("{"))
        for mine, theirs in zip(shown, path, strict=True)
    )


async def test_every_http_call_the_guide_names_exists(client: httpx.AsyncClient) -> None:
    """`POST /forums/{id}/changes` in the prose is a route of the OpenAPI document, with that method
    (a `.../participants/{id}` is the end of one)."""
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"].items()
    routes = [(method.upper(), path.strip("/").split("/")) for path, item in paths for method in item]
    named = _CALL.findall(GUIDE.read_text())
    assert len(named) >= 10
    missing = []
    for method, shown in named:
        relative = shown.startswith(".../")
        parts = shown.removeprefix(".../").strip("/").split("/")
        if not any(
            method == theirs and _matches(parts, path[-len(parts) :] if relative else path) for theirs, path in routes
        ):
            missing.append(f"{method} {shown}")
    assert missing == []


def test_every_link_and_screenshot_the_guide_shows_exists() -> None:
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", GUIDE.read_text())
    local = [target for target in targets if not target.startswith(("http://", "https://"))]
    assert any(target.startswith("screenshots/") for target in local)
    assert sorted(target for target in local if not (GUIDE.parent / target).exists()) == []

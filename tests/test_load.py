"""`db.load.load_problem`: a problem stored as a forum reads back as the same problem."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest

from db.load import LoadedForum, load_problem, participant_ids
from db.problem import build_problem
from db.tokens import hash_token
from solver.check import ProblemError, check_problem
from solver.check import load_problem as read_problem
from solver.engine import SolveOptions, solve
from solver.model import Problem, attendees
from solver.validate import validate
from tests.conftest import ADMIN_TOKEN, Databases, bearer

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).parent.parent / "examples"


def renamed(problem: Problem) -> Problem:
    """`problem` with participants named as a stored forum names them ("delegation/participant")."""
    names = {old: f"{delegation}/{new}" for old, (delegation, new) in participant_ids(problem).items()}
    return msgspec.convert(
        {
            **msgspec.to_builtins(problem),
            "delegations": [
                {
                    **msgspec.to_builtins(delegation),
                    "participants": [
                        {**msgspec.to_builtins(person), "id": names[person.id]} for person in delegation.participants
                    ],
                }
                for delegation in problem.delegations
            ],
            "meetings": [
                {**msgspec.to_builtins(meeting), "participants": [names[p] for p in meeting.participants]}
                for meeting in problem.meetings
            ],
            "sessions": [
                {**msgspec.to_builtins(session), "participants": [names[p] for p in session.participants]}
                for session in problem.sessions
            ],
        },
        Problem,
        strict=False,
    )


def normalised(problem: Problem) -> dict[str, object]:
    """The problem as plain data with every list of items in id order (the database reads by id)."""
    # through JSON: stored items are record subclasses that also write their defaults
    data = msgspec.json.decode(msgspec.json.encode(msgspec.json.decode(msgspec.json.encode(problem), type=Problem)))
    for key in ("rooms", "delegations", "meetings", "sessions", "venues", "resources"):
        data[key] = sorted(data.get(key, []), key=lambda item: item["id"])
    for delegation in data["delegations"]:
        delegation["participants"] = sorted(delegation.get("participants", []), key=lambda item: item["id"])
    for meeting, source in zip(data["meetings"], sorted(problem.meetings, key=lambda m: m.id), strict=True):
        # the stored forum names the principals an unnamed party sends; the order of parties is by id
        meeting["participants"] = sorted(attendees(problem, source))
        meeting["delegations"] = sorted(meeting["delegations"])
    data["travel"] = sorted([*sorted(entry["between"]), entry["minutes"]] for entry in data.get("travel", []))
    data["keep_apart"] = sorted(sorted(pair["delegations"]) for pair in data.get("keep_apart", []))
    return data


async def test_shangri_la_reads_back_as_the_same_problem(pool: asyncpg.Pool) -> None:
    original = read_problem((EXAMPLES / "shangri-la.json").read_bytes())
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, original)
        stored = await build_problem(connection, UUID(loaded.forum_id), datetime.now(UTC))
    assert stored is not None
    assert check_problem(stored) == []
    assert normalised(stored) == normalised(renamed(original))
    assert len(stored.meetings) == 121 and sum(len(d.participants) for d in stored.delegations) == 138
    assert stored.keep_apart and any(m.pinned_start for m in stored.meetings)  # not silently dropped

    options = SolveOptions(time_limit=4, workers=2)
    for problem in (original, stored):
        schedule = solve(problem, options)
        assert validate(problem, schedule).violations == []
        assert len(schedule.placed) >= 100


async def test_tokens_are_issued_once_and_stored_hashed(pool: asyncpg.Pool) -> None:
    problem = read_problem((EXAMPLES / "cis-council.json").read_bytes())
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, problem)
        organiser_hash = await connection.fetchval(
            "SELECT token_hash FROM organiser_tokens WHERE forum_id = $1 AND number = 1", UUID(loaded.forum_id)
        )
        rows = await connection.fetch(
            "SELECT id, token_hash FROM delegations WHERE forum_id = $1", UUID(loaded.forum_id)
        )
    assert organiser_hash == hash_token(loaded.organiser_token)
    assert {row["id"]: row["token_hash"] for row in rows} == {
        delegation: hash_token(token) for delegation, token in loaded.delegation_tokens.items()
    }
    assert set(loaded.delegation_tokens) == {d.id for d in problem.delegations}
    assert len({loaded.organiser_token, *loaded.delegation_tokens.values()}) == 1 + len(problem.delegations)


async def test_a_bad_problem_stores_nothing(pool: asyncpg.Pool) -> None:
    problem = read_problem((EXAMPLES / "cis-council.json").read_bytes())
    bad_room = msgspec.structs.replace(problem.rooms[1], id="room 2")  # a space is not allowed in a URL id
    bad = msgspec.structs.replace(problem, rooms=[problem.rooms[0], bad_room, *problem.rooms[2:]])
    async with pool.acquire() as connection:
        before = await connection.fetchval("SELECT count(*) FROM forums")
        with pytest.raises(ProblemError) as raised:
            await load_problem(connection, bad)
        assert await connection.fetchval("SELECT count(*) FROM forums") == before
    assert [finding.path for finding in raised.value.findings] == ["rooms[1].id"]


@pytest.mark.parametrize(("server", "shown"), [(None, "http://127.0.0.1:8000"), ("https://forum.example.org/", None)])
async def test_load_command_says_its_tokens_are_shown_once_and_which_page_to_open(
    databases: Databases, server: str | None, shown: str | None
) -> None:
    """A new user's walkthrough: the tokens came without a word that they are shown only once,
    nor of the page to open next (the grid, its token in the fragment, as the demo prints it)."""
    environment = {name: value for name, value in os.environ.items() if name != "SIDELINES"}
    environment["DATABASE_URL"] = await databases.create()
    if server is not None:
        environment["SIDELINES"] = server
    command = [sys.executable, "-m", "api", "load", str(EXAMPLES / "cis-council.json")]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Tokens (shown once, stored hashed; send as 'Authorization: Bearer <token>'):" in lines
    organiser = next(line.split()[1] for line in lines if line.startswith("  organiser "))
    first = read_problem((EXAMPLES / "cis-council.json").read_bytes()).delegations[0].id
    delegation = next(line.split()[2] for line in lines if line.startswith(f"  delegation {first} "))
    base = shown or (server or "").rstrip("/")
    assert f"  organiser grid   {base}/grid#token={organiser}" in lines
    assert f"  requests         {base}/requests#token={organiser}" in lines
    assert f"  agenda of {first:<6} {base}/agenda#token={delegation}" in lines
    connection = await asyncpg.connect(environment["DATABASE_URL"])
    try:  # the tokens in the page addresses are the ones stored (hashed)
        hashes = [hash_token(organiser), hash_token(delegation)]
        found = await connection.fetchval(
            "SELECT (SELECT count(*) FROM organiser_tokens WHERE token_hash = $1)"
            " + (SELECT count(*) FROM delegations WHERE token_hash = $2)",
            *hashes,
        )
    finally:
        await connection.close()
    assert found == 2


async def test_load_command_prints_the_forum_and_its_tokens(databases: Databases, tmp_path: Path) -> None:
    environment = {**os.environ, "DATABASE_URL": await databases.create()}
    command = [sys.executable, "-m", "api", "load", str(EXAMPLES / "cis-council.json"), "--json"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    loaded = msgspec.json.decode(done.stdout, type=LoadedForum)
    problem = read_problem((EXAMPLES / "cis-council.json").read_bytes())
    assert set(loaded.delegation_tokens) == {delegation.id for delegation in problem.delegations}

    broken = msgspec.to_builtins(problem)
    broken["delegations"][2]["participants"][0]["id"] = "a/b"  # '/' is not allowed in a stored id
    path = tmp_path / "broken.json"
    path.write_bytes(msgspec.json.encode(broken))
    refused = subprocess.run([*command[:4], str(path)], env=environment, capture_output=True, text=True, check=False)
    assert refused.returncode == 2
    rule = "must be 1 to 64 letters, digits, '_', '.' or '-', other than '.' and '..'"
    assert refused.stderr == f"sidelines: error: {path}: delegations[2].participants[0].id: {rule}\n"

    urgent = msgspec.to_builtins(problem)
    urgent["meetings"][3]["priority"] = "urgent"
    path.write_bytes(msgspec.json.encode(urgent))
    refused = subprocess.run([*command[:4], str(path)], env=environment, capture_output=True, text=True, check=False)
    choices = "must be one of: must, high, normal, low (not 'urgent')"
    assert (refused.returncode, refused.stderr) == (2, f"sidelines: error: {path}: meetings[3].priority: {choices}\n")

    titled = msgspec.to_builtins(problem)
    titled["meetings"][1]["title"] = (
        "Border\x00talks"  # valid JSON, valid for the solver; PostgreSQL text cannot hold it
    )
    path.write_bytes(msgspec.json.encode(titled))
    refused = subprocess.run([*command[:4], str(path)], env=environment, capture_output=True, text=True, check=False)
    assert (refused.returncode, refused.stderr) == (
        2,
        f"sidelines: error: {path}: meetings[1].title: may not contain the NUL character (U+0000)\n",
    )


async def test_import_endpoint_creates_the_forum_for_the_admin_only(client: httpx.AsyncClient) -> None:
    document = (EXAMPLES / "cis-council.json").read_bytes()
    json_body = {"Content-Type": "application/json"}
    answer = await client.post("/forums/import", content=document, headers={**bearer(ADMIN_TOKEN), **json_body})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    forum = f"/forums/{created['forum']['id']}"
    assert answer.headers["Location"] == forum
    organiser = bearer(created["organiser_token"])
    requests = await client.get(f"{forum}/requests", headers=organiser)
    assert len(requests.json()) == 20 and {r["status"] for r in requests.json()} == {"accepted"}
    first, second = sorted(created["delegation_tokens"])[:2]
    own = bearer(created["delegation_tokens"][first])
    assert (await client.get(f"{forum}/delegations/{first}/participants", headers=own)).status_code == 200
    assert (await client.get(f"{forum}/delegations/{second}", headers=own)).status_code == 404

    refused = await client.post("/forums/import", content=document, headers={**organiser, **json_body})
    assert refused.status_code == 403

    broken = msgspec.json.decode(document)
    broken["meetings"][4]["delegations"][1] = "ATLANTIS"
    bad = await client.post("/forums/import", json=broken, headers=bearer(ADMIN_TOKEN))
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["meetings[4].delegations"]
    assert "ATLANTIS" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        (("forum", "time_zone"), "America", "forum.time_zone"),
        (("forum", "days", 0, "end"), "19:00:00+05:00", "forum.days[0].end"),
        (
            ("rooms", 0, "unavailable"),
            [{"start": "0001-01-01T00:00:00+05:00", "end": "2024-11-20T10:00:00"}],
            "rooms[0].unavailable[0].start",
        ),
    ],
)
async def test_import_refuses_what_used_to_crash_the_checks(
    client: httpx.AsyncClient, pool: asyncpg.Pool, field: tuple[str | int, ...], value: object, named: str
) -> None:
    document = msgspec.json.decode((EXAMPLES / "admm-plus.json").read_bytes())
    *parents, last = field
    inner = document
    for key in parents:
        inner = inner[key]
    inner[last] = value
    forums = await pool.fetchval("SELECT count(*) FROM forums")
    answer = await client.post("/forums/import", json=document, headers=bearer(ADMIN_TOKEN))
    assert (answer.status_code, answer.headers["content-type"]) == (422, "application/problem+json"), answer.text
    assert [error["field"] for error in answer.json()["errors"]] == [named]
    assert await pool.fetchval("SELECT count(*) FROM forums") == forums


async def test_import_replay_shows_no_tokens(client: httpx.AsyncClient) -> None:
    document = (EXAMPLES / "cis-council.json").read_bytes()
    headers = {**bearer(ADMIN_TOKEN), "Content-Type": "application/json", "Idempotency-Key": "import-1"}
    first = await client.post("/forums/import", content=document, headers=headers)
    again = await client.post("/forums/import", content=document, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["forum"] == first.json()["forum"]
    assert again.json()["organiser_token"] is None and again.json()["delegation_tokens"] is None


@pytest.mark.parametrize("example", sorted(path.name for path in EXAMPLES.glob("*.json")))
async def test_every_example_reads_back_as_the_same_problem(pool: asyncpg.Pool, example: str) -> None:
    original = read_problem((EXAMPLES / example).read_bytes())
    async with pool.acquire() as connection:
        loaded = await load_problem(connection, original)
        stored = await build_problem(connection, UUID(loaded.forum_id), datetime.now(UTC))
    assert stored is not None and check_problem(stored) == []
    assert normalised(stored) == normalised(renamed(original))

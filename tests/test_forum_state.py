"""The forum state kept between calls (db/forum_state.py) and the workbooks kept by their
content (api/exports.py): answers made from them are those made without them, and an
edit, a recorded change or a new version between two calls changes the answer.

The Shangri-La example imported through the API, its greedy grid stored and published
(tests/test_api_changes.py's fixture); real PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from openpyxl import load_workbook

from api import exports
from db import forum_state
from db.changes import apply_recorded, published_grid, recorded_changes
from db.forum_state import ForumState
from db.problem import build_problem
from db.queries.changes import insert_change
from solver.changes import Change, Impact, MeetingCancelled, impacts
from solver.check import load_problem
from solver.model import attendees
from tests.test_api_changes import EXAMPLE, Forum, forum, imported

pytestmark = pytest.mark.anyio

__all__ = ["forum"]  # the fixture, imported for pytest


@pytest.fixture(autouse=True)
def empty() -> Iterator[None]:
    forum_state.forget_all()
    exports._workbooks.clear()
    yield
    forum_state.forget_all()


async def grid_of(client: httpx.AsyncClient, forum: Forum, version: int) -> dict[str, Any]:
    answer = await client.get(f"{forum.base}/schedules/{version}", headers=forum.organiser)
    assert answer.status_code == 200, answer.text
    return answer.json()


def candidates(grid: dict[str, Any]) -> list[dict[str, str]]:
    """Moves of the grid's meetings: onto another meeting's start and room (a clash), and one
    and four slots later in their own room, forum-local."""
    placed = grid["placements"]
    found = []
    for index, placement in enumerate(placed[:30]):
        other = placed[(index * 7 + 3) % len(placed)]
        start = datetime.fromisoformat(placement["start"]).replace(tzinfo=None)
        found.append({"meeting": placement["meeting"], "start": other["start"][:19], "room": other["room"]})
        for later in (10, 40):
            moved = (start + timedelta(minutes=later)).isoformat()
            found.append({"meeting": placement["meeting"], "start": moved, "room": placement["room"]})
    return found


async def check(client: httpx.AsyncClient, forum: Forum, version: int, move: dict[str, str]) -> dict[str, Any]:
    answer = await client.post(f"{forum.base}/schedules/{version}/moves/check", json=move, headers=forum.organiser)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def checks(
    client: httpx.AsyncClient, forum: Forum, version: int, moves: list[dict[str, str]]
) -> list[dict[str, Any]]:
    return [await check(client, forum, version, move) for move in moves]


async def version_id(pool: asyncpg.Pool, forum: Forum, number: int) -> int:
    async with pool.acquire() as connection:
        found = await connection.fetchval(
            "SELECT id FROM schedule_versions WHERE forum_id = $1 AND number = $2", UUID(forum.id), number
        )
    return int(found)


async def test_move_checks_and_moves_answer_as_without_the_kept_state(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    moves = candidates(await grid_of(client, forum, forum.published))
    first = await checks(client, forum, forum.published, moves)  # the first builds and keeps the state
    assert len(forum_state.kept()) == 1
    again = await checks(client, forum, forum.published, moves)
    forum_state.forget_all()
    fresh = await checks(client, forum, forum.published, moves)
    assert first == again == fresh
    assert {c["allowed"] for c in first} == {True, False}  # both kinds of answer are compared
    assert any(c["warnings"] for c in first)

    # A stored move keeps its new version's validation: checks on it answer from that.
    # One that changes the objective: checks on the new version must start from its own report.
    allowed = next(move for move, answer in zip(moves, first, strict=True) if answer["allowed"] and answer["warnings"])
    stored = await client.post(f"{forum.base}/schedules/{forum.published}/moves", json=allowed, headers=forum.organiser)
    assert stored.status_code == 201, stored.text
    number = stored.json()["version"]
    [state] = forum_state.kept()
    assert state.knows("version", await version_id(pool, forum, forum.published))
    assert state.knows("version", await version_id(pool, forum, number))  # kept as it was stored
    later = candidates(await grid_of(client, forum, number))
    kept = await checks(client, forum, number, later)
    forum_state.forget_all()
    assert kept == await checks(client, forum, number, later)
    assert kept != first


def change_bodies() -> list[dict[str, Any]]:
    """Three changes that each break meetings of the greedy grid."""
    return [
        {"kind": "arrival_changed", "participant": "US/us-min", "arrival": "2024-06-01T12:00:00"},
        {
            "kind": "room_unavailable",
            "room": "sl-2",
            "window": {"start": "2024-06-01T07:30", "end": "2024-06-01T12:00"},
        },
        {
            "kind": "participant_blocked",
            "participant": "CN/cn-min",
            "window": {"start": "2024-05-31T13:00:00", "end": "2024-05-31T19:00:00"},
        },
    ]


async def test_recorded_changes_answer_as_computed_from_scratch(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    """The first change builds the state; each later one starts from the state the one before kept."""
    moves = candidates(await grid_of(client, forum, forum.published))
    await checks(client, forum, forum.published, moves[:2])  # the state is kept before the first change
    for number, body in enumerate(change_bodies(), start=1):
        answer = await client.post(f"{forum.base}/changes", json=body, headers=forum.organiser)
        assert answer.status_code == 201, answer.text
        record = answer.json()
        async with pool.acquire() as connection:
            stored = await build_problem(connection, UUID(forum.id), datetime.now(UTC))
            changes = await recorded_changes(connection, UUID(forum.id))
            published = await published_grid(connection, UUID(forum.id))
        assert stored is not None and published is not None and len(changes) == number
        _, [impact] = impacts(apply_recorded(stored, changes[:-1]), published.schedule, changes[-1:])
        assert record["breaks"] and record["breaks"] == impact.breaks, number
        assert (record["summary"], record["removes"], record["adds"]) == (impact.summary, impact.removes, impact.adds)
    assert len(forum_state.kept()) == 4  # the state before the changes, and after each
    kept = await checks(client, forum, forum.published, moves)
    forum_state.forget_all()
    assert kept == await checks(client, forum, forum.published, moves)


async def room_unavailable(client: httpx.AsyncClient, forum: Forum, room_id: str, start: str, end: str) -> None:
    """The room made unavailable from `start` to `end` by editing it (a setup edit, not a change)."""
    url = f"{forum.base}/rooms/{room_id}"
    read = await client.get(url, headers=forum.organiser)
    body = {**read.json(), "unavailable": [{"start": start, "end": end}]}
    edited = await client.put(url, json=body, headers={**forum.organiser, "If-Match": read.headers["etag"]})
    assert edited.status_code == 200, edited.text


async def allowed_move(client: httpx.AsyncClient, forum: Forum) -> tuple[dict[str, str], dict[str, Any]]:
    moves = candidates(await grid_of(client, forum, forum.published))
    for move in moves:
        answer = await check(client, forum, forum.published, move)
        if answer["allowed"]:
            return move, answer
    raise AssertionError("no allowed move")


async def test_an_edit_or_a_change_between_two_checks_changes_the_answer(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    """Both made as another API process would make them: this one learns of them from the database."""
    move, answer = await allowed_move(client, forum)
    assert await check(client, forum, forum.published, move) == answer  # kept
    end = answer["after"]["end"][:19]
    await room_unavailable(client, forum, move["room"], move["start"], end)
    edited = await check(client, forum, forum.published, move)
    assert not edited["allowed"] and {v["rule"] for v in edited["blocking"]} == {"room_unavailable"}

    grid = await grid_of(client, forum, forum.published)
    attendee = next(p for p in grid["placements"] if p["meeting"] == move["meeting"])["attendees"][0]
    window = {"start": move["start"], "end": end}
    body = {"kind": "participant_blocked", "participant": attendee, "window": window}
    change = msgspec.convert(body, Change, strict=False)
    async with pool.acquire() as connection:
        await insert_change(connection, UUID(forum.id), change, Impact(0, "elsewhere"), forum.published, "other")
    changed = await check(client, forum, forum.published, move)
    assert {v["rule"] for v in changed["blocking"]} == {"room_unavailable", "availability"}


async def test_a_problem_edited_while_it_is_read_is_not_kept(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit committed between the key and the data would file newer data under an older key."""
    built = forum_state.build_problem

    async def edited_meanwhile(connection: asyncpg.Connection, forum_id: Any, now: datetime) -> Any:
        problem = await built(connection, forum_id, now)
        await room_unavailable(client, forum, "sl-3", "2024-06-01T08:00:00", "2024-06-01T09:00:00")
        return problem

    monkeypatch.setattr(forum_state, "build_problem", edited_meanwhile)
    async with pool.acquire() as connection:
        state = await forum_state.forum_state(connection, UUID(forum.id))
    assert state is not None and not state.kept and forum_state.kept() == []
    monkeypatch.setattr(forum_state, "build_problem", built)
    async with pool.acquire() as connection:
        now = await forum_state.forum_state(connection, UUID(forum.id))
    assert now is not None and now.kept and now.revision == state.revision + 1
    sl3 = next(room for room in now.changed.rooms if room.id == "sl-3")
    assert sl3.unavailable


AUDIT_ROOM_EDIT = (
    # What a room's edit writes besides the room: the audit row, which counts the revision.
    "INSERT INTO audit_log (forum_id, actor, action, entity, entity_id) VALUES ($1, 'test', 'update', 'room', 'sl-1')"
)


@pytest.mark.parametrize("where", ["transaction", "savepoint"])
async def test_a_read_of_its_own_uncommitted_edit_is_not_kept(pool: asyncpg.Pool, forum: Forum, where: str) -> None:
    """Rolled back, its revision number would be another edit's."""
    async with pool.acquire() as connection:
        before = await forum_state.forum_state(connection, UUID(forum.id))
        assert before is not None and before.kept
        forum_state.forget_all()
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", UUID(forum.id))
            if where == "savepoint":
                async with connection.transaction():
                    await connection.execute(AUDIT_ROOM_EDIT, UUID(forum.id))
            else:
                await connection.execute(AUDIT_ROOM_EDIT, UUID(forum.id))
            inside = await forum_state.forum_state(connection, UUID(forum.id))
        finally:
            await transaction.rollback()
    assert inside is not None and inside.revision == before.revision  # counted at commit (migration 0014)
    assert not inside.kept and forum_state.kept() == []


async def test_a_transaction_that_wrote_no_revision_keeps_what_it_reads(pool: asyncpg.Pool, forum: Forum) -> None:
    """As a recorded change reads the forum: with an id (its row lock gave it one; that lock
    would hold the other's edit back here), after another transaction's edit has committed."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_current_xact_id()")
        async with pool.acquire() as other:
            await other.execute(AUDIT_ROOM_EDIT, UUID(forum.id))
        state = await forum_state.forum_state(connection, UUID(forum.id))
    assert state is not None and state.kept and forum_state.kept() == [state]


async def test_kept_states_and_their_validations_are_bounded(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    forums = [(await imported(client))[0] for _ in range(forum_state.MAX_FORUMS + 1)]
    async with pool.acquire() as connection:
        for forum_id in forums:
            assert await forum_state.forum_state(connection, UUID(forum_id)) is not None
    kept = forum_state.kept()
    assert [state.key[0] for state in kept] == forums[1:]
    state = kept[0]
    for version_id in range(forum_state.MAX_DERIVED + 2):
        assert state.derived("version", version_id, lambda: version_id) == version_id  # noqa: B023
    assert [state.knows("version", v) for v in range(forum_state.MAX_DERIVED + 2)] == [False] * 2 + [True] * 8


def test_a_state_after_a_change_is_kept_only_after_a_kept_one() -> None:
    problem = load_problem(EXAMPLE.read_bytes())
    loose = ForumState(("f", 1, b"[]"), problem, [], problem)
    forum_state.after_change(loose, MeetingCancelled("US-SG"), problem)
    assert forum_state.kept() == []


def cells(content: bytes) -> dict[str, Any]:
    """What a workbook shows: each sheet's cells, merged ranges, frozen panes and column widths."""
    book = load_workbook(io.BytesIO(content))
    return {
        sheet.title: (
            [[cell.value for cell in row] for row in sheet.iter_rows()],
            sorted(str(merged) for merged in sheet.merged_cells.ranges),
            sheet.freeze_panes,
            {key: dimension.width for key, dimension in sheet.column_dimensions.items()},
        )
        for sheet in book.worksheets
    }


async def test_a_workbook_is_answered_again_only_for_the_same_grid(client: httpx.AsyncClient, forum: Forum) -> None:
    url = f"{forum.base}/schedules/{forum.published}/grid.xlsx"

    async def workbook() -> bytes:
        answer = await client.get(url, headers=forum.organiser)
        assert answer.status_code == 200, answer.text
        return answer.content

    first = await workbook()
    assert await workbook() == first  # the same file again
    exports._workbooks.clear()
    made = cells(await workbook())
    assert cells(first) == made
    day = next(iter(made))

    read = await client.get(f"{forum.base}/rooms/sl-1", headers=forum.organiser)
    body = {**read.json(), "name": "Renamed room"}
    edited = await client.put(
        f"{forum.base}/rooms/sl-1", json=body, headers={**forum.organiser, "If-Match": read.headers["etag"]}
    )
    assert edited.status_code == 200, edited.text
    renamed = cells(await workbook())
    assert renamed != made and "Renamed room" in renamed[day][0][0]
    assert len(exports._workbooks) <= exports.MAX_WORKBOOKS


async def test_the_stored_problem_names_each_meetings_attendees_as_the_example(
    pool: asyncpg.Pool, forum: Forum
) -> None:
    """Its listed participants, or its delegations' principals (gathered once per forum)."""
    example = load_problem(EXAMPLE.read_bytes())
    owner = {person.id: delegation.id for delegation in example.delegations for person in delegation.participants}
    async with pool.acquire() as connection:
        stored = await build_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert stored is not None and len(stored.meetings) == len(example.meetings)
    expected = {m.id: {f"{owner[p]}/{p}" for p in attendees(example, m)} for m in example.meetings}
    assert {m.id: set(m.participants) for m in stored.meetings} == expected
    assert any(m.participants for m in example.meetings) and any(not m.participants for m in example.meetings)


async def test_a_move_of_an_unknown_meeting_names_the_field_and_validates_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    body = {"meeting": "nope", "start": "2024-06-01T09:00:00", "room": "sl-1"}
    for path in ("moves/check", "moves"):
        answer = await client.post(
            f"{forum.base}/schedules/{forum.published}/{path}", json=body, headers=forum.organiser
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"] == [{"field": "meeting", "message": "no meeting nope to schedule in this forum"}]
    [state] = forum_state.kept()
    assert not state.knows("version", await version_id(pool, forum, forum.published))

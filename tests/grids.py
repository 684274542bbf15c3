"""Stored grids for publication tests: meetings agreed over HTTP, versions stored directly.

A version here is stored the way a manual edit stores one (the query layer, under
the database's own double-booking constraints), so a test can say exactly which
meeting moves between two versions; solving is tested elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec

from db.queries.schedules import StoredPlacement, insert_placements, insert_version
from tests.conftest import World
from tests.test_api_runs import arrange

ZONE = ZoneInfo("Asia/Singapore")


class Slot(msgspec.Struct, frozen=True):
    """Where a meeting sits in one version: its room and start (forum-local, first day)."""

    room: str
    start: str  # "HH:MM"
    minutes: int = 30


def local(hhmm: str, day: int = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2023, 6, 2 + day, hour, minute, tzinfo=ZONE)


async def add_venue_room(client: httpx.AsyncClient, world: World) -> None:
    """Room R2 in venue V1 ("Shangri-La Hotel"), beside the world's R1 (no venue)."""
    venue = await client.post(
        f"{world.base}/venues", json={"id": "V1", "name": "Shangri-La Hotel"}, headers=world.organiser
    )
    assert venue.status_code == 201, venue.text
    body = {"id": "R2", "name": "Island Ballroom", "seats": 8, "venue": "V1"}
    room = await client.post(f"{world.base}/rooms", json=body, headers=world.organiser)
    assert room.status_code == 201, room.text


async def agree(client: httpx.AsyncClient, world: World, *pairs: tuple[str, str]) -> list[str]:
    """One organiser-arranged meeting per pair, attended by each side's principal ("min")."""
    return [await arrange(client, world, list(pair)) for pair in pairs]


async def store_grid(
    pool: asyncpg.Pool,
    world: World,
    parties: Mapping[str, tuple[str, ...]],  # read only: a dict of pairs or of trios
    grid: Mapping[str, Slot],
    attendees: Mapping[str, list[tuple[str, str]]] | None = None,
) -> int:
    """A new version holding `grid` (meeting -> slot); returns its number. Each
    meeting is attended by its parties' ministers unless `attendees` says otherwise."""
    chosen = attendees or {}
    placements = [
        StoredPlacement(
            meeting,
            slot.room,
            local(slot.start),
            local(slot.start) + timedelta(minutes=slot.minutes),
            chosen.get(meeting, [(delegation, "min") for delegation in parties[meeting]]),
        )
        for meeting, slot in grid.items()
    ]
    forum = UUID(world.forum_id)
    async with pool.acquire() as connection, connection.transaction():
        version_id = await insert_version(connection, forum, {"status": "FEASIBLE", "placed": [], "unplaced": []})
        await insert_placements(connection, forum, version_id, placements)
        number = await connection.fetchval("SELECT number FROM schedule_versions WHERE id = $1", version_id)
    return int(number)


async def publish(client: httpx.AsyncClient, world: World, number: int) -> None:
    answer = await client.post(f"{world.base}/schedules/{number}/publish", headers=world.organiser)
    assert answer.status_code == 200, answer.text

"""A stored version's run (schedule_versions.run_id) is as immutable as its grid
(migration 0004): only the deletion of the run itself may clear it."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest

from db.queries import runs
from tests.conftest import World

pytestmark = pytest.mark.anyio


async def _solved_run(connection: asyncpg.Connection, forum_id: UUID) -> tuple[int, int]:
    """A run taken by a worker and stored as a version (an empty grid is enough here): (run id, version id)."""
    run = await runs.insert_run(connection, forum_id, runs.RunOptions())
    # taken as claim_next would, but this very run: other tests' runs may wait in the shared queue
    await connection.execute("UPDATE solve_runs SET status = 'running', lease_owner = 'test' WHERE id = $1", run.id)
    stored = await runs.store_result(connection, run.id, {"status": "FEASIBLE", "placed": []}, [])
    assert stored is not None and stored.status == "succeeded"
    return run.id, stored.version_id


async def test_run_id_of_a_version_cannot_be_changed_or_cleared(world: World, pool: asyncpg.Pool) -> None:
    forum_id = UUID(world.forum_id)
    async with pool.acquire() as connection:
        run_id, version_id = await _solved_run(connection, forum_id)
        other = await runs.insert_run(connection, forum_id, runs.RunOptions())
        for new_run in (other.id, None):
            with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
                await connection.execute("UPDATE schedule_versions SET run_id = $2 WHERE id = $1", version_id, new_run)
        assert await connection.fetchval("SELECT run_id FROM schedule_versions WHERE id = $1", version_id) == run_id
        await runs.request_cancel(connection, forum_id, other.number)  # leave no queued run to later tests' workers
        # publishing is still the one change allowed
        published = await connection.execute("UPDATE schedule_versions SET published = true WHERE id = $1", version_id)
        assert published == "UPDATE 1"


async def test_deleting_the_run_or_the_forum_still_works(world: World, pool: asyncpg.Pool) -> None:
    forum_id = UUID(world.forum_id)
    async with pool.acquire() as connection:
        first_run, first_version = await _solved_run(connection, forum_id)
        await _solved_run(connection, forum_id)
        # ON DELETE SET NULL is the one way run_id changes: the run no longer exists
        await connection.execute("DELETE FROM solve_runs WHERE id = $1", first_run)
        assert await connection.fetchval("SELECT run_id FROM schedule_versions WHERE id = $1", first_version) is None
        await connection.execute("DELETE FROM forums WHERE id = $1", forum_id)  # cascades through runs and versions
        assert await connection.fetchval("SELECT count(*) FROM schedule_versions WHERE forum_id = $1", forum_id) == 0

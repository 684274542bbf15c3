"""Solve runs, their progress rows and the schedule versions they produce.

The lease columns belong to the worker (api/worker.py): `claim_next` takes a
queued run, or a running one whose lease lapsed (its worker died), with
FOR UPDATE SKIP LOCKED so that two workers never take the same run at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from db.queries.revisions import OutOfDate, out_of_date
from db.queries.schedules import StoredPlacement, insert_placements

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class ResolveSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A re-solve (solver/resolve.py): from the published version and the recorded changes."""

    free: Annotated[
        list[str], msgspec.Meta(description="meeting ids the organiser lets move besides those the changes break")
    ] = []
    reoptimise: Annotated[
        bool, msgspec.Meta(description="free every meeting, the stability term pricing each move")
    ] = False


class RunOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    resolve: ResolveSettings | None = None  # None: a solve from scratch


class RunProgress(msgspec.Struct, frozen=True):
    elapsed: float
    objective: int | None
    best_bound: int | None
    gap: float | None
    solutions: int


class RunRecord(msgspec.Struct, frozen=True):
    id: int  # internal, server-wide: the workers' handle
    number: int  # 1, 2, 3 ... in its forum: what the API shows as the run's id (migration 0012)
    forum_id: UUID
    status: RunStatus
    options: RunOptions
    cancel_requested: bool
    attempts: int
    progress: RunProgress | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    version_id: int | None
    version: int | None  # the version's number in its forum
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    heartbeat_at: datetime | None = None
    # A re-solve's moves against the published version (solver.resolve.Moved, with their causes).
    moves: list[dict[str, Any]] | None = None


_SELECT = "SELECT r.*, v.number AS version FROM solve_runs r LEFT JOIN schedule_versions v ON v.id = r.version_id"


def _run(row: asyncpg.Record) -> RunRecord:
    return msgspec.convert(dict(row), RunRecord, strict=False)


async def insert_run(connection: asyncpg.Connection, forum_id: Any, options: RunOptions) -> RunRecord:
    """A queued run, numbered after its forum's last while the forum's row is locked (no two collide)."""
    await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", forum_id)
    number = await connection.fetchval(
        "INSERT INTO solve_runs (forum_id, number, options)"
        " SELECT $1, coalesce(max(number), 0) + 1, $2 FROM solve_runs WHERE forum_id = $1 RETURNING number",
        forum_id,
        options,
    )
    found = await get_run(connection, forum_id, number)
    assert found is not None
    return found


async def get_run(
    connection: asyncpg.Connection, forum_id: Any, number: int, *, lock: bool = False
) -> RunRecord | None:
    """The forum's run `number`; `lock`: its row locked to the end of the transaction (no worker ends it meanwhile)."""
    locking = " FOR UPDATE OF r" if lock else ""
    row = await connection.fetchrow(f"{_SELECT} WHERE r.forum_id = $1 AND r.number = $2{locking}", forum_id, number)
    return None if row is None else _run(row)


async def list_runs(connection: asyncpg.Connection, forum_id: Any, after: int, limit: int) -> list[RunRecord]:
    """The forum's runs numbered above `after`, in order, at most `limit`; without their moves
    (a re-solve's can be long: GET .../runs/{n} has them). The (forum_id, number) unique
    index (migration 0012) serves the order."""
    rows = await connection.fetch(
        "SELECT r.id, r.number, r.forum_id, r.status, r.options, r.cancel_requested, r.attempts, r.progress,"
        " r.error, r.created_at, r.started_at, r.finished_at, r.version_id, v.number AS version"
        " FROM solve_runs r LEFT JOIN schedule_versions v ON v.id = r.version_id"
        " WHERE r.forum_id = $1 AND r.number > $2::bigint ORDER BY r.number LIMIT $3",
        forum_id,
        after,
        limit,
    )
    return [_run(row) for row in rows]


# A run nobody works on: queued, or running under a lease that lapsed (its worker died).
_UNWORKED = "(status = 'queued' OR lease_expires_at < now())"


async def request_cancel(connection: asyncpg.Connection, forum_id: Any, number: int) -> RunRecord | None:
    """A run nobody works on ends at once; a running one is stopped by its worker at the next
    heartbeat (or by `end_abandoned_cancels`, should that worker die first)."""
    await connection.execute(
        "UPDATE solve_runs SET cancel_requested = true,"
        f" status = CASE WHEN {_UNWORKED} THEN 'cancelled' ELSE status END,"
        f" finished_at = CASE WHEN {_UNWORKED} THEN now() ELSE finished_at END,"
        f" lease_expires_at = CASE WHEN {_UNWORKED} THEN NULL ELSE lease_expires_at END"
        " WHERE forum_id = $1 AND number = $2 AND status IN ('queued', 'running')",
        forum_id,
        number,
    )
    return await get_run(connection, forum_id, number)


CLOSED_REASON = "the forum was closed: its queued and running runs were cancelled"


async def cancel_for_closing(connection: asyncpg.Connection, forum_id: Any) -> list[tuple[RunRecord, RunRecord]]:
    """Closing the forum cancels its queued and running runs, each as `request_cancel` does
    (one nobody works on ends at once; a running one is stopped by its worker), with
    CLOSED_REASON as its `error`; each (before, after). The caller holds the forum's row
    lock (FOR UPDATE), as `store_result` takes it before the run's: a worker storing a grid
    either stored it before the close, or finds the forum closed and stores none."""
    rows = await connection.fetch(
        f"{_SELECT} WHERE r.forum_id = $1 AND r.status IN ('queued', 'running') ORDER BY r.number FOR UPDATE OF r",
        forum_id,
    )
    before = [_run(row) for row in rows]
    numbers = [run.number for run in before]
    await connection.execute(
        "UPDATE solve_runs SET cancel_requested = true, error = $3,"
        f" status = CASE WHEN {_UNWORKED} THEN 'cancelled' ELSE status END,"
        f" finished_at = CASE WHEN {_UNWORKED} THEN now() ELSE finished_at END,"
        f" lease_expires_at = CASE WHEN {_UNWORKED} THEN NULL ELSE lease_expires_at END"
        " WHERE forum_id = $1 AND number = ANY($2::int[])",
        forum_id,
        numbers,
        CLOSED_REASON,
    )
    after = [_run(row) for row in await connection.fetch(
        f"{_SELECT} WHERE r.forum_id = $1 AND r.number = ANY($2::int[]) ORDER BY r.number", forum_id, numbers
    )]  # fmt: skip
    return list(zip(before, after, strict=True))


async def progress_after(connection: asyncpg.Connection, run_id: int, after: int) -> list[tuple[int, RunProgress]]:
    """The run's progress reports after its first `after`, each with its position (1, 2, 3 ...):
    the event stream's ids. The table's ids are server-wide, and would count other runs' reports.
    Positions hold: a run's reports are only appended, by the one worker holding its lease."""
    rows = await connection.fetch(
        "SELECT position, progress FROM (SELECT row_number() OVER (ORDER BY id) AS position, progress"
        "  FROM solve_run_progress WHERE run_id = $1) AS reports WHERE position > $2 ORDER BY position",
        run_id,
        after,
    )
    return [(row["position"], msgspec.convert(row["progress"], RunProgress)) for row in rows]


# ---- the worker's side


async def end_abandoned_cancels(connection: asyncpg.Connection) -> None:
    """End as cancelled the runs whose cancel was asked and whose worker then died: `claim_next`
    takes no run whose cancel was asked, so nothing else would ever end them."""
    await connection.execute(
        "UPDATE solve_runs SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL"
        " WHERE status = 'running' AND cancel_requested AND lease_expires_at < now()"
    )


async def claim_next(connection: asyncpg.Connection, owner: str, lease_seconds: float) -> RunRecord | None:
    """The next run to solve, leased to `owner`; never one of a closed forum. Closing cancels the
    forum's runs under their row locks (`cancel_for_closing`): a claim either took the run first
    (and its worker is then told to stop), or skips it while the close holds it, or finds it
    cancelled (FOR UPDATE reads the committed row again). The test of the forum itself keeps
    unclaimed whatever run a closed forum may still have (migration 0019 ended those of forums
    closed before closing cancelled runs)."""
    row = await connection.fetchrow(
        "WITH next AS ("
        "  SELECT id FROM solve_runs"
        "  WHERE (status = 'queued' OR (status = 'running' AND lease_expires_at < now())) AND NOT cancel_requested"
        "  AND NOT EXISTS (SELECT 1 FROM forums f WHERE f.id = solve_runs.forum_id AND f.closed_at IS NOT NULL)"
        "  ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " UPDATE solve_runs r SET status = 'running', lease_owner = $1,"
        "  lease_expires_at = now() + make_interval(secs => $2), heartbeat_at = now(),"
        "  started_at = coalesce(started_at, now()), attempts = attempts + 1"
        " FROM next WHERE r.id = next.id RETURNING r.number, r.forum_id",
        owner,
        lease_seconds,
    )
    return None if row is None else await get_run(connection, row["forum_id"], row["number"])


async def renew_lease(
    connection: asyncpg.Connection, run_id: int, owner: str, lease_seconds: float, progress: Sequence[RunProgress]
) -> bool | None:
    """Heartbeat: extend the lease and store new progress. Returns whether a cancel was
    asked, or None when the lease was lost (another worker has the run, or it ended)."""
    async with connection.transaction():
        latest = progress[-1] if progress else None
        cancel = await connection.fetchval(
            "UPDATE solve_runs SET lease_expires_at = now() + make_interval(secs => $3), heartbeat_at = now(),"
            " progress = coalesce($4, progress)"
            " WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING cancel_requested",
            run_id,
            owner,
            lease_seconds,
            latest,
        )
        if cancel is not None and progress:
            await connection.executemany(
                "INSERT INTO solve_run_progress (run_id, progress) VALUES ($1, $2)", [(run_id, p) for p in progress]
            )
        return cancel


async def finish_run(
    connection: asyncpg.Connection, run_id: int, owner: str, status: RunStatus, error: str | None = None
) -> bool:
    """Mark a run failed or cancelled, if this worker still holds it; without `error` it keeps the
    reason it has (a run cancelled by closing its forum says so)."""
    done = await connection.fetchval(
        "UPDATE solve_runs SET status = $3, error = coalesce($4, error), finished_at = now(), lease_expires_at = NULL"
        " WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id",
        run_id,
        owner,
        status,
        error,
    )
    return done is not None


async def release_run(connection: asyncpg.Connection, run_id: int, owner: str) -> bool:
    """Give a running run back to the queue (its worker is shutting down), first in line as
    before; one whose cancel was asked ends cancelled instead, since no worker would take it.
    False when this worker no longer holds it."""
    released = await connection.fetchval(
        "UPDATE solve_runs SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,"
        " finished_at = CASE WHEN cancel_requested THEN now() END,"
        " lease_owner = NULL, lease_expires_at = NULL"
        " WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id",
        run_id,
        owner,
    )
    return released is not None


async def store_result(
    connection: asyncpg.Connection,
    run_id: int,
    schedule: object,
    placements: Sequence[StoredPlacement],
    moves: object = None,
    derived_from: int | None = None,
    changes_seen: int | None = None,
    forum_revision: int = 0,
) -> Stored | None:
    """The run's version with its placements, and the run ended, in one transaction: succeeded,
    or cancelled when its cancel was asked (the grid is the best the search had when it was
    stopped, or its answer if that came after the last heartbeat; `Stored.status` says which).
    A re-solve's version names the published version it started from (`derived_from`, a number).
    Raises ChangedMeanwhile when the forum has recorded changes past the `changes_seen`
    first that the run loaded (its grid does not take them into account); nothing is stored.
    Setup edits made meanwhile are no reason to fail: the version records the forum revision
    it loaded (`forum_revision`), and shows as out of date (db/queries/revisions.py).

    Whichever attempt finishes first stores; a later one (a worker whose lease lapsed
    while it kept solving) finds the version and stores nothing. The forum's row is locked
    first, then the run's (the order closing takes them in: `cancel_for_closing`); a forum
    closed meanwhile takes no version (ForumClosed, nothing stored). The run's row lock, as
    the cancel endpoint takes it: a cancel either comes before (the run ends cancelled with
    this version) or finds the run ended (and is refused).
    Returns the version and how the run ended, or None when the run already has a version
    or no longer runs.
    """
    async with connection.transaction():
        # The forum row lock serialises version numbering with concurrent runs of the same
        # forum, and the version with closing (which holds it while it cancels the runs).
        forum = await connection.fetchrow(
            "SELECT id, closed_at IS NOT NULL AS closed FROM forums"
            " WHERE id = (SELECT forum_id FROM solve_runs WHERE id = $1) FOR UPDATE",
            run_id,
        )
        if forum is None:
            return None
        forum_id, closed = forum["id"], forum["closed"]
        row = await connection.fetchrow(
            "SELECT status, version_id, cancel_requested FROM solve_runs WHERE id = $1 FOR UPDATE", run_id
        )
        if row is None or row["version_id"] is not None or row["status"] != "running":
            return None
        if closed:
            raise ForumClosed(CLOSED_REASON)
        status: RunStatus = "cancelled" if row["cancel_requested"] else "succeeded"
        if changes_seen is not None:
            await _refuse_if_changed(connection, forum_id, changes_seen)
        version_id = await connection.fetchval(
            "INSERT INTO schedule_versions (forum_id, number, schedule, run_id, derived_from_id, forum_revision)"
            " SELECT $1, coalesce(max(number), 0) + 1, $2, $3,"
            "  (SELECT id FROM schedule_versions WHERE forum_id = $1 AND number = $4), $5"
            " FROM schedule_versions WHERE forum_id = $1 RETURNING id",
            forum_id,
            msgspec.to_builtins(schedule),
            run_id,
            derived_from,
            forum_revision,
        )
        await insert_placements(connection, forum_id, version_id, placements)
        await connection.execute(
            "UPDATE solve_runs SET status = $4, version_id = $2, finished_at = now(), lease_expires_at = NULL,"
            " moves = $3 WHERE id = $1",
            run_id,
            version_id,
            None if moves is None else msgspec.to_builtins(moves),
            status,
        )
        return Stored(int(version_id), status)


class Stored(msgspec.Struct, frozen=True):
    """A run's stored version (its internal id) and how the run ended."""

    version_id: int
    status: RunStatus


class ForumClosed(Exception):
    """The forum was closed while the run solved: a closed forum takes no version."""


class ChangedMeanwhile(Exception):
    """Changes were recorded while the run solved: its grid would ignore them."""


async def _refuse_if_changed(connection: asyncpg.Connection, forum_id: Any, changes_seen: int) -> None:
    """Raise ChangedMeanwhile naming the changes recorded past the first `changes_seen`.
    Recording a change takes the forum's row lock first, as the caller holds it now."""
    later = await connection.fetch(
        "SELECT number, summary FROM forum_changes WHERE forum_id = $1 AND number > $2 ORDER BY number",
        forum_id,
        changes_seen,
    )
    if later:
        named = "; ".join(f"change {row['number']} ({row['summary']})" for row in later)
        raise ChangedMeanwhile(
            f"the forum changed while the run solved: {named} came after it loaded the forum,"
            " so its grid does not take them into account; queue a new run"
        )


# ---- stored versions, as the schedules API shows them


class VersionSummary(msgspec.Struct, frozen=True):
    number: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    run_id: int | None  # the run's number in the forum
    derived_from: int | None  # the version this one was made from (a move, a fit option, a re-solve)
    status: str | None
    objective: int | None
    placed: int
    unplaced: int
    forum_revision: int  # the forum's setup edits it was built with (db/queries/revisions.py)
    out_of_date: OutOfDate | None = None  # the setup edits since, which it was built without


class GridPlacement(msgspec.Struct, frozen=True):
    meeting: str
    room: str
    start: datetime
    end: datetime
    attendees: list[str]  # "delegation/participant"


class VersionRow(msgspec.Struct, frozen=True):
    id: int
    number: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    run_id: int | None
    derived_from: int | None
    schedule: dict[str, Any]
    forum_revision: int = 0


# The parent version's and the run's numbers (both are numbered per forum; ids are internal).
_PARENT = "(SELECT parent.number FROM schedule_versions parent WHERE parent.id = v.derived_from_id)"
_RUN = "(SELECT r.number FROM solve_runs r WHERE r.id = v.run_id) AS run_id"


async def list_versions(
    connection: asyncpg.Connection, forum_id: Any, after: int = 0, limit: int | None = None
) -> list[VersionSummary]:
    """The versions numbered above `after`, in order; all of them without `limit`."""
    rows = await connection.fetch(
        f"SELECT number, published, published_at, created_at, {_RUN}, schedule->>'status' AS status,"
        f" {_PARENT} AS derived_from, (schedule->>'objective')::int AS objective,"
        " coalesce(jsonb_array_length(schedule->'placed'), 0) AS placed,"
        " coalesce(jsonb_array_length(schedule->'unplaced'), 0) AS unplaced, forum_revision"
        " FROM schedule_versions v WHERE forum_id = $1 AND number > $2::bigint ORDER BY number LIMIT $3",
        forum_id,
        after,
        limit,
    )
    found = [msgspec.convert(dict(row), VersionSummary) for row in rows]
    stale = await out_of_date(connection, forum_id, [version.forum_revision for version in found])
    return [msgspec.structs.replace(v, out_of_date=stale.get(v.forum_revision)) for v in found]


async def get_version(
    connection: asyncpg.Connection, forum_id: Any, number: int | None, *, published_only: bool = False
) -> VersionRow | None:
    """Version `number`, or the published one when `number` is None."""
    condition = "number = $2" if number is not None else "published AND $2::int IS NULL"
    if published_only:
        condition += " AND published"
    row = await connection.fetchrow(
        f"SELECT id, number, published, published_at, created_at, {_RUN}, {_PARENT} AS derived_from, schedule,"
        " forum_revision"
        f" FROM schedule_versions v WHERE forum_id = $1 AND {condition}",
        forum_id,
        number,
    )
    return None if row is None else msgspec.convert(dict(row), VersionRow)


# Attendees by an ARRAY subquery on the attendance key (already in order), not a join grouped by
# (meeting, room, during): sorting the joined rows for that GROUP BY took 12 of 15 ms on the
# 1,100-meeting grid, the subqueries take 2 (bench/load.py, docs/benchmarks.md).
_PLACEMENTS = (
    'SELECT p.version_id, p.meeting_id, p.room_id, lower(p.during) AS start, upper(p.during) AS "end",'
    " ARRAY(SELECT a.delegation_id || '/' || a.participant_id FROM schedule_attendance a"
    "  WHERE a.version_id = p.version_id AND a.meeting_id = p.meeting_id"
    "  ORDER BY a.delegation_id, a.participant_id) AS attendees"
    " FROM schedule_placements p"
)
_ATTENDED_BY = (
    "($2::text IS NULL OR EXISTS (SELECT 1 FROM schedule_attendance mine"
    "  WHERE mine.version_id = p.version_id AND mine.meeting_id = p.meeting_id AND mine.delegation_id = $2))"
)
_IN_GRID_ORDER = "lower(p.during), p.room_id, p.meeting_id"


async def grid_placements(
    connection: asyncpg.Connection, version_id: int, delegation_id: str | None = None, *, zone: tzinfo | None = None
) -> list[GridPlacement]:
    """The version's placements; with `delegation_id`, only the meetings that delegation attends.
    Start and end are UTC instants, or in `zone` when given (one pass instead of a copy per placement)."""
    rows = await connection.fetch(
        f"{_PLACEMENTS} WHERE p.version_id = $1 AND {_ATTENDED_BY} ORDER BY {_IN_GRID_ORDER}",
        version_id,
        delegation_id,
    )
    if zone is None:
        return [GridPlacement(meeting, room, start, end, attendees) for _, meeting, room, start, end, attendees in rows]
    return [
        GridPlacement(meeting, room, start.astimezone(zone), end.astimezone(zone), attendees)
        for _, meeting, room, start, end, attendees in rows
    ]


async def grids_placements(
    connection: asyncpg.Connection, version_ids: Sequence[int], delegation_id: str
) -> dict[int, list[GridPlacement]]:
    """`grid_placements` of each of the versions for one delegation, in one statement: the
    calendar feed needs every published version's grid, and a query per version was N+1."""
    rows = await connection.fetch(
        f"{_PLACEMENTS} WHERE p.version_id = ANY($1::bigint[]) AND {_ATTENDED_BY}"
        f" ORDER BY p.version_id, {_IN_GRID_ORDER}",
        list(version_ids),
        delegation_id,
    )
    grids: dict[int, list[GridPlacement]] = {version_id: [] for version_id in version_ids}
    for version_id, meeting, room, start, end, attendees in rows:
        grids[version_id].append(GridPlacement(meeting, room, start, end, attendees))
    return grids


async def publish_version(connection: asyncpg.Connection, forum_id: Any, number: int) -> bool:
    """Publish `number` and withdraw any other published version; False when there is no such version."""
    await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", forum_id)  # one publisher at a time
    exists = await connection.fetchval(
        "SELECT 1 FROM schedule_versions WHERE forum_id = $1 AND number = $2", forum_id, number
    )
    if exists is None:
        return False
    await connection.execute(
        "UPDATE schedule_versions SET published = false, published_at = NULL"
        " WHERE forum_id = $1 AND published AND number <> $2",
        forum_id,
        number,
    )
    await connection.execute(
        "UPDATE schedule_versions SET published = true, published_at = coalesce(published_at, now())"
        " WHERE forum_id = $1 AND number = $2 AND NOT published",
        forum_id,
        number,
    )
    return True

"""Manual moves of one meeting in a stored schedule version (organiser).

`.../spots` lists where one meeting can go in the version's grid without breaking a hard
rule, cheapest first (solver/fit.py's direct placements: every spot its domain allows,
checked against the grid as it stands). `.../moves/check` answers at once what the move
would break and changes nothing.
`.../moves` stores the moved grid as a NEW version derived from that one (stored
versions are immutable; meetings the forum no longer has are left out of it, and
attendees are the forum's own now, as for a fit option), or refuses a move that breaks a hard rule with a 409
whose `errors` list each broken rule as `rule:<name>`. To a delegation every
version is hidden, so both answer it 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Body, QueryParameter

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep, load_forum, zone_of
from api.controllers.paths import ForumPath, VersionPath
from api.controllers.schedules import VERSION_PATH, organiser_only
from api.errors import Conflict, FieldError, invalid, missing
from api.http import Reply, json_response, run_change
from api.openapi import MORE_ERRORS
from api.worker import stored_placements
from db.forum_state import ForumState, forum_state
from db.queries import runs as queries
from db.queries.audit import record_change
from db.queries.revisions import derived_revision
from db.queries.schedules import insert_placements, insert_version
from db.records import to_forum_time
from solver.compile import Compiled, compile_problem
from solver.fit import fit
from solver.model import Problem
from solver.moves import MoveCheck, apply_move, checked_move
from solver.result import Schedule
from solver.validate import Report, validate

MOVES_PATH = f"{VERSION_PATH}/moves"
MOST_SPOTS = 200  # enough for a page's list; every spot of a UNGA meeting would be thousands


class FreeSpot(msgspec.Struct, frozen=True):
    """One place the meeting can take in the version's grid, breaking no hard rule."""

    start: Annotated[datetime, msgspec.Meta(description="where the meeting would start (the forum's zone)")]
    end: Annotated[datetime, msgspec.Meta(description="where it would end")]
    room: Annotated[str, msgspec.Meta(description="the room's id")]
    cost: Annotated[int, msgspec.Meta(description="what the placement adds to the objective (may be negative)")]
    costs: Annotated[
        dict[str, int],
        msgspec.Meta(description="breaks, preferences, displaced (a placed meeting's own move from where it is)"),
    ]


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    meeting: Annotated[str, msgspec.Meta(description="the meeting's id")]
    start: Annotated[
        datetime,
        msgspec.Meta(description="the new start (without a UTC offset: forum-local time)"),
    ]
    room: Annotated[str, msgspec.Meta(description="the new room's id")]


class MoveStored(msgspec.Struct):
    version: int  # the new version's number
    derived_from: int
    check: MoveCheck


class _Loaded(msgspec.Struct):
    state: ForumState
    zone: ZoneInfo
    row: queries.VersionRow
    schedule: Schedule

    @property
    def problem(self) -> Problem:
        """What every solve sees: the stored forum with its recorded changes (a lost room, a late arrival)."""
        return self.state.changed

    @property
    def revision(self) -> int:
        """The forum's, read before the problem: an edit committed between counts as unseen."""
        return self.state.revision

    def report(self) -> Report:
        """The version's grid validated against the forum as it is now, kept for the next call."""
        return self.state.derived(_VERSION, self.row.id, lambda: validate(self.problem, self.schedule))

    def compiled(self) -> Compiled:
        """The forum as it is now, compiled once for every version's spots (most of their time at
        UNGA's size); the state is the forum's at one revision, so an edit makes a new one."""
        return self.state.derived(_COMPILED, _ANY_VERSION, lambda: compile_problem(self.problem))


_VERSION = "version"  # a version's grid as `_current` reads its row
_COMPILED = "compiled"  # the problem compiled, the same for every version
_ANY_VERSION = 0  # no version row has id 0 (serial ids start at 1)


async def _load(connection: asyncpg.Connection, forum_id: Any, version: int) -> _Loaded:
    zone = zone_of((await load_forum(connection, forum_id)).item)
    row = await queries.get_version(connection, forum_id, version)
    if row is None:
        raise missing("path:version", f"no schedule version {version}")
    state = await forum_state(connection, forum_id)
    if state is None:
        raise missing("path:forum_id", f"no forum {forum_id}")
    return _Loaded(state, zone, row, _current(state.changed, msgspec.convert(row.schedule, Schedule)))


def _current(problem: Problem, schedule: Schedule) -> Schedule:
    """The version's grid without the meetings the forum no longer has (a request withdrawn
    or cancelled since), as a fit option leaves them out: a moved version that kept them
    would announce them again once published."""
    known = {meeting.id for meeting in problem.meetings}
    placed = [placement for placement in schedule.placed if placement.meeting in known]
    unplaced = [entry for entry in schedule.unplaced if entry.meeting in known]
    return msgspec.structs.replace(schedule, placed=placed, unplaced=unplaced)


def _checked(loaded: _Loaded, body: MoveIn) -> tuple[MoveCheck, Report]:
    """The move's check, and the moved grid's report."""
    if body.room not in {room.id for room in loaded.problem.rooms}:
        raise invalid("room", f"no room {body.room}")
    start = to_forum_time(body.start, loaded.zone)
    # Asked here (`check_move` raises UnknownMeeting), before the version's validation is made.
    if body.meeting not in {meeting.id for meeting in loaded.problem.meetings}:
        raise invalid("meeting", f"no meeting {body.meeting} to schedule in this forum")
    return checked_move(loaded.problem, loaded.schedule, body.meeting, start, body.room, loaded.report())


@get(
    f"{VERSION_PATH}/spots",
    tags=["schedules"],
    summary="Where one meeting can go in this version's grid without breaking a hard rule, cheapest first",
    opt={MORE_ERRORS: (422,)},
)
async def list_free_spots(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    version: VersionPath,
    meeting: Annotated[str, QueryParameter(name="meeting", description="the meeting (request id) to place")],
    k: Annotated[int, QueryParameter(name="k", ge=1, le=MOST_SPOTS, description="how many spots at most")] = 10,
) -> Response[list[FreeSpot]]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        loaded = await _load(connection, parsed, version)
    if meeting not in {known.id for known in loaded.problem.meetings}:
        raise invalid("query:meeting", f"no meeting {meeting} to schedule in this forum")
    # Direct placements only: a spot that moves another meeting is GET fit's, on the published grid.
    options = fit(loaded.problem, loaded.schedule, meeting, k, with_moves=False, compiled=loaded.compiled())
    zone = loaded.zone
    return json_response(
        [
            FreeSpot(o.start.astimezone(zone), o.end.astimezone(zone), o.room, o.cost, _without_moves(o.costs))
            for o in options
        ]
    )


def _without_moves(costs: dict[str, int]) -> dict[str, int]:
    """fit's costs less "moves": a spot moves no other meeting, so it is always 0 here."""
    return {term: cost for term, cost in costs.items() if term != "moves"}


@post(
    f"{MOVES_PATH}/check",
    tags=["schedules"],
    summary="What moving one meeting would break; changes nothing",
    status_code=200,
)
async def check_schedule_move(
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    version: VersionPath,
    data: Annotated[MoveIn, Body()],
) -> Response[MoveCheck]:
    parsed = organiser_only(caller, forum_id, version)
    async with pool.acquire() as connection:
        loaded = await _load(connection, parsed, version)
    return json_response(_checked(loaded, data)[0])


@post(MOVES_PATH, tags=["schedules"], summary="Store the moved grid as a new version, unless it breaks a rule")
async def move_meeting(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    version: VersionPath,
    data: Annotated[MoveIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[MoveStored]:
    parsed = organiser_only(caller, forum_id, version)

    async def work(connection: asyncpg.Connection) -> Reply[MoveStored]:
        loaded = await _load(connection, parsed, version)
        check, report = _checked(loaded, data)
        if not check.allowed:
            errors = [FieldError(f"rule:{violation.rule}", violation.message) for violation in check.blocking]
            raise Conflict("the move breaks " + ", ".join(sorted({v.rule for v in check.blocking})), errors)
        number = await _store(connection, parsed, loaded, check, report)
        stored = MoveStored(number, version, check)
        await record_change(connection, parsed, caller.actor, "move", "schedule", str(number), None, stored)
        return Reply(stored, 201, {"Location": f"/forums/{forum_id}/schedules/{number}"})

    return await run_change(pool, request, caller, idempotency_key, work)


async def _store(
    connection: asyncpg.Connection, forum_id: Any, loaded: _Loaded, check: MoveCheck, report: Report
) -> int:
    """Stores the moved grid; `report` is its validation as `check_move` made it."""
    moved = apply_move(loaded.problem, loaded.schedule, check.meeting, check.after.start, check.after.room)
    moved = msgspec.structs.replace(
        moved, status="FEASIBLE", objective=check.objective_after, terms=check.terms_after, gap=None
    )
    # The check validated the grid under the version's status; only `must_held` reads it, and
    # alike for every status but these two, under which it checks nothing.
    if loaded.schedule.status in _NOT_A_GRID:
        report = validate(loaded.problem, moved)
    # The forum row lock serialises version numbering with runs storing theirs.
    await connection.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", forum_id)
    revision = derived_revision(loaded.revision, loaded.row.forum_revision, report.ok)
    version_id = await insert_version(
        connection, forum_id, moved, derived_from=loaded.row.number, forum_revision=revision
    )
    # The next move or check starts from this version, read back from its row as `moved`.
    loaded.state.remember(_VERSION, version_id, report)
    # Attendees as the forum has them now (a change may have swapped one), as for a run or a fit.
    await insert_placements(connection, forum_id, version_id, stored_placements(loaded.problem, moved, loaded.zone))
    number = await connection.fetchval("SELECT number FROM schedule_versions WHERE id = $1", version_id)
    return int(number)


_NOT_A_GRID = ("INFEASIBLE", "UNKNOWN")

ROUTES = [list_free_spots, check_schedule_move, move_meeting]

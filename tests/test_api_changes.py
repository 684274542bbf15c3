"""Last-minute changes over HTTP: the Shangri-La example imported as a forum,
its greedy grid stored and published, then changes recorded, a meeting fitted
and the option applied as a new version. Real PostgreSQL, real solver."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec
import pytest

from api.worker import stored_placements
from db.changes import changed_problem, published_grid
from db.problem import build_problem
from db.queries.schedules import insert_placements, insert_version
from solver.changes import ArrivalChanged, apply_changes, broken_by
from solver.diff import diff_schedules
from solver.engine import SolveOptions, solve
from solver.model import Problem
from solver.result import Placement, Schedule
from solver.scenarios.late_changes import LATE_ARRIVAL, LOST_MORNING, urgent_request
from solver.validate import validate
from tests.conftest import ADMIN_TOKEN, bearer
from tests.test_api_runs import work_one

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shangri-la.json"
ZONE = ZoneInfo("Asia/Singapore")


class Forum(msgspec.Struct):
    id: str
    organiser: dict[str, str]
    delegation: dict[str, str]  # the US delegation's headers
    published: int  # the published version number

    @property
    def base(self) -> str:
        return f"/forums/{self.id}"


async def imported(client: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, str]]:
    answer = await client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["forum"]["id"], bearer(body["organiser_token"]), bearer(body["delegation_tokens"]["US"])


async def store_greedy(pool: asyncpg.Pool, forum_id: str) -> tuple[int, Problem, Schedule]:
    """The stored forum's greedy grid as a new version (as a run would store it)."""
    async with pool.acquire() as connection, connection.transaction():
        problem = await build_problem(connection, UUID(forum_id), datetime.now(UTC))
        assert problem is not None
        schedule = solve(problem, SolveOptions(method="greedy"))
        version_id = await insert_version(connection, UUID(forum_id), schedule)
        await insert_placements(connection, UUID(forum_id), version_id, stored_placements(problem, schedule, ZONE))
        number = await connection.fetchval("SELECT number FROM schedule_versions WHERE id = $1", version_id)
    return int(number), problem, schedule


@pytest.fixture
async def forum(client: httpx.AsyncClient, pool: asyncpg.Pool) -> Forum:
    forum_id, organiser, us = await imported(client)
    number, _, _ = await store_greedy(pool, forum_id)
    published = await client.post(f"/forums/{forum_id}/schedules/{number}/publish", headers=organiser)
    assert published.status_code == 200, published.text
    return Forum(forum_id, organiser, us, number)


def arrival_body() -> dict[str, Any]:
    return {"kind": "arrival_changed", "participant": "US/us-min", "arrival": LATE_ARRIVAL.isoformat()}


async def test_a_recorded_change_answers_what_it_breaks(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    answer = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert record["number"] == 1 and record["checked_version"] == forum.published
    async with pool.acquire() as connection:
        stored = await build_problem(connection, UUID(forum.id), datetime.now(UTC))
        grid = await published_grid(connection, UUID(forum.id))
        seen = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert stored is not None and grid is not None and seen is not None
    expected = broken_by(apply_changes(stored, [ArrivalChanged("US/us-min", LATE_ARRIVAL)]), grid.schedule.placed)
    assert expected and record["breaks"] == expected
    assert "arrives Friday 17:00" in record["summary"]
    # Every later solve sees the change; the stored forum data is untouched.
    us_min = next(p for d in seen.delegations for p in d.participants if p.id == "US/us-min")
    assert us_min.arrival is not None and us_min.arrival.replace(tzinfo=None) == LATE_ARRIVAL
    listed = await client.get(f"{forum.base}/changes", headers=forum.organiser)
    assert listed.status_code == 200 and [c["number"] for c in listed.json()] == [1]
    assert listed.json()[0]["change"]["kind"] == "arrival_changed"


async def test_a_second_change_is_checked_against_the_forum_after_the_first(
    client: httpx.AsyncClient, forum: Forum
) -> None:
    first = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert first.status_code == 201, first.text
    again = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert again.status_code == 201, again.text
    assert again.json()["number"] == 2
    assert first.json()["breaks"] and again.json()["breaks"] == []  # the first change already broke them


async def wait_for_lock_waiters(pool: asyncpg.Pool, count: int) -> None:
    """Until `count` other sessions wait for a lock (the requests have done their reads)."""
    for _ in range(200):
        async with pool.acquire() as connection:
            waiting = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the requests never waited for the forum lock")


async def test_two_organisers_recording_at_once_are_checked_one_after_the_other(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    async def record() -> dict[str, Any]:
        answer = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
        assert answer.status_code == 201, answer.text
        return answer.json()

    async with pool.acquire() as holder:
        locked = holder.transaction()
        await locked.start()
        await holder.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", UUID(forum.id))
        both = asyncio.gather(record(), record())
        await wait_for_lock_waiters(pool, 2)
        await locked.rollback()
        first, second = sorted(await both, key=lambda record: record["number"])
    assert first["breaks"] and second["breaks"] == []  # the second sees the first: nothing left to break


async def test_bad_changes_name_the_field_and_store_nothing(client: httpx.AsyncClient, forum: Forum) -> None:
    unknown = {"kind": "arrival_changed", "participant": "US/nobody", "arrival": None}
    answer = await client.post(f"{forum.base}/changes", json=unknown, headers=forum.organiser)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "participant"
    wrong_kind = await client.post(f"{forum.base}/changes", json={"kind": "meteor"}, headers=forum.organiser)
    assert wrong_kind.status_code == 400
    window = {"start": "2024-06-01T08:00:00", "end": "09:00"}
    room = {"kind": "room_unavailable", "room": "nowhere", "window": window}
    assert (await client.post(f"{forum.base}/changes", json=room, headers=forum.organiser)).status_code == 400
    window["end"] = "2024-06-01T09:00:00"
    refused = await client.post(f"{forum.base}/changes", json=room, headers=forum.organiser)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "room"
    listed = await client.get(f"{forum.base}/changes", headers=forum.organiser)
    assert listed.json() == []


async def test_a_participant_named_without_its_delegation_is_refused_with_the_full_id(
    client: httpx.AsyncClient, forum: Forum
) -> None:
    """A new organiser wrote the person's own id ("us-min", as the participants CSV's id column has
    it) and was told only "unknown participant 'us-min'"; a change names people as DELEGATION/id."""
    bare = {"kind": "arrival_changed", "participant": "us-min", "arrival": None}
    answer = await client.post(f"{forum.base}/changes", json=bare, headers=forum.organiser)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"field": "participant", "message": "unknown participant 'us-min'; did you mean 'US/us-min'?"}
    ]
    nobody = {
        "kind": "participant_blocked",
        "participant": "nobody",
        "window": {"start": "2024-06-01T08:00", "end": "2024-06-01T09:00"},
    }
    answer = await client.post(f"{forum.base}/changes", json=nobody, headers=forum.organiser)
    (error,) = answer.json()["errors"]
    assert error["field"] == "participant"
    assert re.fullmatch(
        r"unknown participant 'nobody' \(written DELEGATION/id, e\.g\. '[A-Z]+/[a-z-]+'\)", error["message"]
    )


async def test_a_window_ending_before_it_starts_is_refused_and_later_changes_still_apply(
    client: httpx.AsyncClient, forum: Forum
) -> None:
    backwards = {"start": "2024-06-01T10:00:00", "end": "2024-06-01T09:00:00"}
    for body in (
        {"kind": "room_unavailable", "room": "sl-5", "window": backwards},
        {"kind": "participant_blocked", "participant": "US/us-min", "window": backwards},
    ):
        refused = await client.post(f"{forum.base}/changes", json=body, headers=forum.organiser)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["window"]
    assert (await client.get(f"{forum.base}/changes", headers=forum.organiser)).json() == []
    later = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert later.status_code == 201, later.text


async def test_a_change_outside_the_forums_days_is_refused(client: httpx.AsyncClient, forum: Forum) -> None:
    last_year = {"start": "2023-06-01T08:00:00", "end": "2023-06-01T09:00:00"}  # a mistyped year
    for body, field in (
        ({"kind": "room_unavailable", "room": "sl-5", "window": last_year}, "window"),
        ({"kind": "participant_blocked", "participant": "US/us-min", "window": last_year}, "window"),
        ({"kind": "arrival_changed", "participant": "US/us-min", "arrival": "2025-05-31T17:00:00"}, "arrival"),
    ):
        refused = await client.post(f"{forum.base}/changes", json=body, headers=forum.organiser)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert (await client.get(f"{forum.base}/changes", headers=forum.organiser)).json() == []


async def test_delegations_may_neither_record_nor_read_changes_nor_fit(client: httpx.AsyncClient, forum: Forum) -> None:
    assert (
        await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.delegation)
    ).status_code == 403
    assert (await client.get(f"{forum.base}/changes", headers=forum.delegation)).status_code == 403
    assert (await client.get(f"{forum.base}/fit?meeting=US-CN", headers=forum.delegation)).status_code == 403


async def test_a_new_request_is_fitted_and_the_option_applied_as_a_new_version(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    body = {"parties": ["US", "CA"], "duration_minutes": 30, "priority": "must", "title": "US-Canada"}
    made = await client.post(f"{forum.base}/requests", json=body, headers=forum.organiser)
    assert made.status_code == 201, made.text
    meeting = str(made.json()["id"])
    options = await client.get(f"{forum.base}/fit?meeting={meeting}&k=3", headers=forum.organiser)
    assert options.status_code == 200, options.text
    found = options.json()
    assert len(found) == 3 and [o["cost"] for o in found] == sorted(o["cost"] for o in found)
    assert found[0]["start"].endswith("+08:00")  # in the forum's zone
    chosen = found[0]
    applied = await client.post(
        f"{forum.base}/fit/apply", json={"meeting": meeting, "option": chosen}, headers=forum.organiser
    )
    assert applied.status_code == 201, applied.text
    answer = applied.json()
    assert answer["version"] == forum.published + 1
    version = await client.get(f"{forum.base}/schedules/{answer['version']}", headers=forum.organiser)
    assert version.json()["derived_from"] == forum.published  # the grid it was fitted into
    assert [m["meeting"] for m in answer["moved"]] == [m["meeting"] for m in chosen["moves"]]
    async with pool.acquire() as connection:
        problem = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
        before = await published_grid(connection, UUID(forum.id))
        rows = await connection.fetch(
            "SELECT p.meeting_id, p.room_id, lower(p.during) AS start, upper(p.during) AS end"
            " FROM schedule_placements p JOIN schedule_versions v ON v.id = p.version_id"
            " WHERE v.forum_id = $1 AND v.number = $2",
            UUID(forum.id),
            answer["version"],
        )
    assert problem is not None and before is not None
    after = Schedule(
        status="FEASIBLE", placed=[Placement(r["meeting_id"], r["start"], r["end"], r["room_id"]) for r in rows]
    )
    assert validate(problem, after).violations == []
    diff = diff_schedules(before.schedule.placed, after.placed)
    assert [p.meeting for p in diff.added] == [meeting]
    assert [m.meeting for m in diff.moved] == [m["meeting"] for m in chosen["moves"]]


async def test_an_applied_option_reports_its_moves_in_forum_time(client: httpx.AsyncClient, forum: Forum) -> None:
    grid = (await client.get(f"{forum.base}/schedules/{forum.published}", headers=forum.organiser)).json()
    placed = next(p for p in grid["placements"] if p["meeting"] == "US-CN")
    options = (await client.get(f"{forum.base}/fit?meeting=US-CN&k=5", headers=forum.organiser)).json()
    now = datetime.fromisoformat(placed["start"])
    elsewhere = next(o for o in options if datetime.fromisoformat(o["start"]) != now)
    applied = await client.post(
        f"{forum.base}/fit/apply", json={"meeting": "US-CN", "option": elsewhere}, headers=forum.organiser
    )
    assert applied.status_code == 201, applied.text
    moved = applied.json()["moved"]
    assert "US-CN" in [m["meeting"] for m in moved]
    for move in moved:  # before (the published grid) and after alike, as GET fit and the version diff give them
        for side in (move["before"], move["after"]):
            assert side["start"].endswith("+08:00") and side["end"].endswith("+08:00"), move


async def test_an_option_applied_while_another_version_is_stored_gets_the_next_number(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    option = (await client.get(f"{forum.base}/fit?meeting=US-CN&k=1", headers=forum.organiser)).json()[0]
    async with pool.acquire() as holder:
        storing = holder.transaction()  # a run or a move storing its version, under the forum lock
        await storing.start()
        await holder.execute("SELECT 1 FROM forums WHERE id = $1 FOR UPDATE", UUID(forum.id))
        await insert_version(holder, UUID(forum.id), Schedule(status="FEASIBLE", placed=[]))
        body = {"meeting": "US-CN", "option": option}
        applying = asyncio.ensure_future(client.post(f"{forum.base}/fit/apply", json=body, headers=forum.organiser))
        await wait_for_lock_waiters(pool, 1)
        await storing.commit()
        applied = await applying
    assert applied.status_code == 201, applied.text
    assert applied.json()["version"] == forum.published + 2


async def test_a_stale_option_is_refused_and_new_meetings_are_requests(client: httpx.AsyncClient, forum: Forum) -> None:
    options = (await client.get(f"{forum.base}/fit?meeting=BD-LT&k=1", headers=forum.organiser)).json()
    assert options == []  # no common availability: nothing to offer
    taken = await client.get(f"{forum.base}/fit?meeting=US-CN&k=1", headers=forum.organiser)
    option = taken.json()[0]
    forged = dict(option, room="sl-1", moves=[])  # a room US-CN cannot use (no interpretation)
    refused = await client.post(
        f"{forum.base}/fit/apply", json={"meeting": "US-CN", "option": forged}, headers=forum.organiser
    )
    assert refused.status_code == 409, refused.text
    request = {"kind": "meeting_requested", "meeting": msgspec.to_builtins(urgent_request())}
    answer = await client.post(f"{forum.base}/changes", json=request, headers=forum.organiser)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "kind"


async def test_fit_needs_a_published_grid_and_a_known_meeting(client: httpx.AsyncClient, forum: Forum) -> None:
    unknown = await client.get(f"{forum.base}/fit?meeting=nope", headers=forum.organiser)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "query:meeting"
    forum_id, organiser, _ = await imported(client)
    unpublished = await client.get(f"/forums/{forum_id}/fit?meeting=US-CN", headers=organiser)
    assert unpublished.status_code == 409, unpublished.text


async def run_to_end(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum, body: dict[str, Any]
) -> dict[str, Any]:
    queued = await client.post(f"{forum.base}/runs", json=body, headers=forum.organiser)
    assert queued.status_code == 202, queued.text
    assert await work_one(pool, forum.id) == "succeeded"
    run = await client.get(f"{forum.base}/runs/{queued.json()['id']}", headers=forum.organiser)
    assert run.status_code == 200
    return run.json()


async def version_grid(pool: asyncpg.Pool, forum: Forum, number: int) -> Schedule:
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            "SELECT p.meeting_id, p.room_id, lower(p.during) AS start, upper(p.during) AS end"
            " FROM schedule_placements p JOIN schedule_versions v ON v.id = p.version_id"
            " WHERE v.forum_id = $1 AND v.number = $2",
            UUID(forum.id),
            number,
        )
    return Schedule(
        status="FEASIBLE", placed=[Placement(r["meeting_id"], r["start"], r["end"], r["room_id"]) for r in rows]
    )


async def test_a_resolve_run_moves_only_what_the_recorded_change_broke(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    recorded = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    broken = set(recorded.json()["breaks"])
    run = await run_to_end(client, pool, forum, {"resolve": {}})
    assert run["options"]["resolve"] == {"free": [], "reoptimise": False} and run["options"]["time_limit"] == 0.5
    moves = run["moves"]
    assert moves and {m["meeting"] for m in moves if m["kind"] != "added"} <= broken
    number = recorded.json()["number"]
    assert number == 1  # a cause names the change by the number the change was answered with
    assert all(m["cause"]["change"] == number for m in moves if m["meeting"] in broken)
    # the list of runs shows the re-solve as its own URL does, less its moves
    listed = (await client.get(f"{forum.base}/runs", headers=forum.organiser)).json()
    assert listed[-1] == {key: value for key, value in run.items() if key != "moves"}
    async with pool.acquire() as connection:
        problem = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
        before = await published_grid(connection, UUID(forum.id))
    assert problem is not None and before is not None
    after = await version_grid(pool, forum, run["version"])
    assert validate(problem, after).violations == []
    diff = diff_schedules(before.schedule.placed, after.placed)
    assert {m.meeting for m in diff.moved} | {p.meeting for p in diff.removed} <= broken


async def test_moves_name_the_recorded_change_when_an_earlier_one_is_passed_over(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    cancel = {"kind": "meeting_cancelled", "meeting": "US-SG"}
    assert (await client.post(f"{forum.base}/changes", json=cancel, headers=forum.organiser)).status_code == 201
    withdrawn = await client.post(f"{forum.base}/requests/US-SG/withdraw", headers=forum.organiser)
    assert withdrawn.status_code == 200, withdrawn.text  # the cancellation now has nothing to change
    recorded = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    broken = set(recorded.json()["breaks"])
    run = await run_to_end(client, pool, forum, {"resolve": {}})
    changes = (await client.get(f"{forum.base}/changes", headers=forum.organiser)).json()
    by_number = {change["number"]: change for change in changes}
    assert sorted(by_number) == [1, 2]
    by_cause = {m["meeting"]: m["cause"] for m in run["moves"]}
    assert broken & set(by_cause)
    for meeting in broken & set(by_cause):
        assert by_cause[meeting]["change"] == recorded.json()["number"] == 2
        assert by_number[by_cause[meeting]["change"]]["change"]["kind"] == "arrival_changed"
    assert by_cause["US-SG"]["kind"] == "withdrawn"
    # Stored as every run before the numbering was (a position among the recorded changes,
    # from 0), so runs stored before it read with the right numbers too.
    async with pool.acquire() as connection:
        stored = await connection.fetchval(
            "SELECT moves FROM solve_runs WHERE forum_id = $1 AND number = $2", UUID(forum.id), run["id"]
        )
    positions = {m["meeting"]: m["cause"].get("change") for m in stored}
    assert all(positions[meeting] == 1 for meeting in broken & set(by_cause))


async def test_the_problem_view_is_what_a_run_solves_and_names_the_changes_it_holds(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    """GET .../problem left the recorded changes out, so its findings and a preview solve of
    it differed from what every run solves; `?changes=false` is the stored setup alone."""
    cancel = {"kind": "meeting_cancelled", "meeting": "US-SG"}
    assert (await client.post(f"{forum.base}/changes", json=cancel, headers=forum.organiser)).status_code == 201
    withdrawn = await client.post(f"{forum.base}/requests/US-SG/withdraw", headers=forum.organiser)
    assert withdrawn.status_code == 200, withdrawn.text  # the cancellation is passed over from now on
    cancel = {"kind": "meeting_cancelled", "meeting": "US-CN"}
    assert (await client.post(f"{forum.base}/changes", json=cancel, headers=forum.organiser)).status_code == 201
    assert (await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)).status_code == 201
    async with pool.acquire() as connection:
        solved = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
        stored = await build_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert solved is not None and stored is not None
    view = await client.get(f"{forum.base}/problem", headers=forum.organiser)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["problem"] == msgspec.json.decode(msgspec.json.encode(solved))  # what a run solves
    assert body["findings"] == [] and body["changes_applied"] == [2, 3] and body["changes_recorded"] == 3
    assert "US-CN" not in {meeting["id"] for meeting in body["problem"]["meetings"]}
    setup = await client.get(f"{forum.base}/problem?changes=false", headers=forum.organiser)
    assert setup.status_code == 200, setup.text
    assert setup.json()["problem"] == msgspec.json.decode(msgspec.json.encode(stored))
    assert setup.json()["changes_applied"] == [] and setup.json()["changes_recorded"] == 3
    assert "US-CN" in {meeting["id"] for meeting in setup.json()["problem"]["meetings"]}
    bad = await client.get(f"{forum.base}/problem?changes=maybe", headers=forum.organiser)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query:changes", bad.text


async def test_a_solve_from_scratch_sees_the_recorded_changes_and_resolve_checks_its_input(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    run = await run_to_end(client, pool, forum, {"time_limit": 1, "workers": 1})
    assert run["moves"] is None
    async with pool.acquire() as connection:
        problem = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert problem is not None
    assert validate(problem, await version_grid(pool, forum, run["version"])).violations == []
    unknown = await client.post(f"{forum.base}/runs", json={"resolve": {"free": ["nope"]}}, headers=forum.organiser)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "resolve.free[0]"
    forum_id, organiser, _ = await imported(client)
    unpublished = await client.post(f"/forums/{forum_id}/runs", json={"resolve": {}}, headers=organiser)
    assert unpublished.status_code == 409


# The late-change scenarios of solver/scenarios/late_changes.py as the API takes them
# (an urgent new meeting comes as a request and is placed with fit: tested above).
SCENARIO_CHANGES = {
    "late-arrival": arrival_body(),
    "room-lost": {
        "kind": "room_unavailable",
        "room": "sl-5",
        "window": {"start": LOST_MORNING.start.isoformat(), "end": LOST_MORNING.end.isoformat()},
    },
    "cancelled": {"kind": "meeting_cancelled", "meeting": "US-SG"},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_CHANGES))
async def test_a_change_resolved_and_published_tells_exactly_the_affected_delegations_once(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum, scenario: str
) -> None:
    """Issue 5's scenarios end to end: change, re-solve run, publication, notices in the outbox."""
    recorded = await client.post(f"{forum.base}/changes", json=SCENARIO_CHANGES[scenario], headers=forum.organiser)
    assert recorded.status_code == 201, recorded.text
    async with pool.acquire() as connection:
        before = await published_grid(connection, UUID(forum.id))
        problem = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert before is not None and problem is not None
    run = await run_to_end(client, pool, forum, {"resolve": {}})
    published = await client.post(f"{forum.base}/schedules/{run['version']}/publish", headers=forum.organiser)
    assert published.status_code == 200, published.text
    after = await version_grid(pool, forum, run["version"])
    assert validate(problem, after).violations == []
    changed = diff_schedules(before.schedule.placed, after.placed).changed_meetings
    assert changed  # each change breaks at least one published meeting
    example = msgspec.json.decode(EXAMPLE.read_bytes(), type=Problem)  # still has a cancelled meeting
    parties = {meeting.id: set(meeting.delegations) for meeting in example.meetings}
    affected = set().union(*(parties[meeting] for meeting in changed))
    async with pool.acquire() as connection:
        told = await connection.fetch(
            "SELECT n.delegation_id FROM notices n JOIN publications p ON p.id = n.publication_id"
            " JOIN schedule_versions v ON v.id = p.version_id WHERE v.forum_id = $1 AND v.number = $2",
            UUID(forum.id),
            run["version"],
        )
    told_ids = [row["delegation_id"] for row in told]
    assert sorted(told_ids) == sorted(affected)  # exactly the affected ones, each once
    assert len(affected) < len({d for ids in parties.values() for d in ids})  # and not everybody


async def test_a_move_check_on_a_meeting_a_change_broke_judges_it_against_the_change(
    client: httpx.AsyncClient, forum: Forum
) -> None:
    """The meeting's published place already breaks the recorded change: keeping it (or any
    place the change rules out) is refused, a place the changed forum allows is not, and a
    meeting a change removed is no meeting to move (422, not a 500)."""
    recorded = await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)
    assert "US-CN" in recorded.json()["breaks"]
    grid = (await client.get(f"{forum.base}/schedules/{forum.published}", headers=forum.organiser)).json()
    placed = next(p for p in grid["placements"] if p["meeting"] == "US-CN")
    check_path = f"{forum.base}/schedules/{forum.published}/moves/check"
    stay = {"meeting": "US-CN", "start": placed["start"][:19], "room": placed["room"]}
    kept = await client.post(check_path, json=stay, headers=forum.organiser)
    assert kept.status_code == 200, kept.text
    assert kept.json()["allowed"] is False
    assert kept.json()["blocking"] and all("US-CN" in v["meetings"] for v in kept.json()["blocking"])
    stored = await client.post(f"{forum.base}/schedules/{forum.published}/moves", json=stay, headers=forum.organiser)
    assert stored.status_code == 409, stored.text
    option = next(
        o
        for o in (await client.get(f"{forum.base}/fit?meeting=US-CN&k=10", headers=forum.organiser)).json()
        if not o["moves"]
    )
    elsewhere = {"meeting": "US-CN", "start": option["start"][:19], "room": option["room"]}
    fine = await client.post(check_path, json=elsewhere, headers=forum.organiser)
    assert fine.status_code == 200 and fine.json()["allowed"] is True, fine.text
    cancel = {"kind": "meeting_cancelled", "meeting": "US-SG"}
    assert (await client.post(f"{forum.base}/changes", json=cancel, headers=forum.organiser)).status_code == 201
    us_sg = next(p for p in grid["placements"] if p["meeting"] == "US-SG")
    gone = {"meeting": "US-SG", "start": us_sg["start"][:19], "room": us_sg["room"]}
    removed = await client.post(check_path, json=gone, headers=forum.organiser)
    assert removed.status_code == 422 and removed.json()["errors"][0]["field"] == "meeting", removed.text


async def test_two_urgent_requests_racing_for_the_freed_spot_lose_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    """US-SG is cancelled; two urgent US-Singapore requests both take its freed spot, applied at
    once. Each answer is a version of its own, valid, derived from the published grid; the first
    published, the second cannot be (it would drop the first's meeting): 409, and fitted again
    into the new published grid it takes another place, both meetings held, nothing shared."""
    cancel = {"kind": "meeting_cancelled", "meeting": "US-SG"}
    assert (await client.post(f"{forum.base}/changes", json=cancel, headers=forum.organiser)).status_code == 201
    grid = (await client.get(f"{forum.base}/schedules/{forum.published}", headers=forum.organiser)).json()
    freed = next(p for p in grid["placements"] if p["meeting"] == "US-SG")
    meetings, options = [], []
    for title in ("urgent one", "urgent two"):
        body = {"parties": ["US", "SG"], "duration_minutes": 30, "priority": "must", "title": title}
        made = await client.post(f"{forum.base}/requests", json=body, headers=forum.organiser)
        assert made.status_code == 201, made.text
        meetings.append(made.json()["id"])
        found = await client.get(f"{forum.base}/fit?meeting={meetings[-1]}&k=1&moves=false", headers=forum.organiser)
        options.append(found.json()[0])
    assert (options[0]["start"], options[0]["room"]) == (options[1]["start"], options[1]["room"])
    assert options[0]["start"] == freed["start"]  # the spot the cancellation freed

    async def apply(meeting: str, option: dict[str, Any]) -> httpx.Response:
        body = {"meeting": meeting, "option": option}
        return await client.post(f"{forum.base}/fit/apply", json=body, headers=forum.organiser)

    first, second = await asyncio.gather(*(apply(m, o) for m, o in zip(meetings, options, strict=True)))
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    numbers = sorted([first.json()["version"], second.json()["version"]])
    assert numbers == [forum.published + 1, forum.published + 2]
    async with pool.acquire() as connection:
        problem = await changed_problem(connection, UUID(forum.id), datetime.now(UTC))
    assert problem is not None
    for number in numbers:  # each alone is whole and valid
        assert validate(problem, await version_grid(pool, forum, number)).violations == []
    winner, loser = numbers
    published = await client.post(f"{forum.base}/schedules/{winner}/publish", headers=forum.organiser)
    assert published.status_code == 200, published.text
    refused = await client.post(f"{forum.base}/schedules/{loser}/publish", headers=forum.organiser)
    assert refused.status_code == 409, refused.text
    assert f"version {winner}" in refused.json()["detail"]
    held = {p.meeting for p in (await version_grid(pool, forum, winner)).placed}
    # Nor through a version made from the refused one (a move of a draft made on the old grid).
    loser_meeting = next(m for m in meetings if m not in held)
    spot = {"meeting": loser_meeting, "start": options[0]["start"][:19], "room": options[0]["room"]}
    moved = await client.post(f"{forum.base}/schedules/{loser}/moves", json=spot, headers=forum.organiser)
    assert moved.status_code == 201, moved.text
    chained = await client.post(f"{forum.base}/schedules/{moved.json()['version']}/publish", headers=forum.organiser)
    assert chained.status_code == 409, chained.text
    now = (await client.get(f"{forum.base}/schedules", headers=forum.organiser)).json()
    assert [v["number"] for v in now if v["published"]] == [winner]  # the refusal changed nothing
    waiting = next(m for m in meetings if m not in held)
    again = await client.get(f"{forum.base}/fit?meeting={waiting}&k=1", headers=forum.organiser)
    option = again.json()[0]
    assert (option["start"], option["room"]) != (options[0]["start"], options[0]["room"])
    applied = await apply(waiting, option)
    assert applied.status_code == 201, applied.text
    final = applied.json()["version"]
    assert (await client.post(f"{forum.base}/schedules/{final}/publish", headers=forum.organiser)).status_code == 200
    after = await version_grid(pool, forum, final)
    assert set(meetings) <= {p.meeting for p in after.placed}
    assert validate(problem, after).violations == []


async def test_two_queued_resolves_cannot_undo_each_other(
    client: httpx.AsyncClient, pool: asyncpg.Pool, forum: Forum
) -> None:
    """Two re-solves queued on the same published grid (a late arrival, then a lost morning):
    each version names that grid; once one is published the other, which never saw it, is
    refused (409) rather than published over it, and a re-solve queued now starts from it."""
    assert (await client.post(f"{forum.base}/changes", json=arrival_body(), headers=forum.organiser)).status_code == 201
    first = await run_to_end(client, pool, forum, {"resolve": {}})
    lost = SCENARIO_CHANGES["room-lost"]
    assert (await client.post(f"{forum.base}/changes", json=lost, headers=forum.organiser)).status_code == 201
    second = await run_to_end(client, pool, forum, {"resolve": {}})
    listed = {v["number"]: v for v in (await client.get(f"{forum.base}/schedules", headers=forum.organiser)).json()}
    assert listed[first["version"]]["derived_from"] == listed[second["version"]]["derived_from"] == forum.published
    published = await client.post(f"{forum.base}/schedules/{second['version']}/publish", headers=forum.organiser)
    assert published.status_code == 200, published.text
    stale = await client.post(f"{forum.base}/schedules/{first['version']}/publish", headers=forum.organiser)
    assert stale.status_code == 409, stale.text
    assert f"version {second['version']}" in stale.json()["detail"]
    third = await run_to_end(client, pool, forum, {"resolve": {}})
    listed = {v["number"]: v for v in (await client.get(f"{forum.base}/schedules", headers=forum.organiser)).json()}
    assert listed[third["version"]]["derived_from"] == second["version"]
    again = await client.post(f"{forum.base}/schedules/{third['version']}/publish", headers=forum.organiser)
    assert again.status_code == 200, again.text

"""The forum's directory (every member reads whom it may ask), and request times in the forum's zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, FORUM_BODY, World, bearer, make_world

pytestmark = pytest.mark.anyio

EXPECTED = [
    {"id": "AUS", "name": "Australia", "country": "AUS"},
    {"id": "JPN", "name": "Japan", "country": "JPN"},
    {"id": "SGP", "name": "Singapore", "country": "SGP"},
]


async def test_every_member_reads_each_delegations_id_name_and_country_only(
    client: httpx.AsyncClient, world: World
) -> None:
    """Each delegation of the forum, with exactly id, name and country: no participants, times,
    tokens or requests, whoever asks (the organiser, or any delegation)."""
    asked = await client.post(
        f"{world.base}/requests", json={"parties": ["SGP", "AUS"], "duration_minutes": 30}, headers=world.tokens["SGP"]
    )
    assert asked.status_code == 201, asked.text
    for headers in (world.organiser, *world.tokens.values()):
        answer = await client.get(f"{world.base}/directory", headers=headers)
        assert answer.status_code == 200, answer.text
        listed = answer.json()
        assert [set(entry) for entry in listed] == [{"id", "name", "country"}] * 3
        assert listed == EXPECTED
        # the participants (ids "min" and "aide", names "SGP min"...) and the request are not in it
        assert not [word for word in ("min", "aide", "minister", asked.json()["id"]) if word in answer.text]
        assert answer.headers["cache-control"] == "private, no-cache"


async def test_another_forums_tokens_get_404(client: httpx.AsyncClient, world: World) -> None:
    other = await make_world(client)
    for headers in (other.organiser, other.tokens["SGP"]):
        answer = await client.get(f"{world.base}/directory", headers=headers)
        assert answer.status_code == 404, answer.text
        assert "Singapore" not in answer.text
    assert (await client.get(f"{world.base}/directory")).status_code == 401


async def test_an_unchanged_directory_answers_304_and_a_new_delegation_moves_its_etag(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"{world.base}/directory"
    first = await client.get(path, headers=world.tokens["JPN"])
    tag = first.headers["etag"]
    again = await client.get(path, headers={**world.tokens["JPN"], "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    # the organiser reads the same list, so the same tag
    assert (await client.get(path, headers={**world.organiser, "If-None-Match": tag})).status_code == 304
    # a participant edit is not the directory's: still 304
    aide = {"id": "aide", "name": "SGP adviser", "principal": False, "rank": "minister"}
    edited = await client.put(
        f"{world.base}/delegations/SGP/participants/aide",
        json=aide,
        headers={**world.tokens["SGP"], "If-Match": (await _etag(client, world, "SGP"))},
    )
    assert edited.status_code == 200, edited.text
    assert (await client.get(path, headers={**world.tokens["JPN"], "If-None-Match": tag})).status_code == 304
    # a new delegation is
    added = await client.post(
        f"{world.base}/delegations", json={"id": "NZL", "name": "New Zealand", "country": "NZ"}, headers=world.organiser
    )
    assert added.status_code == 201, added.text
    moved = await client.get(path, headers={**world.tokens["JPN"], "If-None-Match": tag})
    assert moved.status_code == 200 and moved.headers["etag"] != tag
    assert {"id": "NZL", "name": "New Zealand", "country": "NZ"} in moved.json()


async def _set_directory(client: httpx.AsyncClient, world: World, readers: str) -> httpx.Response:
    forum = await client.get(world.base, headers=world.organiser)
    return await client.patch(
        world.base, json={"directory": readers}, headers={**world.organiser, "If-Match": forum.headers["etag"]}
    )


async def test_a_forum_keeping_its_directory_private_answers_delegations_403_naming_the_setting(
    client: httpx.AsyncClient, world: World
) -> None:
    """`directory: "organiser"` (PATCH with If-Match): every delegation is refused with a 403 that
    names the forum's setting, even one holding the list's ETag (no 304 keeps the list alive); the
    organiser still reads it whole; every member reads the setting on the forum. Set back to
    "members", delegations read the list again."""
    path = f"{world.base}/directory"
    held = (await client.get(path, headers=world.tokens["JPN"])).headers["etag"]
    assert (await client.get(world.base, headers=world.tokens["JPN"])).json()["directory"] == "members"
    private = await _set_directory(client, world, "organiser")
    assert private.status_code == 200, private.text
    assert private.json()["directory"] == "organiser"
    for code, headers in world.tokens.items():
        assert (await client.get(world.base, headers=headers)).json()["directory"] == "organiser"
        for sent in (headers, {**headers, "If-None-Match": held}):
            refused = await client.get(path, headers=sent)
            assert refused.status_code == 403, refused.text
            problem = refused.json()
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert problem["errors"] == [
                {
                    "field": "directory",
                    "message": "the organiser keeps the forum's list of delegations private:"
                    " ask for a delegation by its id",
                }
            ]
            # nothing of any delegation: not even its own name
            assert not [name for name in ("Singapore", "Australia", "Japan", code) if name in refused.text]
    organiser = await client.get(path, headers=world.organiser)
    assert organiser.status_code == 200 and organiser.json() == EXPECTED
    assert (await client.get(path, headers={**world.organiser, "If-None-Match": held})).status_code == 304
    # asking by id still works: the list is private, not the forum
    asked = await client.post(
        f"{world.base}/requests", json={"parties": ["SGP", "AUS"], "duration_minutes": 30}, headers=world.tokens["SGP"]
    )
    assert asked.status_code == 201, asked.text
    public = await _set_directory(client, world, "members")
    assert public.status_code == 200 and public.json()["directory"] == "members", public.text
    again = await client.get(path, headers=world.tokens["JPN"])
    assert again.status_code == 200 and again.json() == EXPECTED


async def test_the_directory_setting_is_checked_set_at_creation_and_no_setup_edit(
    client: httpx.AsyncClient, world: World
) -> None:
    """A value other than "members" or "organiser" is a 400 naming `directory`; a forum may be created
    private; and changing only who reads the directory leaves the forum's setup revision (the grid a
    solve made stays current), where a change of name moves it."""
    wrong = await _set_directory(client, world, "everyone")
    assert wrong.status_code == 400, wrong.text
    assert [error["field"] for error in wrong.json()["errors"]] == ["directory"]
    revision = f"{world.base}/revision"
    before = (await client.get(revision, headers=world.organiser)).json()["revision"]
    assert (await _set_directory(client, world, "organiser")).status_code == 200
    assert (await client.get(revision, headers=world.organiser)).json()["revision"] == before
    forum = await client.get(world.base, headers=world.organiser)
    renamed = await client.patch(
        world.base, json={"name": "Renamed"}, headers={**world.organiser, "If-Match": forum.headers["etag"]}
    )
    assert renamed.status_code == 200 and renamed.json()["directory"] == "organiser", renamed.text
    assert (await client.get(revision, headers=world.organiser)).json()["revision"] == before + 1
    made = await client.post("/forums", json={**FORUM_BODY, "directory": "organiser"}, headers=bearer(ADMIN_TOKEN))
    assert made.status_code == 201 and made.json()["forum"]["directory"] == "organiser", made.text
    default = await client.post("/forums", json=FORUM_BODY, headers=bearer(ADMIN_TOKEN))
    assert default.json()["forum"]["directory"] == "members"


async def _etag(client: httpx.AsyncClient, world: World, delegation: str) -> str:
    answer = await client.get(f"{world.base}/delegations/{delegation}/participants/aide", headers=world.organiser)
    return answer.headers["etag"]


def _in_forum_zone(value: str) -> datetime:
    """An instant the API shows in Asia/Singapore's time (+08:00), never in UTC ("Z")."""
    assert value.endswith("+08:00"), value
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(hours=8)
    return moment


async def test_request_times_carry_the_forums_offset_in_every_answer(client: httpx.AsyncClient, world: World) -> None:
    """created_at and updated_at as the forum's deadline and placements are: its time, with its offset."""
    body = {"parties": ["SGP", "AUS"], "duration_minutes": 30}
    made = await client.post(f"{world.base}/requests", json=body, headers=world.tokens["SGP"])
    assert made.status_code == 201, made.text
    created = _in_forum_zone(made.json()["created_at"])
    assert _in_forum_zone(made.json()["updated_at"]) == created
    request_id = made.json()["id"]
    path = f"{world.base}/requests/{request_id}"
    accepted = await client.post(f"{path}/accept", json={"attendees": []}, headers=world.tokens["AUS"])
    assert accepted.status_code == 200, accepted.text
    assert _in_forum_zone(accepted.json()["created_at"]) == created
    updated = _in_forum_zone(accepted.json()["updated_at"])
    assert updated >= created
    for headers in (world.organiser, world.tokens["SGP"], world.tokens["AUS"]):
        read = (await client.get(path, headers=headers)).json()
        assert (_in_forum_zone(read["created_at"]), _in_forum_zone(read["updated_at"])) == (created, updated)
        [listed] = [r for r in (await client.get(f"{world.base}/requests", headers=headers)).json()]
        assert (_in_forum_zone(listed["created_at"]), _in_forum_zone(listed["updated_at"])) == (created, updated)
    edited = await client.patch(
        path, json={"title": "Renamed"}, headers={**world.organiser, "If-Match": accepted.headers["etag"]}
    )
    assert edited.status_code == 200, edited.text
    assert _in_forum_zone(edited.json()["updated_at"]) >= updated
    inbox = (await client.get(f"{world.base}/delegations/SGP/inbox", headers=world.tokens["SGP"])).json()
    assert _in_forum_zone(inbox["sent"][0]["created_at"]) == created
    withdrawn = await client.post(f"{path}/withdraw", headers=world.tokens["SGP"])
    assert withdrawn.status_code == 200, withdrawn.text
    _in_forum_zone(withdrawn.json()["created_at"])
    _in_forum_zone(withdrawn.json()["updated_at"])

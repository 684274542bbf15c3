"""After a grid is made: version diffs, publication history, exports and calendar feeds.

Two versions of one forum: v2 keeps SGP-AUS and AUS-JPN, moves SGP-JPN to another
time and room, and drops the second SGP-AUS meeting.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

import asyncpg
import httpx
import msgspec
import openpyxl
import pytest
from icalendar import Calendar, Component

from api.calendar import feed_events
from api.exports import GridContext, grid_xlsx, list_csv
from db.queries.publications import RoomLabel
from db.queries.runs import GridPlacement
from db.records import ForumRecord
from solver.model import Day
from tests.conftest import World
from tests.grids import ZONE, Slot, add_venue_room, agree, local, publish, store_grid
from tests.test_api_runs import arrange, start, work_one

pytestmark = pytest.mark.anyio


class Story(msgspec.Struct):
    world: World
    meetings: dict[str, str]  # "sa", "sj", "aj", "sa2" -> meeting id
    v1: int
    v2: int


@pytest.fixture
async def story(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> Story:
    await add_venue_room(client, world)
    pairs = {"sa": ("SGP", "AUS"), "sj": ("SGP", "JPN"), "aj": ("AUS", "JPN"), "sa2": ("SGP", "AUS")}
    ids = dict(zip(pairs, await agree(client, world, *pairs.values()), strict=True))
    parties = {ids[key]: pair for key, pair in pairs.items()}
    first = {"sa": Slot("R1", "09:00"), "sj": Slot("R1", "09:30"), "aj": Slot("R1", "10:00")}
    first["sa2"] = Slot("R1", "10:30")
    second = {"sa": Slot("R1", "09:00"), "sj": Slot("R2", "11:00"), "aj": Slot("R1", "10:00")}
    v1 = await store_grid(pool, world, parties, {ids[key]: slot for key, slot in first.items()})
    v2 = await store_grid(pool, world, parties, {ids[key]: slot for key, slot in second.items()})
    return Story(world, ids, v1, v2)


async def test_version_diff_names_each_change_in_forum_time(client: httpx.AsyncClient, story: Story) -> None:
    world, ids = story.world, story.meetings
    answer = await client.get(f"{world.base}/schedules/{story.v1}/diff/{story.v2}", headers=world.organiser)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"]) == (story.v1, story.v2)
    assert [(m["meeting"], m["kind"]) for m in body["moved"]] == [(ids["sj"], "time_and_room")]
    moved = body["moved"][0]
    assert moved["before"]["start"] == "2023-06-02T09:30:00+08:00" and moved["before"]["room"] == "R1"
    assert moved["after"]["start"] == "2023-06-02T11:00:00+08:00" and moved["after"]["room"] == "R2"
    assert [p["meeting"] for p in body["removed"]] == [ids["sa2"]] and body["added"] == []
    assert sorted(body["unchanged"]) == sorted([ids["sa"], ids["aj"]])
    back = (await client.get(f"{world.base}/schedules/{story.v2}/diff/{story.v1}", headers=world.organiser)).json()
    assert [p["meeting"] for p in back["added"]] == [ids["sa2"]] and back["removed"] == []

    for token in world.tokens.values():  # delegations never see a whole grid's changes
        hidden = await client.get(f"{world.base}/schedules/{story.v1}/diff/{story.v2}", headers=token)
        assert hidden.status_code == 404
    missing = await client.get(f"{world.base}/schedules/{story.v1}/diff/99", headers=world.organiser)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_publications_record_the_diff_against_the_previous_one(client: httpx.AsyncClient, story: Story) -> None:
    world, ids = story.world, story.meetings
    await publish(client, world, story.v1)
    await publish(client, world, story.v1)  # already published: no second publication
    await publish(client, world, story.v2)
    listed = await client.get(f"{world.base}/publications", headers=world.organiser)
    assert listed.status_code == 200, listed.text
    first, second = listed.json()
    assert (first["version"], first["previous_version"]) == (story.v1, None)
    assert sorted(p["meeting"] for p in first["diff"]["added"]) == sorted(ids.values())
    assert (second["version"], second["previous_version"]) == (story.v2, story.v1)
    assert [m["meeting"] for m in second["diff"]["moved"]] == [ids["sj"]]
    assert [p["meeting"] for p in second["diff"]["removed"]] == [ids["sa2"]]
    versions = (await client.get(f"{world.base}/schedules", headers=world.organiser)).json()
    assert [v["published"] for v in versions] == [False, True]  # still one published version
    assert (await client.get(f"{world.base}/publications", headers=world.tokens["SGP"])).status_code == 403


async def test_grid_csv_and_xlsx(client: httpx.AsyncClient, story: Story) -> None:
    world, ids = story.world, story.meetings
    url = f"{world.base}/schedules/{story.v1}/grid"
    answer = await client.get(f"{url}.csv", headers=world.organiser)
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"  # one charset
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["date", "time", "Room 1", "Island Ballroom"]
    by_time = {(row[0], row[1]): row[2:] for row in rows[1:]}
    assert len(rows) == 1 + 2 * 16  # two days of 09:00-13:00 in 15-minute slots
    assert by_time[("2023-06-02", "09:00")] == [f"{ids['sa']}: AUS / SGP", ""]
    assert by_time[("2023-06-02", "09:15")] == by_time[("2023-06-02", "09:00")]  # 30 minutes: two slots
    assert by_time[("2023-06-02", "11:00")] == ["", ""]

    flat = await client.get(f"{url}.csv", params={"layout": "list"}, headers=world.organiser)
    records = list(csv.DictReader(io.StringIO(flat.text)))
    assert [r["meeting"] for r in records] == [ids["sa"], ids["sj"], ids["aj"], ids["sa2"]]
    assert records[1]["start"] == "09:30" and records[1]["delegations"] == "JPN / SGP"
    assert records[1]["attendees"] == "JPN/min, SGP/min"
    wrong = await client.get(f"{url}.csv", params={"layout": "pie"}, headers=world.organiser)
    assert wrong.status_code == 400 and "layout" in wrong.text

    book_answer = await client.get(f"{world.base}/schedules/{story.v2}/grid.xlsx", headers=world.organiser)
    assert book_answer.status_code == 200
    assert "spreadsheetml" in book_answer.headers["content-type"]
    book = openpyxl.load_workbook(io.BytesIO(book_answer.content))
    assert book.sheetnames == ["2023-06-02", "2023-06-03", "Meetings"]
    day = book["2023-06-02"]
    assert [cell.value for cell in day[1]] == ["time", "Room 1", "Island Ballroom"]
    assert day["A2"].value == "09:00" and day["A10"].value == "11:00"
    assert day["C10"].value == f"{ids['sj']}: JPN / SGP"  # moved to 11:00 in the venue's room
    assert "C10:C11" in {str(merged) for merged in day.merged_cells.ranges}
    assert day["B2"].value == f"{ids['sa']}: AUS / SGP" and day["B8"].value is None  # 10:30: sa2 dropped
    meetings = list(book["Meetings"].iter_rows(values_only=True))
    assert meetings[0][:3] == ("meeting", "title", "date") and len(meetings) == 1 + 3
    assert meetings[3][0] == ids["sj"] and meetings[3][5:7] == ("Island Ballroom", "Shangri-La Hotel")

    assert (await client.get(f"{url}.xlsx", headers=world.tokens["SGP"])).status_code == 404
    assert (await client.get(f"{url}.csv", headers=world.tokens["SGP"])).status_code == 404


def events_of(feed: httpx.Response) -> dict[str, Component]:
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"  # one charset, as calendar apps parse it
    calendar = Calendar.from_ical(feed.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def sequence_of(event: Component) -> int:
    """The event's SEQUENCE, which every event of a feed carries (icalendar parses it as an int)."""
    sequence = event["SEQUENCE"]
    assert isinstance(sequence, int), sequence
    return sequence


def uid_of(events: dict[str, Component], meeting: str) -> str:
    return next(uid for uid in events if uid.startswith(f"{meeting}."))


async def test_calendar_updates_in_place_across_publications(client: httpx.AsyncClient, story: Story) -> None:
    world, ids = story.world, story.meetings
    sgp = world.tokens["SGP"]
    feed_url = f"{world.base}/delegations/SGP/calendar"
    link = await client.get(f"{world.base}/delegations/SGP/calendar-link", headers=sgp)
    assert link.status_code == 200, link.text
    subscribe = httpx.URL(link.json()["url"])
    assert subscribe.path.startswith("/calendar/") and subscribe.path.endswith(".ics")

    await publish(client, world, story.v1)
    before = events_of(await client.get(feed_url, headers=sgp))
    assert {uid.split(".")[0] for uid in before} == {ids["sa"], ids["sj"], ids["sa2"]}  # not AUS-JPN
    assert {sequence_of(event) for event in before.values()} == {0}

    await publish(client, world, story.v2)
    after = events_of(await client.get(subscribe.path))  # no Authorization header: the secret URL
    assert set(after) == set(before)  # same UIDs: calendars update, never duplicate
    kept, moved, dropped = (after[uid_of(after, ids[key])] for key in ("sa", "sj", "sa2"))
    assert (sequence_of(kept), str(kept["STATUS"])) == (0, "CONFIRMED")
    assert (sequence_of(moved), str(moved["STATUS"])) == (1, "CONFIRMED")
    assert (sequence_of(dropped), str(dropped["STATUS"])) == (1, "CANCELLED")
    start: datetime = moved.decoded("DTSTART")
    assert start == local("11:00") and moved["DTSTART"].params["TZID"] == "Asia/Singapore"
    assert moved.decoded("DTEND") == local("11:30") and str(start.tzinfo) == str(ZONE)
    assert str(moved["LOCATION"]) == "Island Ballroom, Shangri-La Hotel" and str(kept["LOCATION"]) == "Room 1"
    assert str(moved["SUMMARY"]) == "Meeting with JPN" and str(kept["SUMMARY"]) == "Meeting with AUS"
    attendees = moved.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["urn:sidelines:participant:SGP:min"]  # SGP's own people only
    assert attendees[0].params["CN"] == "SGP min"
    assert "JPN:min" not in (await client.get(subscribe.path)).text

    aus = events_of(await client.get(f"{world.base}/delegations/AUS/calendar", headers=world.tokens["AUS"]))
    assert uid_of(aus, ids["sa"]) == uid_of(after, ids["sa"])  # one meeting, one UID in every feed
    assert sequence_of(aus[uid_of(aus, ids["aj"])]) == 0 and ids["sj"] not in "".join(aus)
    assert str(aus[uid_of(aus, ids["sa2"])]["STATUS"]) == "CANCELLED"

    peeking = await client.get(f"{world.base}/delegations/JPN/calendar", headers=sgp)
    assert peeking.status_code == 404
    organiser_view = await client.get(feed_url, headers=world.organiser)
    assert events_of(organiser_view).keys() == after.keys()


async def test_the_feed_after_each_of_four_publications_pins_every_event(
    client: httpx.AsyncClient, story: Story, pool: asyncpg.Pool
) -> None:
    """v1, v2, a v3 that brings the dropped meeting back and adds Singapore's aide to the moved one,
    then v1 again: the feed after each, event by event in the order served. The feed reads every
    published grid at once (one statement for the whole history, a version published twice
    included), so this pins what it served when it read them one by one."""
    world, ids = story.world, story.meetings
    parties = {ids["sa"]: ("SGP", "AUS"), ids["sj"]: ("SGP", "JPN"), ids["aj"]: ("AUS", "JPN")}
    parties[ids["sa2"]] = ("SGP", "AUS")
    third = {"sa": Slot("R1", "09:00"), "sj": Slot("R2", "11:00"), "aj": Slot("R1", "10:00")}
    third["sa2"] = Slot("R2", "12:00")
    with_aide = {ids["sj"]: [("JPN", "min"), ("SGP", "aide"), ("SGP", "min")]}
    v3 = await store_grid(pool, world, parties, {ids[key]: slot for key, slot in third.items()}, with_aide)
    names = {meeting: key for key, meeting in ids.items()}

    async def served() -> list[tuple[str, int, str, str, str, str, list[str]]]:
        feed = await client.get(f"{world.base}/delegations/SGP/calendar", headers=world.tokens["SGP"])
        events = list(events_of(feed).values())
        assert all(str(e["UID"]) == f"{str(e['UID']).split('.')[0]}.{world.forum_id}@sidelines" for e in events)
        return [_shown(names[str(e["UID"]).split(".")[0]], e) for e in events]

    await publish(client, world, story.v1)
    assert await served() == [
        ("sa", 0, "CONFIRMED", "09:00-09:30", "Room 1", "Meeting with AUS", ["min"]),
        ("sj", 0, "CONFIRMED", "09:30-10:00", "Room 1", "Meeting with JPN", ["min"]),
        ("sa2", 0, "CONFIRMED", "10:30-11:00", "Room 1", "Meeting with AUS", ["min"]),
    ]
    await publish(client, world, story.v2)
    assert await served() == [
        ("sa", 0, "CONFIRMED", "09:00-09:30", "Room 1", "Meeting with AUS", ["min"]),
        ("sa2", 1, "CANCELLED", "10:30-11:00", "Room 1", "Meeting with AUS", ["min"]),
        ("sj", 1, "CONFIRMED", "11:00-11:30", "Island Ballroom, Shangri-La Hotel", "Meeting with JPN", ["min"]),
    ]
    await publish(client, world, v3)
    assert await served() == [
        ("sa", 0, "CONFIRMED", "09:00-09:30", "Room 1", "Meeting with AUS", ["min"]),
        ("sj", 2, "CONFIRMED", "11:00-11:30", "Island Ballroom, Shangri-La Hotel", "Meeting with JPN", ["aide", "min"]),
        ("sa2", 2, "CONFIRMED", "12:00-12:30", "Island Ballroom, Shangri-La Hotel", "Meeting with AUS", ["min"]),
    ]
    await publish(client, world, story.v1)
    assert await served() == [
        ("sa", 0, "CONFIRMED", "09:00-09:30", "Room 1", "Meeting with AUS", ["min"]),
        ("sj", 3, "CONFIRMED", "09:30-10:00", "Room 1", "Meeting with JPN", ["min"]),
        ("sa2", 3, "CONFIRMED", "10:30-11:00", "Room 1", "Meeting with AUS", ["min"]),
    ]


def _shown(key: str, event: Component) -> tuple[str, int, str, str, str, str, list[str]]:
    """What a calendar app shows of one event (the meeting by its story key)."""
    span = f"{event.decoded('DTSTART'):%H:%M}-{event.decoded('DTEND'):%H:%M}"
    attendees = event.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    people = [str(a).rsplit(":", 1)[-1] for a in attendees]
    status, location, summary = str(event["STATUS"]), str(event["LOCATION"]), str(event["SUMMARY"])
    return key, sequence_of(event), status, span, location, summary, people


async def test_calendar_link_reads_back_and_rotates(client: httpx.AsyncClient, story: Story) -> None:
    world = story.world
    link_url = f"{world.base}/delegations/SGP/calendar-link"
    sgp = world.tokens["SGP"]
    first = (await client.get(link_url, headers=sgp)).json()["url"]
    assert (await client.get(link_url, headers=sgp)).json()["url"] == first
    rotated = await client.post(f"{link_url}/rotate", headers=sgp)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["url"]
    assert second != first and (await client.get(link_url, headers=sgp)).json()["url"] == second
    assert (await client.get(httpx.URL(first).path)).status_code == 404  # the old key is retired
    assert (await client.get(httpx.URL(second).path)).status_code == 200
    fresh = await client.get(httpx.URL(second).path)
    unchanged = await client.get(httpx.URL(second).path, headers={"If-None-Match": fresh.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""  # calendar apps poll: nothing to send
    await publish(client, world, story.v1)
    changed = await client.get(httpx.URL(second).path, headers={"If-None-Match": fresh.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != fresh.headers["etag"]
    assert (await client.get("/calendar/not-a-key.ics")).status_code == 404
    assert (await client.get(httpx.URL(second).path.removesuffix(".ics"))).status_code == 404

    assert (await client.get(link_url, headers=world.organiser)).status_code == 403
    assert (await client.get(link_url, headers=world.tokens["JPN"])).status_code == 404
    assert (await client.post(f"{link_url}/rotate", headers=world.tokens["JPN"])).status_code == 404
    assert (await client.get(f"{world.base}/delegations/SGP/calendar")).status_code == 401


def test_exports_keep_formula_like_titles_as_text() -> None:
    title = '=HYPERLINK("http://evil.example","open")'
    forum = ForumRecord(
        id="f", name="F", time_zone="Asia/Singapore", slot_minutes=30, days=[Day(date(2023, 6, 2), time(9), time(10))]
    )
    placement = GridPlacement("m1", "R1", local("09:00"), local("09:30"), ["AUS/min", "SGP/min"])
    context = GridContext(forum, [RoomLabel("R1", "Room 1", None)], [placement], {}, {"m1": title})
    rows = list(csv.reader(io.StringIO(list_csv(context).decode())))
    assert rows[1][:2] == ["m1", f"'{title}"]
    book = openpyxl.load_workbook(io.BytesIO(grid_xlsx(context)))
    cell = book["Meetings"]["B2"]
    assert (cell.value, cell.data_type) == (title, "s")  # text, not a formula
    assert book["2023-06-02"]["B2"].value == f"m1: AUS / SGP ({title})"


async def test_solved_version_reaches_the_feed(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> None:
    """A version made by a real solve: its grid, the delegation's feed and the organiser's CSV agree."""
    with_sgp, without_sgp = await agree(client, world, ("SGP", "AUS"), ("AUS", "JPN"))
    await start(client, world)
    assert await work_one(pool, world.forum_id) == "succeeded"
    grid = (await client.get(f"{world.base}/schedules/1", headers=world.organiser)).json()
    placed = {p["meeting"]: p for p in grid["placements"]}
    assert set(placed) == {with_sgp, without_sgp}
    await publish(client, world, 1)
    events = events_of(await client.get(f"{world.base}/delegations/SGP/calendar", headers=world.tokens["SGP"]))
    (event,) = events.values()
    assert uid_of(events, with_sgp) and event.decoded("DTSTART") == datetime.fromisoformat(placed[with_sgp]["start"])
    assert str(event["SUMMARY"]) == "Meeting with AUS" and sequence_of(event) == 0
    flat = await client.get(f"{world.base}/schedules/1/grid.csv", params={"layout": "list"}, headers=world.organiser)
    assert {row["meeting"] for row in csv.DictReader(io.StringIO(flat.text))} == set(placed)


def test_a_change_of_the_delegations_own_attendees_raises_the_sequence_and_no_one_elses() -> None:
    def grid(*people: str) -> list[GridPlacement]:
        return [GridPlacement("m1", "R1", local("09:00"), local("09:30"), sorted(people))]

    history = [
        grid("SGP/sg-min", "AUS/au-min"),
        grid("SGP/sg-min", "SGP/sg-dep", "AUS/au-min"),  # Singapore's deputy joins: its ATTENDEE lines change
        grid("SGP/sg-min", "SGP/sg-dep", "AUS/au-dep"),  # Australia's people change: not in Singapore's feed
    ]
    sequences = {
        delegation: [feed_events(history[:n], delegation, ZONE)[0].sequence for n in (1, 2, 3)]
        for delegation in ("SGP", "AUS")
    }
    assert sequences == {"SGP": [0, 1, 1], "AUS": [0, 0, 1]}
    (event,) = feed_events(history, "SGP", ZONE)
    assert event.placement.attendees == ["AUS/au-dep", "SGP/sg-dep", "SGP/sg-min"] and not event.cancelled


async def test_the_sequence_rises_whenever_what_an_event_shows_changes_and_only_then(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    """Japan leaves a meeting of three (same time and room: SUMMARY changes), then the room is
    renamed without any publication (LOCATION changes): each raises SEQUENCE once, so calendar
    apps take the new text; reading again, or a publication that leaves the event alone, does not."""
    meeting = await arrange(client, world, ["SGP", "AUS", "JPN"])
    other = await arrange(client, world, ["AUS", "JPN"])
    parties = {meeting: ("SGP", "AUS", "JPN"), other: ("AUS", "JPN")}
    three = await store_grid(pool, world, parties, {meeting: Slot("R1", "09:00")})
    without_japan = {meeting: [("AUS", "min"), ("SGP", "min")]}
    two = await store_grid(pool, world, parties, {meeting: Slot("R1", "09:00")}, without_japan)
    grid = {meeting: Slot("R1", "09:00"), other: Slot("R1", "10:00")}
    plus_other = await store_grid(pool, world, parties, grid, without_japan)
    url, sgp = f"{world.base}/delegations/SGP/calendar", world.tokens["SGP"]

    async def shown() -> tuple[str, int, str]:
        feed = await client.get(url, headers=sgp)
        event = events_of(feed)[f"{meeting}.{world.forum_id}@sidelines"]
        return str(event["SUMMARY"]), sequence_of(event), str(event["LOCATION"])

    await publish(client, world, three)
    assert await shown() == ("Meeting with AUS, JPN", 0, "Room 1")
    assert await shown() == ("Meeting with AUS, JPN", 0, "Room 1")  # read again: unchanged
    await publish(client, world, two)
    assert await shown() == ("Meeting with AUS", 1, "Room 1")
    await publish(client, world, plus_other)  # a meeting Singapore does not attend
    assert await shown() == ("Meeting with AUS", 1, "Room 1")
    room = await client.get(f"{world.base}/rooms/R1", headers=world.organiser)
    body = {**room.json(), "name": "Orchid Room"}
    renamed = await client.put(
        f"{world.base}/rooms/R1", json=body, headers={**world.organiser, "If-Match": room.headers["ETag"]}
    )
    assert renamed.status_code == 200, renamed.text
    assert await shown() == ("Meeting with AUS", 2, "Orchid Room")
    first = await client.get(url, headers=sgp)
    again = await client.get(url, headers={**sgp, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304  # the same feed: nothing rose between two reads


async def test_a_rotated_token_retires_the_calendar_link_derived_from_it(
    client: httpx.AsyncClient, story: Story
) -> None:
    """The organiser rotates a leaked delegation token: the subscribe URL, an HMAC of the old token
    that whoever held it could compute, stops working at once, not when the delegation next
    happens to read its link; the link read with the new token works."""
    world = story.world
    link_url = f"{world.base}/delegations/SGP/calendar-link"
    old = (await client.get(link_url, headers=world.tokens["SGP"])).json()["url"]
    assert (await client.get(httpx.URL(old).path)).status_code == 200
    rotated = await client.post(f"{world.base}/delegations/SGP/token", headers=world.organiser)
    assert rotated.status_code == 201, rotated.text
    assert (await client.get(httpx.URL(old).path)).status_code == 404
    new_token = {"Authorization": f"Bearer {rotated.json()['token']}"}
    new = (await client.get(link_url, headers=new_token)).json()["url"]
    assert new != old and (await client.get(httpx.URL(new).path)).status_code == 200
    assert (await client.get(httpx.URL(old).path)).status_code == 404

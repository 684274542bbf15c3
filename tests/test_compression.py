"""Response compression (api/compression.py) against the real app and PostgreSQL.

httpx asks for gzip on every call and decodes it silently, so these tests read the bytes on the
wire (`aiter_raw`) and set Accept-Encoding themselves.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import anyio
import asyncpg
import httpx
import msgspec
import pytest

from api.compression import MINIMUM_SIZE, accepts_gzip
from tests.conftest import ADMIN_TOKEN, World, bearer
from tests.grids import agree, publish, store_grid
from tests.test_api_runs import arrange, start, work_one
from tests.test_notices import live_server  # noqa: F401  (the fixture: the app on a real socket)

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shangri-la.json"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


class Wire(msgspec.Struct):
    status: int
    headers: httpx.Headers
    raw: bytes  # as sent, before any decoding

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.raw) if self.headers.get("content-encoding") == "gzip" else self.raw

    def vary(self) -> set[str]:
        return {v.strip().lower() for v in ",".join(self.headers.get_list("vary")).split(",") if v.strip()}


async def wire(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], *, no_accept_encoding: bool = False
) -> Wire:
    request = client.build_request(method, url, headers=headers)
    if no_accept_encoding:
        del request.headers["accept-encoding"]  # httpx adds one of its own otherwise
    answer = await client.send(request, stream=True)
    try:
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
    finally:
        await answer.aclose()
    return Wire(answer.status_code, answer.headers, raw)


async def imported(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """examples/shangri-la.json stored: its forum's path and organiser's headers."""
    answer = await client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    return f"/forums/{answer.json()['forum']['id']}", bearer(answer.json()["organiser_token"])


async def test_large_answers_are_gzipped_when_asked_and_decode_to_the_plain_answer(client: httpx.AsyncClient) -> None:
    base, organiser = await imported(client)
    for url, headers in [
        (f"{base}/problem", organiser),  # the grid page's largest read
        (f"{base}/requests?limit=1000", organiser),
        ("/schema", {}),  # the API reference, about 480 kB of HTML
        ("/schema/openapi.json", {}),
        ("/static/grid.js", {}),
    ]:
        plain = await wire(client, "GET", url, {**headers, **IDENTITY})
        packed = await wire(client, "GET", url, {**headers, **GZIP})
        assert plain.status == packed.status == 200, url
        assert "content-encoding" not in plain.headers and len(plain.raw) > 20_000, url
        assert packed.headers["content-encoding"] == "gzip", url
        assert packed.body == plain.raw, url  # exactly the uncompressed answer
        assert len(packed.raw) < len(plain.raw) / 3, (url, len(packed.raw), len(plain.raw))
        assert int(packed.headers["content-length"]) == len(packed.raw), url
        assert packed.headers["content-type"] == plain.headers["content-type"], url
        assert "accept-encoding" in packed.vary() and "accept-encoding" in plain.vary(), url


async def test_no_gzip_unless_the_client_accepts_it(client: httpx.AsyncClient) -> None:
    base, organiser = await imported(client)
    url = f"{base}/problem"
    reference = await wire(client, "GET", url, {**organiser, **IDENTITY})
    cases: list[tuple[dict[str, str], bool]] = [
        ({}, True),  # no Accept-Encoding at all
        ({"Accept-Encoding": "gzip;q=0, identity"}, False),
        ({"Accept-Encoding": "br, identity;q=0.5"}, False),
        ({"Accept-Encoding": "*;q=0.1, gzip;q=0"}, False),
    ]
    for asked, bare in cases:
        answer = await wire(client, "GET", url, {**organiser, **asked}, no_accept_encoding=bare)
        assert "content-encoding" not in answer.headers, asked
        assert answer.raw == reference.raw, asked
        assert "accept-encoding" in answer.vary(), asked  # a cache must not serve it to a gzip client as is
    for asked_for in ("gzip;q=0.5, identity", "*", "x-gzip", "deflate, GZIP"):
        answer = await wire(client, "GET", url, {**organiser, "Accept-Encoding": asked_for})
        assert answer.headers.get("content-encoding") == "gzip" and answer.body == reference.raw, asked_for


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZip;Q=0.001", True),
        ("x-gzip", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("*;q=0", False),
        ("br;q=1, *;q=0", False),
        ("gzip;q=nonsense", False),
        ("deflate-gzip", False),  # Litestar's own test is a substring, which this is not
    ],
)
def test_accept_encoding_is_read_by_its_weights(value: str, accepted: bool) -> None:
    assert accepts_gzip(value) is accepted


async def test_small_answers_and_small_problems_are_not_compressed(client: httpx.AsyncClient, world: World) -> None:
    for url, headers, status in [
        (world.base, world.organiser, 200),
        ("/me", world.organiser, 200),
        ("/health", {}, 200),
        (f"{world.base}/rooms/nowhere", world.organiser, 404),
        (world.base, {}, 401),
    ]:
        answer = await wire(client, "GET", url, {**headers, **GZIP})
        assert answer.status == status, url
        assert len(answer.raw) < MINIMUM_SIZE and "content-encoding" not in answer.headers, url
        if status != 200:
            assert answer.headers["content-type"] == "application/problem+json"
            assert msgspec.json.decode(answer.raw)["status"] == status


async def test_a_large_problem_details_body_is_compressed_and_reads_the_same(
    client: httpx.AsyncClient, world: World
) -> None:
    header = "delegation,id,name,rank,principal,arrival,departure,blocked,max_meetings_per_day,buffer_minutes"
    rows = [f"ATL,p{index},Nobody,official,,,,,," for index in range(40)]  # 40 rows naming no delegation
    text = "\n".join([header, *rows]) + "\n"
    url = f"{world.base}/import/participants"
    answers = []
    for asked in (IDENTITY, GZIP):
        request = client.build_request("POST", url, content=text.encode(), headers={
            **world.organiser, "Content-Type": "text/csv", **asked})  # fmt: skip
        response = await client.send(request, stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        answers.append(Wire(response.status_code, response.headers, raw))
    plain, packed = answers
    assert plain.status == packed.status == 422
    assert packed.headers["content-encoding"] == "gzip" and len(plain.raw) > MINIMUM_SIZE
    assert packed.headers["content-type"] == plain.headers["content-type"] == "application/problem+json"
    assert packed.body == plain.raw and len(msgspec.json.decode(packed.body)["errors"]) == 40


async def test_the_xlsx_download_is_not_compressed_again(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    number = await stored_version(client, world, pool)
    url = f"{world.base}/schedules/{number}/grid.xlsx"
    plain = await wire(client, "GET", url, {**world.organiser, **IDENTITY})
    packed = await wire(client, "GET", url, {**world.organiser, **GZIP})
    assert plain.status == packed.status == 200 and len(packed.raw) > MINIMUM_SIZE
    assert "content-encoding" not in packed.headers and packed.raw == plain.raw  # the same zip, byte for byte
    assert packed.raw[:2] == b"PK" and packed.headers["content-disposition"] == plain.headers["content-disposition"]


async def stored_version(client: httpx.AsyncClient, world: World, pool: asyncpg.Pool) -> int:
    from tests.grids import Slot

    ids = await agree(client, world, ("SGP", "AUS"), ("SGP", "JPN"), ("AUS", "JPN"))
    parties = dict(zip(ids, [("SGP", "AUS"), ("SGP", "JPN"), ("AUS", "JPN")], strict=True))
    slots = [Slot("R1", "09:00"), Slot("R1", "09:30"), Slot("R1", "10:00")]
    return await store_grid(pool, world, parties, dict(zip(ids, slots, strict=True)))


async def test_a_calendar_etag_is_weak_when_compressed_and_still_answers_304(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    await publish(client, world, await stored_version(client, world, pool))
    url, sgp = f"{world.base}/delegations/SGP/calendar", world.tokens["SGP"]
    plain = await wire(client, "GET", url, {**sgp, **IDENTITY})
    packed = await wire(client, "GET", url, {**sgp, **GZIP})
    assert packed.headers["content-encoding"] == "gzip" and packed.body == plain.raw
    strong = plain.headers["etag"]
    assert strong.startswith('"') and packed.headers["etag"] == f"W/{strong}"  # the gzip bytes are other bytes
    # Each client sends back the tag it holds, and gets a 304 that names that same tag: the one its
    # 200 had. A gzip client holding the strong form got it from an answer too small to compress
    # (the agenda of a delegation with few meetings); a client no longer asking for gzip would get
    # the strong form in its 200.
    weak = packed.headers["etag"]
    for asked, held, named in ((GZIP, weak, weak), (IDENTITY, strong, strong), (GZIP, strong, strong),
                               (IDENTITY, weak, strong)):  # fmt: skip
        again = await wire(client, "GET", url, {**sgp, **asked, "If-None-Match": held})
        assert again.status == 304 and again.raw == b"", (asked, held)
        assert again.headers["etag"] == named and "accept-encoding" in again.vary(), (asked, held)
    changed = await wire(client, "GET", url, {**sgp, **GZIP, "If-None-Match": 'W/"something-else"'})
    assert changed.status == 200 and changed.body == plain.raw


async def test_a_weak_etag_of_a_compressed_record_still_serves_if_match(
    client: httpx.AsyncClient, world: World
) -> None:
    days = [{"date": f"2023-06-{day:02d}", "start": "09:00:00", "end": "13:00:00"} for day in range(2, 25)]
    current = await wire(client, "GET", world.base, {**world.organiser, **IDENTITY})
    longer = await client.patch(
        world.base, json={"days": days}, headers={**world.organiser, **IDENTITY, "If-Match": current.headers["etag"]}
    )
    assert longer.status_code == 200, longer.text  # a forum of 23 days: a record over MINIMUM_SIZE
    assert not longer.headers["etag"].startswith("W/")  # strong: that answer was not compressed
    read = await wire(client, "GET", world.base, {**world.organiser, **GZIP})
    assert read.headers["content-encoding"] == "gzip" and read.headers["etag"] == f"W/{longer.headers['etag']}"
    renamed = await client.patch(
        world.base, json={"name": "Renamed"}, headers={**world.organiser, "If-Match": read.headers["etag"]}
    )
    assert renamed.status_code == 200, renamed.text  # If-Match reads the version through the W/
    stale = await client.patch(
        world.base, json={"name": "Again"}, headers={**world.organiser, "If-Match": read.headers["etag"]}
    )
    assert stale.status_code == 412, stale.text


async def test_head_says_what_get_would(client: httpx.AsyncClient) -> None:
    url = "/static/grid.js"
    got = await wire(client, "GET", url, GZIP)
    head = await wire(client, "HEAD", url, GZIP)
    assert got.headers["content-encoding"] == head.headers["content-encoding"] == "gzip"
    assert got.headers["etag"] == head.headers["etag"] and got.headers["etag"].startswith('W/"')
    assert head.raw == b"" and "content-length" not in head.headers and "accept-encoding" in head.vary()
    plain_head = await wire(client, "HEAD", url, IDENTITY)
    plain_get = await wire(client, "GET", url, IDENTITY)
    assert "content-encoding" not in plain_head.headers and plain_head.headers["etag"] == plain_get.headers["etag"]
    assert int(plain_head.headers["content-length"]) == len(plain_get.raw)


async def test_a_run_progress_stream_is_not_compressed(
    client: httpx.AsyncClient, world: World, pool: asyncpg.Pool
) -> None:
    await arrange(client, world, ["SGP", "AUS"])
    run_url = (await start(client, world)).headers["location"]
    assert await work_one(pool, world.forum_id) == "succeeded"
    answer = await wire(client, "GET", f"{run_url}/events", {**world.organiser, **GZIP})
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in answer.headers
    assert b"event: end" in answer.raw and b"event: progress" in answer.raw


async def test_a_notice_arrives_promptly_on_a_stream_asked_with_gzip(
    client: httpx.AsyncClient,
    world: World,
    pool: asyncpg.Pool,
    live_server: str,  # noqa: F811
) -> None:
    """On a real socket: a compressor that holds bytes back would keep the event in its buffer
    (the stream never ends, so nothing would flush it)."""
    number = await stored_version(client, world, pool)
    url = f"{live_server}{world.base}/delegations/SGP/events"
    async with httpx.AsyncClient(timeout=20) as live:
        with anyio.fail_after(15):
            async with live.stream("GET", url, headers={**world.tokens["SGP"], **GZIP}) as stream:
                assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
                assert "content-encoding" not in stream.headers
                await publish(client, world, number)
                published = time.monotonic()
                async for line in stream.aiter_lines():  # past the requests' request.received notices
                    if line.startswith("data:") and b"schedule.changed" in line.encode():
                        break
                waited = time.monotonic() - published
    assert msgspec.json.decode(line.split(":", 1)[1])["version"] == number
    assert waited < 3.0, waited  # the stream looks for notices every 0.5 s

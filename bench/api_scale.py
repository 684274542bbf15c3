"""The HTTP API at UNGA scale: what the pages and integrators call, timed in process.

    python bench/api_scale.py                                  # writes its section of docs/benchmarks.md
    python bench/api_scale.py --runs 3 --out /tmp/x.md
    python bench/api_scale.py --compare /work/wt/base --rounds 3   # before/after against another tree

examples/unga-week.json (190 delegations, 1,100 meetings, 20 booths, 5 days) is stored as a forum
through `POST /forums/import` (the loader of `sidelines load`), solved through the worker's own code
path (`POST .../runs`, then `api.worker.claim_next` and `process_run`: the engine in a child process,
`--time-limit` seconds), and published. Then, on an httpx client over ASGI (the app in this process, no
sockets) against a throwaway database of DATABASE_URL's server (dropped at the end):

1. `--runs` moves (`POST .../moves` on the published version, one meeting back and forth) each
   followed by publishing the new version, so the forum has a publication history;
2. `--runs` rounds of every read the pages and integrators make, one after the other in each round:
   what the grid page loads, versions compared, a move checked, a delegation's agenda and calendar,
   requests, changes, publications, the audit log by pages, the exports; then the lists the pages
   read whole, every page of them by their `Link: rel="next"` (one row each: all pages' time,
   statements and bytes together);
3. `--runs` rounds of the writes that edit the forum (a delegation's request, its acceptance, a
   recorded change), last because they make every version out of date.

Per endpoint: the median and worst wall time (client call to parsed answer), the answer's size, and
the SQL statements one call sends (asyncpg's query logger on the bench's pool only; BEGIN and COMMIT
count). `--compare TREE` runs this script `--rounds` times for TREE and for this tree, alternately,
each in a fresh process and database (PYTHONPATH picks whose `api`/`db`/`solver`), and writes both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
from run_all import machine, write_marked  # bench/ is the script's directory

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- bench/api_scale.py: start -->", "<!-- bench/api_scale.py: end -->"
EXAMPLE = REPO / "examples" / "unga-week.json"
ADMIN = secrets.token_urlsafe(16)
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

Samples = dict[str, dict[str, Any]]  # endpoint -> {"ms": [...], "statements": n, "bytes": n}


class Counter:
    """Statements sent on the bench's pool while `on` (the query logger runs on the loop after each one)."""

    def __init__(self) -> None:
        self.on, self.count = False, 0

    def __call__(self, _record: object) -> None:
        if self.on:
            self.count += 1


async def open_pool(url: str, counter: Counter) -> asyncpg.Pool:
    from db.pool import keep_session, setup_connection

    async def init(connection: asyncpg.Connection) -> None:
        await setup_connection(connection)
        connection.add_query_logger(counter)

    pool = await asyncpg.create_pool(url, min_size=2, max_size=5, init=init, reset=keep_session)
    assert pool is not None
    return pool


class Bench:
    def __init__(self, client: httpx.AsyncClient, counter: Counter) -> None:
        self.client, self.counter = client, counter
        self.samples: Samples = {}

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        token: str,
        body: object = None,
        expect: int = 200,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One timed call; its statements are counted, and kept from the last call of each endpoint."""
        self.counter.count, self.counter.on = 0, True
        clock = time.perf_counter()
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        answer = await self.client.request(method, path, json=body, headers=sent)
        if answer.headers.get("content-type", "").startswith("application/json"):
            answer.json()
        elapsed = time.perf_counter() - clock
        await asyncio.sleep(0)  # the logger's callbacks run on the next turn of the loop
        self.counter.on = False
        if answer.status_code != expect:
            raise SystemExit(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        self._keep(name, elapsed, len(answer.content))
        return answer

    async def walk(self, name: str, path: str, token: str) -> int:
        """Every page of a paged list, each read from the previous one's `Link: rel="next"`, timed
        and counted as one call (a tree without pages answers the whole list at once); the pages."""
        self.counter.count, self.counter.on = 0, True
        clock = time.perf_counter()
        url: str | None = path
        pages, size = 0, 0
        while url is not None:
            answer = await self.client.get(url, headers={"Authorization": f"Bearer {token}"})
            if answer.status_code != 200:
                raise SystemExit(f"GET {url}: {answer.status_code} {answer.text[:500]}")
            answer.json()
            pages, size = pages + 1, size + len(answer.content)
            url = answer.links.get("next", {}).get("url")
        elapsed = time.perf_counter() - clock
        await asyncio.sleep(0)
        self.counter.on = False
        self._keep(name, elapsed, size)
        return pages

    def _keep(self, name: str, elapsed: float, size: int) -> None:
        entry = self.samples.setdefault(name, {"ms": []})
        entry["ms"].append(elapsed * 1000)
        entry["statements"], entry["bytes"] = self.counter.count, size


async def setup_forum(client: httpx.AsyncClient, pool: asyncpg.Pool, time_limit: float) -> dict[str, Any]:
    """The example stored, solved by the worker's code path and published; the tokens."""
    from api.worker import claim_next, process_run

    imported = await client.post(
        "/forums/import", content=EXAMPLE.read_bytes(), headers={"Authorization": f"Bearer {ADMIN}"}
    )
    if imported.status_code != 201:
        raise SystemExit(f"import: {imported.status_code} {imported.text[:500]}")
    body = imported.json()
    forum, organiser = body["forum"]["id"], body["organiser_token"]
    auth = {"Authorization": f"Bearer {organiser}"}
    queued = await client.post(f"/forums/{forum}/runs", json={"time_limit": time_limit, "workers": 2}, headers=auth)
    assert queued.status_code == 202, queued.text
    run = await claim_next(pool, "bench")
    assert run is not None
    status = await process_run(pool, run, "bench")
    assert status == "succeeded", status
    published = await client.post(f"/forums/{forum}/schedules/1/publish", headers=auth)
    assert published.status_code == 200, published.text
    return {"forum": forum, "organiser": organiser, "delegations": body["delegation_tokens"]}


async def find_move(bench: Bench, base: str, organiser: str) -> tuple[dict[str, str], dict[str, str]]:
    """A meeting of version 1 and a free booth at its time that the move check allows: (there, back)."""
    grid = (await bench.client.get(f"{base}/schedules/1", headers={"Authorization": f"Bearer {organiser}"})).json()
    rooms = sorted({p["room"] for p in grid["placements"]})
    for placement in grid["placements"]:
        busy = {
            p["room"] for p in grid["placements"] if p["start"] < placement["end"] and placement["start"] < p["end"]
        }
        for room in (r for r in rooms if r not in busy):
            there = {"meeting": placement["meeting"], "start": placement["start"][:19], "room": room}
            check = await bench.client.post(
                f"{base}/schedules/1/moves/check", json=there, headers={"Authorization": f"Bearer {organiser}"}
            )
            if check.json()["allowed"]:
                return there, {**there, "room": placement["room"]}
    raise SystemExit("no allowed move in version 1")


def busiest(grid: dict[str, Any]) -> str:
    """The delegation attending the most meetings: the largest agenda and calendar."""
    counts: dict[str, int] = {}
    for placement in grid["placements"]:
        for delegation in {a.split("/", 1)[0] for a in placement["attendees"]}:
            counts[delegation] = counts.get(delegation, 0) + 1
    return max(sorted(counts), key=lambda d: counts[d])


async def moves_and_publications(bench: Bench, base: str, organiser: str, runs: int) -> int:
    """`runs` moves of one meeting back and forth, each published: the latest version's number."""
    there, back = await find_move(bench, base, organiser)
    published = 1
    for index in range(runs):
        body = there if index % 2 == 0 else back
        stored = await bench.call(
            "POST moves (store a move)", "POST", f"{base}/schedules/{published}/moves", organiser, body, 201
        )
        published = stored.json()["version"]
        await bench.call("POST publish", "POST", f"{base}/schedules/{published}/publish", organiser)
    return published


AGENDA_READ = "GET agenda/detailed (agenda page)"
AGENDA_POLL = "GET agenda/detailed, If-None-Match (agenda page, polled: 304)"
INBOX_READ = "GET inbox (agenda page)"
INBOX_POLL = "GET inbox, If-None-Match (agenda page, polled: 304)"
PEOPLE_READ = "GET participants (agenda page)"
PEOPLE_POLL = "GET participants, If-None-Match (agenda page, polled: 304)"
BOARD_READ = "GET requests?limit=1000, organiser (requests page, first page)"
BOARD_POLL = "GET requests?limit=1000, organiser, If-None-Match (requests page, polled: 304)"
OWN_READ = "GET requests, delegation"
OWN_POLL = "GET requests, delegation, If-None-Match (304)"
POLLED = {
    AGENDA_READ: AGENDA_POLL,
    INBOX_READ: INBOX_POLL,
    PEOPLE_READ: PEOPLE_POLL,
    BOARD_READ: BOARD_POLL,
    OWN_READ: OWN_POLL,
}


def reads(base: str, published: int, delegation: str, check: dict[str, str]) -> list[tuple[str, str, str, str, object]]:
    """(name, method, path, who, body): who is "organiser" or "delegation"."""
    mine = f"{base}/delegations/{delegation}"
    spots = f"{base}/schedules/{published}/spots?meeting={check['meeting']}&k=1"
    return [
        ("GET /me (pages)", "GET", "/me", "organiser", None),
        ("GET revision (grid page, polled)", "GET", f"{base}/revision", "organiser", None),
        ("GET forum", "GET", base, "organiser", None),
        ("GET problem (grid page)", "GET", f"{base}/problem", "organiser", None),
        ("GET requests, organiser (first page)", "GET", f"{base}/requests", "organiser", None),
        ("GET schedules (versions)", "GET", f"{base}/schedules", "organiser", None),
        ("GET schedule (the grid)", "GET", f"{base}/schedules/{published}", "organiser", None),
        ("GET diff v1 to latest", "GET", f"{base}/schedules/1/diff/{published}", "organiser", None),
        ("POST moves/check", "POST", f"{base}/schedules/{published}/moves/check", "organiser", check),
        ("GET spots?k=1 (grid page, unplaced form)", "GET", spots, "organiser", None),
        ("GET grid.csv", "GET", f"{base}/schedules/{published}/grid.csv", "organiser", None),
        ("GET grid.csv?layout=list", "GET", f"{base}/schedules/{published}/grid.csv?layout=list", "organiser", None),
        ("GET grid.xlsx", "GET", f"{base}/schedules/{published}/grid.xlsx", "organiser", None),
        ("GET publications", "GET", f"{base}/publications", "organiser", None),
        ("GET changes", "GET", f"{base}/changes", "organiser", None),
        ("GET audit (a page of 100)", "GET", f"{base}/audit?limit=100", "organiser", None),
        ("GET agenda", "GET", f"{mine}/agenda", "delegation", None),
        (AGENDA_READ, "GET", f"{mine}/agenda/detailed", "delegation", None),
        (INBOX_READ, "GET", f"{mine}/inbox", "delegation", None),
        (PEOPLE_READ, "GET", f"{mine}/participants", "delegation", None),
        ("GET calendar (.ics)", "GET", f"{mine}/calendar", "delegation", None),
        ("GET calendar-link", "GET", f"{mine}/calendar-link", "delegation", None),
        (OWN_READ, "GET", f"{base}/requests", "delegation", None),
        (BOARD_READ, "GET", f"{base}/requests?limit=1000", "organiser", None),
    ]


def walks(base: str) -> list[tuple[str, str, str]]:
    """(name, path, who): the lists a page reads whole, every page of them (as Sidelines.every does)."""
    return [
        ("GET requests, organiser, every page (1,100; as the grid page)", f"{base}/requests?limit=1000", "organiser"),
        ("GET requests, delegation, every page", f"{base}/requests?limit=1000", "delegation"),
        ("GET schedules, every page (as the grid page)", f"{base}/schedules?limit=1000", "organiser"),
    ]


async def edits(bench: Bench, base: str, forum: dict[str, Any], pair: tuple[str, str], runs: int) -> None:
    """The writes that edit the forum: a request, its acceptance, a recorded change."""
    asker, invited = pair
    tokens, organiser = forum["delegations"], forum["organiser"]
    for index in range(runs):
        body = {"parties": [asker, invited], "duration_minutes": 40, "title": f"Bench request {index}"}
        made = await bench.call("POST request (delegation)", "POST", f"{base}/requests", tokens[asker], body, 201)
        path = f"{base}/requests/{made.json()['id']}/accept"
        await bench.call("POST accept (delegation)", "POST", path, tokens[invited], {"attendees": []})
    for index in range(runs):
        day = f"2024-09-{24 + index % 5}"
        window = {"start": f"{day}T08:00:00", "end": f"{day}T08:20:00"}
        change = {"kind": "room_unavailable", "room": "booth-20", "window": window}
        await bench.call("POST changes (record a change)", "POST", f"{base}/changes", organiser, change, 201)


async def measure(
    server: str, runs: int, time_limit: float, log: Callable[[str], None]
) -> tuple[Samples, dict[str, Any]]:
    from api.app import create_app
    from db.migrate import migrate_url

    async with throwaway_database(server) as (url, postgres):
        await migrate_url(url)
        counter = Counter()
        pool = await open_pool(url, counter)
        try:
            # Litestar types ASGI scopes as TypedDicts of its own, httpx as plain mappings
            # (encode/httpx#3111): the same calls at run time, which mypy cannot match.
            app = cast("Callable[..., Awaitable[None]]", create_app(pool, admin_token=ADMIN))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                samples, about = await _rounds(Bench(client, counter), pool, runs, time_limit, log)
        finally:
            await pool.close()
    return samples, {**about, "postgres": postgres}


@contextlib.asynccontextmanager
async def throwaway_database(server: str) -> AsyncIterator[tuple[str, str]]:
    """A new database on `server` (its URL, and the server's version), dropped on the way out."""
    name = f"sidelines_api_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{server.rsplit('/', 1)[0]}/{name}", str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _rounds(
    bench: Bench, pool: asyncpg.Pool, runs: int, time_limit: float, log: Callable[[str], None]
) -> tuple[Samples, dict[str, Any]]:
    clock = time.perf_counter()
    forum = await setup_forum(bench.client, pool, time_limit)
    base, organiser = f"/forums/{forum['forum']}", forum["organiser"]
    grid = (await bench.client.get(f"{base}/schedules/1", headers={"Authorization": f"Bearer {organiser}"})).json()
    delegation = busiest(grid)
    log(f"stored, solved and published in {time.perf_counter() - clock:.1f} s; busiest delegation {delegation}")
    published = await moves_and_publications(bench, base, organiser, runs)
    check, _ = await find_move(bench, base, organiser)
    tokens = {"organiser": organiser, "delegation": forum["delegations"][delegation]}
    inbox = await bench.client.get(
        f"{base}/delegations/{delegation}/inbox", headers={"Authorization": f"Bearer {tokens['delegation']}"}
    )
    has_inbox = inbox.status_code == 200  # a tree from before it answers 404
    for _ in range(runs):
        for name, method, path, who, body in reads(base, published, delegation, check):
            if name == INBOX_READ and not has_inbox:
                continue
            answer = await bench.call(name, method, path, tokens[who], body)
            if name in POLLED:  # what an open page polls: its ETag, while unchanged (a tree with one)
                tag = answer.headers.get("etag")
                unchanged = {"If-None-Match": tag} if tag else {}
                await bench.call(POLLED[name], method, path, tokens[who], body, 304 if tag else 200, unchanged)
        for name, path, who in walks(base):
            await bench.walk(name, path, tokens[who])
    log("reads done")
    other = next(d for d in sorted(forum["delegations"]) if d != delegation)
    await edits(bench, base, forum, (delegation, other), runs)
    about = {
        "placed": len(grid["placements"]),
        "unplaced": len(grid["unplaced"]),
        "delegation": delegation,
        "agenda": sum(1 for p in grid["placements"] if any(a.startswith(f"{delegation}/") for a in p["attendees"])),
        "publications": runs + 1,
    }
    return bench.samples, about


# ---- reporting


def row(name: str, entry: dict[str, Any]) -> list[str]:
    ms = entry["ms"]
    return [name, f"{statistics.median(ms):.1f}", f"{max(ms):.1f}", str(entry["statements"]), _size(entry["bytes"])]


def _size(count: int) -> str:
    return f"{count / 1000:.1f} kB" if count >= 1000 else f"{count} B"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def merged(rounds: list[Samples]) -> Samples:
    """Every round's samples of an endpoint together; statements and size from the last round."""
    out: Samples = {}
    for samples in rounds:
        for name, entry in samples.items():
            kept = out.setdefault(name, {"ms": []})
            kept["ms"] = kept["ms"] + entry["ms"]
            kept["statements"], kept["bytes"] = entry["statements"], entry["bytes"]
    return out


def comparison(before: Samples, after: Samples) -> str:
    rows = []
    for name, entry in after.items():
        old = before.get(name)
        if old is None:
            continue
        was, now = statistics.median(old["ms"]), statistics.median(entry["ms"])
        rows.append(
            [
                name,
                f"{was:.1f}",
                f"{now:.1f}",
                f"{now / was:.2f}",
                f"{old['statements']} / {entry['statements']}",
            ]
        )
    return table(["endpoint", "before (ms)", "after (ms)", "after / before", "statements before / after"], rows)


def section(args: argparse.Namespace, samples: Samples, about: dict[str, Any], compared: str, load: str) -> str:
    rows = [row(name, entry) for name, entry in samples.items()]
    setting = ", ".join(f"{what} {value}" for what, value in machine().items() if what != "date")
    versions = ", ".join(f"{name} {_version(name)}" for name in ("litestar", "asyncpg", "httpx"))
    command = f"python bench/api_scale.py --runs {args.runs} --time-limit {args.time_limit:g}"
    if args.compare:
        command += f" --compare {args.compare} --rounds {args.rounds}"
    return f"""{START}
## The HTTP API at UNGA scale (bench/api_scale.py)

Written by `{command}`. `examples/unga-week.json` stored through `POST /forums/import`, solved by the
worker's code path ({args.time_limit:g} s: the engine in a child process), published, then moved and
published again {args.runs} times ({about["publications"]} publications); {about["placed"]} meetings placed,
{about["unplaced"]} unplaced. The delegation is the busiest, {about["delegation"]} ({about["agenda"]} meetings).
In process (httpx over ASGI, no sockets), against PostgreSQL on loopback; each endpoint called {args.runs}
times per round, the reads one after another in each of those. Times are the client's, from the call
to the parsed answer, in ms; *statements* are the SQL statements one call sends (BEGIN and COMMIT count).
The machine is shared and noisy: compare figures of one run, as ratios.

{table(["endpoint", "median (ms)", "worst (ms)", "statements", "answer"], rows)}
{compared}
_Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average (1 min) {load}; {setting}; {versions};
PostgreSQL {about["postgres"]}._
{END}
"""


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def child(tree: Path, args: argparse.Namespace, out: Path) -> Samples:
    """This script in a fresh process on `tree`'s code (its api, db and solver come first on the path)."""
    command = [sys.executable, __file__, "--child", str(out), "--runs", str(args.runs)]
    command += ["--time-limit", str(args.time_limit), "--server", args.server]
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(command, env=environment, check=True, cwd=tree)
    samples: Samples = json.loads(out.read_text())["samples"]
    return samples


def compare(args: argparse.Namespace, log: Callable[[str], None]) -> tuple[Samples, Samples, dict[str, Any]]:
    before: list[Samples] = []
    after: list[Samples] = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.rounds):
            log(f"round {index + 1}: {args.compare}")
            before.append(child(Path(args.compare), args, Path(folder) / f"before{index}.json"))
            log(f"round {index + 1}: {REPO}")
            out = Path(folder) / f"after{index}.json"
            after.append(child(REPO, args, out))
            about = json.loads(out.read_text())["about"]
    return merged(before), merged(after), about


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--runs", type=int, default=7, help="calls of each endpoint (median and worst)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds of the solve (default 5)")
    parser.add_argument("--server", default=os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    parser.add_argument("--compare", help="another tree of the repository: before/after, interleaved")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: fresh runs of each tree")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # write samples as JSON, nothing else
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per call otherwise
    if args.child:
        samples, about = asyncio.run(measure(args.server, args.runs, args.time_limit, log))
        args.child.write_text(json.dumps({"samples": samples, "about": about}))
        return 0
    load = f"{os.getloadavg()[0]:.1f}"
    compared = ""
    if args.compare:
        before, samples, about = compare(args, log)
        compared = (
            f"\nBefore and after against `{args.compare}`: {args.rounds} rounds, each tree in a fresh process and "
            f"database, alternately; medians of all rounds' calls.\n\n{comparison(before, samples)}\n"
        )
    else:
        samples, about = asyncio.run(measure(args.server, args.runs, args.time_limit, log))
    load += f" at the start, {os.getloadavg()[0]:.1f} at the end"
    write_marked(args.out, START, END, section(args, samples, about, compared, load))
    log(f"wrote the API section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

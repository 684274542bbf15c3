"""Load benchmark of the HTTP API on loopback: `python bench/load.py`.

What it measures, each beside the same server's `GET /health` (no database, no
auth: the framework's ceiling on this machine) in the same repeat:
- availability updates: `PUT .../participants/{id}` with the participant's ETag in
  If-Match, as the delegation, alternating its blocked windows (200 participants);
- request submissions: `POST .../requests` as a delegation, to another delegation;
- the grid read: `GET .../schedules/{n}` of examples/unga-week.json (1,100 meetings)
  stored through the API and solved (greedy), as the organiser.

The server is `sidelines serve --workers 0` in its own process, on a throwaway
database of DATABASE_URL's server (dropped at the end). The load generator is
Debian's `wrk` (C, one thread, a Lua script per scenario that sets the bearer token,
keeps each participant's ETag from the answers and stops after a fixed count of
answers; `-d` is only the cap), so it takes little of the two cores. Two modes:
closed loop (`--connections` requests always in flight: the capacity, req/s) and open
loop (request k sent at k/`--pace` s whatever the answers, over `--paced-connections`:
the latency at that rate, which is what the targets are about). Figures are req/s
and wrk's latency percentiles (from each request's send to its answer). Prints a markdown section; `--write` puts it in
docs/benchmarks.md (replacing an older one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec

from api.worker import stored_placements
from db.migrate import migrate_url
from db.pool import setup_connection
from db.problem import build_problem
from db.queries.schedules import insert_placements, insert_version
from solver.check import load_problem
from solver.engine import SolveOptions, solve
from solver.model import Problem

sys.path.insert(0, str(Path(__file__).parent))
from run_all import machine

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "docs" / "benchmarks.md"
SECTION = "## HTTP API under load (bench/load.py)"
ADMIN_TOKEN = secrets.token_urlsafe(16)
DELEGATIONS, PEOPLE_EACH = 40, 5
# scenario name prefix -> (req/s floor, p99 ceiling in ms); the rate targets are judged open loop
TARGETS = {"availability at": (500, 25.0), "requests at": (500, 25.0), "grid, 1 connection": (None, 50.0)}


class Scenario(msgspec.Struct):
    name: str
    script: Callable[[int], str]  # the wrk Lua script that stops after this many answers
    single: bool = False  # one connection (latency of one reader) instead of --connections
    paced: bool = False  # open loop at --pace requests/s over --paced-connections
    baseline: str = "health"  # the /health scenario run under the same concurrency


class Result(msgspec.Struct):
    answers: int  # counted up to the limit, over elapsed_us
    elapsed_us: int  # first request to the limit-th answer, or the whole run when the cap came first
    requests: int  # every request wrk completed, including those after the limit
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    non2xx: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.answers / (self.elapsed_us / 1e6) if self.elapsed_us > 0 else 0.0


class PeopleForum(msgspec.Struct):
    forum_id: str
    participants: list[dict[str, str]]  # each participant's path, delegation token and ETag
    tokens: dict[str, str]  # delegation id -> its token


class UngaForum(msgspec.Struct):
    forum_id: str
    organiser: str  # the organiser's token
    version: int  # the stored and published grid's version number
    placed: int


# ---- the server and its data


@contextmanager
def database(server_url: str) -> Iterator[str]:
    name = f"sidelines_load_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def server(url: str, port: int, log: Path) -> Iterator[str]:
    asyncio.run(migrate_url(url))
    environment = {**os.environ, "DATABASE_URL": url, "SIDELINES_ADMIN_TOKEN": ADMIN_TOKEN}
    command = [sys.executable, "-m", "api", "serve", "--port", str(port), "--workers", "0"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def created(answer: httpx.Response) -> httpx.Response:
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text}")
    return answer


def new_forum(client: httpx.Client, settings: dict[str, object]) -> tuple[str, str]:
    answer = created(client.post("/forums", json=settings, headers=bearer(ADMIN_TOKEN))).json()
    return answer["forum"]["id"], answer["organiser_token"]


FORUM = {
    "name": "Load forum",
    "time_zone": "Asia/Singapore",
    "slot_minutes": 15,
    "days": [{"date": "2023-06-02", "start": "08:00:00", "end": "18:00:00"}],
}


def people_forum(client: httpx.Client) -> PeopleForum:
    """40 delegations of 5 participants: (path, token, ETag) per participant, a token per delegation."""
    forum_id, organiser = new_forum(client, FORUM)
    participants: list[dict[str, str]] = []
    tokens: dict[str, str] = {}
    for index in range(DELEGATIONS):
        code = f"D{index:02d}"
        body = {"id": code, "name": f"Delegation {code}", "country": "ZZ"}
        token = created(client.post(f"/forums/{forum_id}/delegations", json=body, headers=bearer(organiser))).json()
        tokens[code] = token["token"]
        for person in range(PEOPLE_EACH):
            person_id = f"{code}-p{person}"
            added = {"id": person_id, "name": f"{code} person {person}", "principal": person == 0}
            path = f"/forums/{forum_id}/delegations/{code}/participants"
            answer = created(client.post(path, json=added, headers=bearer(tokens[code])))
            participants.append({"path": f"{path}/{person_id}", "token": tokens[code], "etag": answer.headers["etag"]})
    return PeopleForum(forum_id, participants, tokens)


def unga_forum(client: httpx.Client, url: str) -> UngaForum:
    """examples/unga-week.json entered through the API, solved (greedy), stored and published."""
    problem = load_problem((REPO / "examples" / "unga-week.json").read_bytes())
    forum = msgspec.to_builtins(problem.forum)
    forum_id, organiser = new_forum(client, forum)
    as_organiser = bearer(organiser)
    base = f"/forums/{forum_id}"
    for venue in problem.venues:
        created(client.post(f"{base}/venues", json=msgspec.to_builtins(venue), headers=as_organiser))
    for room in problem.rooms:
        created(client.post(f"{base}/rooms", json=msgspec.to_builtins(room), headers=as_organiser))
    owner: dict[str, str] = {}
    for delegation in problem.delegations:
        body = {"id": delegation.id, "name": delegation.name, "country": delegation.country}
        token = created(client.post(f"{base}/delegations", json=body, headers=as_organiser)).json()["token"]
        for participant in delegation.participants:
            owner[participant.id] = delegation.id
            path = f"{base}/delegations/{delegation.id}/participants"
            created(client.post(path, json=msgspec.to_builtins(participant), headers=bearer(token)))
    # After the people: a session names existing participants, as delegation/participant (422 otherwise).
    for session in problem.sessions:
        listed = [f"{owner[person]}/{person}" for person in session.participants]
        named = {**msgspec.to_builtins(session), "participants": listed}
        created(client.post(f"{base}/sessions", json=named, headers=as_organiser))
    for meeting in problem.meetings:
        attendees: dict[str, list[str]] = {}
        for person in meeting.participants:
            attendees.setdefault(owner[person], []).append(person)
        request = {
            "parties": meeting.delegations,
            "duration_minutes": meeting.duration_minutes,
            "title": meeting.title,
            "priority": meeting.priority,
            "preferred": msgspec.to_builtins(meeting.preferred),
            "attendees": attendees,
        }
        created(client.post(f"{base}/requests", json=request, headers=as_organiser))
    number, placed = asyncio.run(_solve_and_store(url, UUID(forum_id)))
    created(client.post(f"{base}/schedules/{number}/publish", headers=as_organiser))
    return UngaForum(forum_id, organiser, number, placed)


async def _solve_and_store(url: str, forum_id: UUID) -> tuple[int, int]:
    connection = await asyncpg.connect(url)
    try:
        await setup_connection(connection)
        problem = await build_problem(connection, forum_id, datetime.now(UTC))
        assert isinstance(problem, Problem)
        schedule = solve(problem, SolveOptions(method="greedy"))
        zone = ZoneInfo(problem.forum.time_zone)
        async with connection.transaction():
            version_id = await insert_version(connection, forum_id, schedule)
            await insert_placements(connection, forum_id, version_id, stored_placements(problem, schedule, zone))
        number = await connection.fetchval("SELECT number FROM schedule_versions WHERE id = $1", version_id)
        return int(number), len(schedule.placed)
    finally:
        await connection.close()


# ---- wrk scenarios (Lua)

# Every script: microsecond stamps of the first request and the last counted answer (LuaJIT's FFI,
# as Lua has no sub-second clock), "REACHED" on stdout once `limit` answers are in (the Python side
# then stops wrk with SIGINT, since wrk itself always sleeps its whole -d), and a RESULT line.
_LUA_COMMON = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_usec; }} load_timeval;
int gettimeofday(load_timeval *tv, void *tz);
]]
local clock = ffi.new("load_timeval")
local function now_us()
  ffi.C.gettimeofday(clock, nil)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_usec)
end
local limit, pace = {limit}, {pace}
answers, first_us, last_us = 0, nil, nil
if pace > 0 then
  -- open loop: request k is due at first + k/pace whatever the answers; wrk waits whole ms
  local interval_us, due_us = 1000000 / pace, nil
  delay = function()
    local now = now_us()
    due_us = (due_us or now) + interval_us
    return math.max(0, math.floor((due_us - now) / 1000))
  end
end
wrk.headers["Content-Type"] = "application/json"
local make_request = request or function() return wrk.format() end
request = function()
  if first_us == nil then first_us = now_us() end
  return make_request()
end
response = function(status, headers, body)
  {on_response}
  if answers < limit then
    answers = answers + 1
    if answers == limit then
      last_us = now_us()
      io.write("REACHED\\n")
      io.flush()
    end
  end
end
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  -- the cap came first: every answer over the whole run
  local elapsed = t:get("last_us") and (t:get("last_us") - t:get("first_us")) or summary.duration
  io.write(string.format('RESULT {{"answers":%d,"elapsed_us":%d,"requests":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"non2xx":%d,"socket_errors":%d}}\\n', t:get("answers"), elapsed,
    summary.requests, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for these characters


def common(limit: int, pace: int = 0, on_response: str = "") -> str:
    return _LUA_COMMON.format(limit=limit, pace=pace, on_response=on_response)


def lua_get(path: str, token: str | None, limit: int) -> str:
    auth = f'wrk.headers["Authorization"] = {_lua_string("Bearer " + token)}\n' if token else ""
    head = f'wrk.method = "GET"\nwrk.path = {_lua_string(path)}\n{auth}'
    return head + common(limit)


def lua_availability(participants: list[dict[str, str]], limit: int, pace: int = 0) -> str:
    """Round-robin over the participants; each answer's ETag is kept for that participant's next PUT.
    With far more participants than connections, a participant's previous PUT has always answered."""
    rows = ",\n".join(
        f"{{path={_lua_string(p['path'])}, auth={_lua_string('Bearer ' + p['token'])}, "
        f"id={_lua_string(p['path'].rsplit('/', 1)[1])}, etag={_lua_string(p['etag'])}, flip=false}}"
        for p in participants
    )
    bodies = [
        {"id": "%s", "name": "Load participant", "blocked": [window]}
        for window in (
            {"start": "2023-06-02T09:00:00", "end": "2023-06-02T10:00:00"},
            {"start": "2023-06-02T14:00:00", "end": "2023-06-02T15:30:00"},
        )
    ]
    head = f"""
local people = {{
{rows}
}}
local by_id = {{}}
for _, p in ipairs(people) do by_id[p.id] = p end
local bodies = {{ {_lua_string(json.dumps(bodies[0]))}, {_lua_string(json.dumps(bodies[1]))} }}
local next_index = 0
request = function()
  next_index = next_index % #people + 1
  local p = people[next_index]
  p.flip = not p.flip
  local body = string.format(bodies[p.flip and 1 or 2], p.id)
  local headers = {{["Authorization"] = p.auth, ["If-Match"] = p.etag, ["Content-Type"] = "application/json"}}
  return wrk.format("PUT", p.path, headers, body)
end
"""
    on_response = """local id = body:match('"id":"([^"]+)"')
  local etag = headers["etag"] or headers["ETag"]
  if id and by_id[id] and etag then by_id[id].etag = etag end"""
    return head + common(limit, pace, on_response)


def lua_requests(forum_id: str, tokens: dict[str, str], limit: int, pace: int = 0) -> str:
    """Each delegation in turn asks the next one for a 30-minute meeting."""
    codes = sorted(tokens)
    rows = ",\n".join(
        f"{{auth={_lua_string('Bearer ' + tokens[code])}, "
        f"body={_lua_string(json.dumps({'parties': [code, codes[(i + 1) % len(codes)]], 'duration_minutes': 30}))}}}"
        for i, code in enumerate(codes)
    )
    head = f"""
local askers = {{
{rows}
}}
local path = {_lua_string(f"/forums/{forum_id}/requests")}
local next_index = 0
request = function()
  next_index = next_index % #askers + 1
  local a = askers[next_index]
  return wrk.format("POST", path, {{["Authorization"] = a.auth, ["Content-Type"] = "application/json"}}, a.body)
end
"""
    return head + common(limit, pace)


def run_wrk(base: str, scenario: Scenario, count: int, connections: int, cap_seconds: int, scripts: Path) -> Result:
    script = scripts / (re.sub(r"\W+", "-", scenario.name) + ".lua")
    script.write_text(scenario.script(count))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{cap_seconds}s", "--timeout", "5s", "-s", str(script), base]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            output.append(line)
            if line.strip() == "REACHED":
                process.send_signal(signal.SIGINT)  # wrk prints its summary and exits
        if process.wait(timeout=cap_seconds + 60) != 0:
            raise RuntimeError(f"wrk failed:\n{''.join(output)}")
    found = re.search(r"^RESULT (.*)$", "".join(output), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{''.join(output)}")
    return msgspec.json.decode(found[1], type=Result)


# ---- the run and its report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench/load.py needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    server_url = os.environ.get("DATABASE_URL", "").strip()
    if not server_url:
        print("set DATABASE_URL to a PostgreSQL server where a throwaway database may be created", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch, database(server_url) as url:
        scripts = Path(scratch)
        with server(url, args.port, scripts / "server.log") as base, httpx.Client(base_url=base, timeout=30) as client:
            print("setting up the forums...", file=sys.stderr)
            started = time.monotonic()
            people, unga = people_forum(client), unga_forum(client, url)
            print(f"  done in {time.monotonic() - started:.0f} s; {unga.placed} meetings placed", file=sys.stderr)
            scenarios = [
                scenario
                for scenario in build_scenarios(client, people, unga, args.pace)
                if not args.only or scenario.name.startswith(("health", *args.only))
            ]
            results = measure(base, scenarios, args, scripts)
    section = report(results, scenarios, args, unga.placed)
    print(section)
    if args.write:
        write_section(section)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of every scenario (default 3); medians quoted")
    parser.add_argument("--count", type=int, default=5000, help="answers per scenario and run (default 5000)")
    parser.add_argument("--grid-count", type=int, default=1000, help="answers per grid run (default 1000)")
    parser.add_argument("--cap", type=int, default=30, help="seconds at most per scenario run (default 30)")
    parser.add_argument("--connections", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--pace", type=int, default=520, help="open-loop rate of the paced scenarios (default 520/s)")
    parser.add_argument(
        "--paced-connections", type=int, default=32, help="connections of the paced scenarios (default 32)"
    )
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only scenarios whose names start so (and /health)")
    parser.add_argument("--note", default="", help="a line about the conditions, added to the section")
    parser.add_argument("--write", action="store_true", help=f"put the section in {BENCHMARKS.relative_to(REPO)}")
    args = parser.parse_args(argv)
    if args.port == 0:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    return args


def build_scenarios(client: httpx.Client, people: PeopleForum, unga: UngaForum, pace: int) -> list[Scenario]:
    grid_path = f"/forums/{unga.forum_id}/schedules/{unga.version}"

    def availability(count: int, pace: int = 0) -> str:
        # every run starts from the ETags the previous runs left
        participants = [
            {**p, "etag": created(client.get(p["path"], headers=bearer(p["token"]))).headers["etag"]}
            for p in people.participants
        ]
        return lua_availability(participants, count, pace)

    def requests(count: int, pace: int = 0) -> str:
        return lua_requests(people.forum_id, people.tokens, count, pace)

    return [
        Scenario("health", lambda count: lua_get("/health", None, count)),
        Scenario("availability", availability),
        Scenario("requests", requests),
        Scenario(f"availability at {pace}/s", lambda count: availability(count, pace), paced=True),
        Scenario(f"requests at {pace}/s", lambda count: requests(count, pace), paced=True),
        Scenario(
            "health, 1 connection",
            lambda count: lua_get("/health", None, count),
            single=True,
            baseline="health, 1 connection",
        ),
        Scenario(
            "grid, 1 connection",
            lambda count: lua_get(grid_path, unga.organiser, count),
            single=True,
            baseline="health, 1 connection",
        ),
        Scenario("grid", lambda count: lua_get(grid_path, unga.organiser, count)),
    ]


def measure(base: str, scenarios: list[Scenario], args: argparse.Namespace, scripts: Path) -> dict[str, list[Result]]:
    results: dict[str, list[Result]] = {scenario.name: [] for scenario in scenarios}
    for scenario in scenarios:  # warm-up: connections, prepared statements, caches
        run_wrk(base, scenario, 200, connections_of(scenario, args), args.cap, scripts)
    for repeat in range(args.repeats):
        for scenario in scenarios:
            count = args.grid_count if scenario.name.startswith("grid") else args.count
            connections = connections_of(scenario, args)
            result = run_wrk(base, scenario, count, connections, args.cap, scripts)
            results[scenario.name].append(result)
            print(
                f"  run {repeat + 1} {scenario.name:12} {result.rate:7.0f} req/s  p50 {result.p50_us / 1000:6.1f} ms"
                f"  p99 {result.p99_us / 1000:6.1f} ms  non-2xx {result.non2xx}",
                file=sys.stderr,
            )
    return results


def connections_of(scenario: Scenario, args: argparse.Namespace) -> int:
    return 1 if scenario.single else args.paced_connections if scenario.paced else args.connections


def report(results: dict[str, list[Result]], scenarios: list[Scenario], args: argparse.Namespace, placed: int) -> str:
    facts = machine() | {
        "litestar": version("litestar"),
        "uvicorn": version("uvicorn"),
        "asyncpg": version("asyncpg"),
        "PostgreSQL": _server_version(),
        "wrk": _wrk_version(),
    }
    rows = ["| what | value |", "| --- | --- |", *(f"| {key} | {value} |" for key, value in facts.items())]
    lines = [
        SECTION,
        "",
        f"Written by `python bench/load.py --repeats {args.repeats} --connections {args.connections}`; "
        "a load benchmark, not a timed test. The server (`sidelines serve --workers 0`, one process), "
        "PostgreSQL and the load generator (`wrk`, one thread, Lua scripts for tokens and If-Match) share the "
        "machine's cores on loopback; other processes of this session shared them too, so figures move from "
        "run to run: medians of the repeats are quoted, and each scenario's ratio to `GET /health` "
        "(the framework's ceiling: no database, no auth) is taken within the same repeat. Closed loop: "
        f"{args.connections} requests in flight (1 for the `1 connection` rows); open loop (`at N/s` rows): "
        f"request k sent at k/N s over {args.paced_connections} connections, so latency is measured at that "
        f"rate. Each run stops after a fixed count of answers ({args.count}; grid {args.grid_count}) "
        f"or {args.cap} s.",
        "",
        *rows,
        "",
        f"The grid is examples/unga-week.json entered through the API ({placed} of 1,100 meetings placed by the "
        "greedy solve, stored, published), read whole by its organiser.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | req/s vs /health | p99 vs /health | non-2xx | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scenario in scenarios:
        name, runs, health = scenario.name, results[scenario.name], results[scenario.baseline]
        rate_ratio = statistics.median(run.rate / base.rate for run, base in zip(runs, health, strict=True))
        p99_ratio = statistics.median(run.p99_us / base.p99_us for run, base in zip(runs, health, strict=True))
        rate = statistics.median(run.rate for run in runs)
        p50 = statistics.median(run.p50_us for run in runs) / 1000
        p99 = statistics.median(run.p99_us for run in runs) / 1000
        target, met = _target(name, rate, p99)
        lines.append(
            f"| {name} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {rate_ratio:.2f} | {p99_ratio:.1f} | "
            f"{sum(run.non2xx + run.socket_errors for run in runs)} | {target} | {met} |"
        )
    if args.note:
        lines += ["", args.note]
    return "\n".join(lines) + "\n"


def _target(name: str, rate: float, p99: float) -> tuple[str, str]:
    prefix = next((prefix for prefix in TARGETS if name.startswith(prefix)), None)
    if prefix is None:
        return "-", "-"
    floor, ceiling = TARGETS[prefix]
    met = p99 < ceiling and (floor is None or rate >= floor)
    target = f"p99 < {ceiling:g} ms" + ("" if floor is None else f" at >= {floor} req/s")
    return target, "yes" if met else "no"


def _server_version() -> str:
    async def ask() -> str:
        connection = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            return str(await connection.fetchval("SHOW server_version")).split()[0]
        finally:
            await connection.close()

    return asyncio.run(ask())


def _wrk_version() -> str:
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    found = re.search(r"wrk (\S+)", output)
    return found[1] if found else "unknown"


def write_section(section: str) -> None:
    text = BENCHMARKS.read_text()
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    BENCHMARKS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

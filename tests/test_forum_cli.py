"""`sidelines forum ...` (api/remote.py) as an organiser runs it: real `sidelines` processes
against a real `sidelines serve` (with its solve worker) on a database of the test's own, with
real solves of a small example."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import ADMIN_TOKEN, bearer
from tests.processes import Isolated, free_port, serving

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "staff-talks.json"  # 27 meetings: solved in a second or two
Result = tuple[int, str, str]


def sidelines(
    server: str, token: str | None, *args: str, cwd: Path | None = None, input_text: str | None = None
) -> Result:
    """`sidelines ARGS` of this tree, as a process, with SIDELINES set to `server` and SIDELINES_TOKEN to `token`."""
    environment = {key: value for key, value in os.environ.items() if key not in {"SIDELINES", "SIDELINES_TOKEN"}}
    environment |= {"SIDELINES": server, "PYTHONPATH": str(ROOT)}
    if token is not None:
        environment["SIDELINES_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "api", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        input=input_text,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


async def imported(client: httpx.AsyncClient) -> tuple[str, str]:
    """A forum of the example: (its id, its organiser token)."""
    answer = await client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=bearer(ADMIN_TOKEN))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["forum"]["id"], body["organiser_token"]


def base_of(client: httpx.AsyncClient) -> str:
    return str(client.base_url).rstrip("/")


async def test_solve_wait_publish_export_as_the_api_answers(isolated: Isolated, tmp_path: Path) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server, organiser = base_of(client), bearer(token)

        code, out, err = sidelines(server, token, "forum", "solve", forum, "--time-limit", "2", "--wait")
        assert code == 0, err
        assert "run 1 queued" in err and "run 1 succeeded, version 1" in out
        grid = (await client.get(f"/forums/{forum}/schedules/1", headers=organiser)).json()
        assert f"placed {len(grid['placements'])}, unplaced {len(grid['unplaced'])}" in out

        # the token from a file instead (the one `sidelines load --json` writes), with --json
        tokens = tmp_path / "forum-tokens.json"
        tokens.write_text(json.dumps({"forum_id": forum, "organiser_token": token}))
        code, out, err = sidelines(server, None, "forum", "publish", forum, "1", "--token-file", str(tokens), "--json")
        assert code == 0, err
        assert json.loads(out)["published"] is True
        read = (await client.get(f"/forums/{forum}/schedules/1", headers=organiser)).json()
        assert read["published"] is True

        for export, layout, query in (("csv", "list", "?layout=list"), ("csv", "grid", ""), ("xlsx", "grid", "")):
            out_file = tmp_path / f"grid-{layout}.{export}"
            args = ["forum", "export", forum, "1", "--out", str(out_file)]  # the workbook's format from its suffix
            options = ["--format", "csv", "--layout", layout] if export == "csv" else []
            code, _, err = sidelines(server, token, *args, *options)
            assert code == 0, err
            answer = await client.get(f"/forums/{forum}/schedules/1/grid.{export}{query}", headers=organiser)
            if export == "csv":
                assert out_file.read_bytes() == answer.content
            else:  # a workbook's zip carries its writing time: compare the cells
                assert _cells(out_file.read_bytes()) == _cells(answer.content)

        code, out, err = sidelines(server, token, "forum", "status", forum)
        assert code == 0, err
        assert "latest run: run 1 succeeded, version 1" in out and "published version: 1" in out

        # a change, then a re-solve from the published version
        change = tmp_path / "change.json"
        cancelled = grid["placements"][0]["meeting"]
        change.write_text(json.dumps({"kind": "meeting_cancelled", "meeting": cancelled}))
        code, out, err = sidelines(server, token, "forum", "change", forum, str(change))
        assert code == 0, err
        assert out.startswith("change 1: ") and f"removes: {cancelled}" in out
        code, out, err = sidelines(server, token, "forum", "solve", forum, "--resolve", "--wait", "--json")
        assert code == 0, err
        run = json.loads(out)
        assert run["status"] == "succeeded" and run["version"] == 2 and run["id"] == 2
        assert [move["meeting"] for move in run["moves"]] == [cancelled]

        # the forum's runs as the API lists them, and the latest in the status
        code, out, err = sidelines(server, token, "forum", "runs", forum, "--json")
        listed = (await client.get(f"/forums/{forum}/runs", headers=organiser)).json()
        assert code == 0 and json.loads(out) == listed and [run["id"] for run in listed] == [1, 2], err
        code, out, err = sidelines(server, token, "forum", "runs", forum)
        assert code == 0, err
        assert [line.split()[:4] for line in out.splitlines()[1:]] == [
            ["1", "succeeded", "1", "solve"],
            ["2", "succeeded", "2", "re-solve"],
        ]
        code, out, err = sidelines(server, token, "forum", "status", forum)
        assert code == 0 and "latest run: run 2 succeeded, version 2" in out, err

        # the diff of the two versions as a table, and as the API answers it
        diff = (await client.get(f"/forums/{forum}/schedules/1/diff/2", headers=organiser)).json()
        code, out, err = sidelines(server, token, "forum", "diff", forum, "1", "2", "--json")
        assert code == 0 and json.loads(out) == diff, err
        code, out, err = sidelines(server, token, "forum", "diff", forum, "1", "2")
        assert code == 0, err
        counts = [len(diff[key]) for key in ("moved", "added", "removed", "unchanged")]
        assert out.splitlines()[0] == "version 1 to 2: {} moved, {} added, {} removed, {} unchanged".format(*counts)
        assert [placement["meeting"] for placement in diff["removed"]] == [cancelled]
        gone = diff["removed"][0]
        row = next(line for line in out.splitlines() if line.startswith(f"{cancelled} "))
        # the room by its name, as `forum change` says rooms (the diff's answer holds only its id)
        rooms = (await client.get(f"/forums/{forum}/rooms?limit=1000", headers=organiser)).json()
        room = next(room for room in rooms if room["id"] == gone["room"])
        spot = f"{gone['start'][:10]} {gone['start'][11:16]}-{gone['end'][11:16]} {room['name']}"
        assert row.split()[1] == "removed" and f"  {spot}  " in row and row.rstrip().endswith("-"), out
        assert re.search(rf"\b{re.escape(gone['room'])}\b", out) is None, out
        # a name two rooms share is said with the id
        other = next(other for other in rooms if other["id"] != room["id"])
        read = await client.get(f"/forums/{forum}/rooms/{room['id']}", headers=organiser)
        renamed = read.json() | {"name": other["name"]}
        put = await client.put(
            f"/forums/{forum}/rooms/{room['id']}", json=renamed, headers=organiser | {"If-Match": read.headers["ETag"]}
        )
        assert put.status_code == 200, put.text
        code, out, err = sidelines(server, token, "forum", "diff", forum, "1", "2")
        assert code == 0 and f" {other['name']} ({room['id']})  " in out, err
        code, _, err = sidelines(server, token, "forum", "diff", forum, "1", "9")
        assert code == 2 and err == "sidelines: error: B: no schedule version 9\n"

        # the audit log, whole or after an entry
        entries = (await client.get(f"/forums/{forum}/audit?limit=1000", headers=organiser)).json()
        code, out, err = sidelines(server, token, "forum", "audit", forum, "--json")
        assert code == 0 and json.loads(out) == entries, err
        code, out, err = sidelines(server, token, "forum", "audit", forum, "--after", str(entries[-3]["id"]))
        assert code == 0, err
        assert [line.split()[0] for line in out.splitlines()] == [str(entry["id"]) for entry in entries[-2:]]
        last = entries[-1]
        assert out.splitlines()[-1].split()[3:] == [last["actor"], last["action"], last["entity"], last["entity_id"]]


def _cells(workbook: bytes) -> list[list[list[Any]]]:
    from io import BytesIO

    book = openpyxl.load_workbook(BytesIO(workbook))
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]


async def test_refusals_are_said_with_their_detail_and_exit_2(isolated: Isolated, tmp_path: Path) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)

        code, out, err = sidelines(server, "not-a-token", "forum", "status", forum)
        assert (code, out) == (2, "")
        assert err == "sidelines: error: token (SIDELINES_TOKEN): unknown or revoked token\n"
        bad = tmp_path / "token"
        bad.write_text("wrong\n")
        code, _, err = sidelines(server, None, "forum", "publish", forum, "1", "--token-file", str(bad))
        assert code == 2 and err == f"sidelines: error: token (--token-file {bad}): unknown or revoked token\n"

        unknown = "00000000-0000-0000-0000-000000000000"
        code, _, err = sidelines(server, token, "forum", "solve", unknown)
        assert code == 2 and err == f"sidelines: error: FORUM_ID: no forum {unknown}\n"
        code, _, err = sidelines(server, token, "forum", "export", forum, "7", "--format", "csv", "--out", "x.csv")
        assert code == 2 and err == "sidelines: error: VERSION: no schedule version 7\n"
        code, _, err = sidelines(server, token, "forum", "export", forum, "1", "--out", str(tmp_path / "grid.txt"))
        assert code == 2 and err.startswith("sidelines: error: --format: csv or xlsx: "), err

        # a field the server names: a change of an unknown kind of meeting
        change = tmp_path / "change.json"
        change.write_text(json.dumps({"kind": "meeting_cancelled", "meeting": "no-such-meeting"}))
        code, _, err = sidelines(server, token, "forum", "change", forum, str(change))
        assert code == 2 and err.startswith(f"sidelines: error: {change}: meeting: "), err

        # a 409: a closed forum takes no run
        code, out, err = sidelines(server, token, "forum", "close", forum)
        closed_at = (await client.get(f"/forums/{forum}", headers=bearer(token))).json()["closed_at"]
        assert code == 0 and closed_at is not None and out == f"forum {forum} closed at {closed_at}\n", err
        code, _, err = sidelines(server, token, "forum", "solve", forum, "--wait")
        assert code == 2
        assert err.startswith(f"sidelines: error: POST /forums/{forum}/runs: ") and "closed" in err, err
        # reading still works on a closed forum
        code, out, err = sidelines(server, token, "forum", "status", forum)
        assert code == 0 and "closed at " in out, err
        code, out, err = sidelines(server, token, "forum", "reopen", forum, "--json")
        assert code == 0 and json.loads(out)["closed_at"] is None, err
        assert (await client.get(f"/forums/{forum}", headers=bearer(token))).json()["closed_at"] is None
        code, _, err = sidelines(server, token, "forum", "audit", forum, "--after", "x")
        assert code == 2 and "--after: must be an entry number, 0 or more, not 'x'" in err, err


async def test_a_stale_version_is_refused_with_the_edits_it_lacks(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        code, _, err = sidelines(server, token, "forum", "solve", forum, "--time-limit", "1", "--wait")
        assert code == 0, err
        room = {"id": "late-room", "name": "Late room", "seats": 4}
        assert (await client.post(f"/forums/{forum}/rooms", json=room, headers=bearer(token))).status_code == 201
        code, out, err = sidelines(server, token, "forum", "publish", forum, "1")
        detail = (await client.post(f"/forums/{forum}/schedules/1/publish", headers=bearer(token))).json()["detail"]
        assert (code, out) == (2, "")
        assert err == f"sidelines: error: POST /forums/{forum}/schedules/1/publish: {detail}\n"


def test_an_unreachable_server_is_said_without_a_traceback() -> None:
    server = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    code, out, err = sidelines(server, "token", "forum", "status", "00000000-0000-0000-0000-000000000000")
    assert (code, out) == (3, "")
    assert err.startswith(f"sidelines: error: {server}: cannot reach the server (") and err.endswith("try again\n")
    code, _, err = sidelines("", "token", "forum", "status", "x")
    assert code == 2 and err == "sidelines: error: --server: no server: pass --server URL or set SIDELINES\n"
    code, _, err = sidelines("http://[::1", "token", "forum", "status", "x")
    assert code == 2 and err.startswith("sidelines: error: --server: 'http://[::1' is not an address: "), err


class _Unavailable(BaseHTTPRequestHandler):
    """A server that answers every request as the API does when its database is away."""

    def do_GET(self) -> None:
        body = json.dumps({"type": "urn:sidelines:problem:service-unavailable", "title": "Service Unavailable",
                           "status": 503, "detail": "the database cannot be reached"}).encode()  # fmt: skip
        self.send_response(503)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Retry-After", "120")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_503_says_when_to_try_again() -> None:
    """The API's 503 (docs/api.md, "Errors"), from a stand-in server: the real one answers it
    only while its database is away, which a test cannot time. A Retry-After past the bound
    of the reads sent again (remote.RETRY_SECONDS) is said at once."""
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    try:
        server = f"http://127.0.0.1:{stand_in.server_address[1]}"
        code, out, err = sidelines(server, "token", "forum", "status", "f")
    finally:
        stand_in.shutdown()
        stand_in.server_close()
    assert (code, out) == (3, "")
    assert err == ("sidelines: error: GET /forums/f: the database cannot be reached (HTTP 503); try again in 120 s\n")


def test_a_malformed_token_is_refused_without_being_printed(tmp_path: Path) -> None:
    """A token no header can carry (a file of two lines, a control character, a non-ASCII one)
    was sent anyway: h11 refused the header quoting it ("Illegal header value b'Bearer ...'"),
    printed as the reason the server could not be reached; a non-ASCII one was a traceback.
    It is refused (exit 2) naming where it came from, never shown."""
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)  # listening: h11 checks at sending
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    two_lines = tmp_path / "tokens"
    two_lines.write_text("old-SECRET-4f1d\nnew-SECRET-9a2c\n")
    try:
        server = f"http://127.0.0.1:{stand_in.server_address[1]}"
        from_file = sidelines(server, None, "forum", "status", "f", "--token-file", str(two_lines))
        control = sidelines(server, "tok-SECRET-\x7f-b7", "forum", "status", "f", "--json")
        carriage = sidelines(server, "tok-SECRET-\r-c8", "forum", "status", "f")
        accented = sidelines(server, "tok-SECRET-\u00e9-d9", "forum", "status", "f")
    finally:
        stand_in.shutdown()
        stand_in.server_close()
    for (code, out, err), source in [
        (from_file, f"--token-file {two_lines}"),
        (control, "SIDELINES_TOKEN"),
        (carriage, "SIDELINES_TOKEN"),
        (accented, "SIDELINES_TOKEN"),
    ]:
        assert (code, out) == (2, ""), (code, out, err)
        assert "SECRET" not in err and err.startswith(f"sidelines: error: token ({source}): "), err


class Proxy:
    """A stand-in between the command and the real server: it forwards each request, answers 503
    (Retry-After 1, as the API does while its database is away) to the next `busy_reads` GETs and
    to every POST while `busy_posts`, and can be stopped and started again on its port, as a
    server restarting or a network dropping out is to the command."""

    def __init__(self, target: str) -> None:
        self.target, self.busy_reads, self.busy_posts = target, 0, False
        self.seen: list[str] = []  # "METHOD path" of each request that reached the proxy
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.forward()

            def do_POST(self) -> None:
                self.forward()

            def forward(self) -> None:
                proxy.seen.append(f"{self.command} {self.path}")
                content = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                busy = proxy.busy_posts if self.command == "POST" else proxy.busy_reads > 0
                if busy:
                    proxy.busy_reads -= self.command == "GET"
                    detail = "the database cannot be reached"
                    body = json.dumps({"type": "urn:sidelines:problem:service-unavailable", "status": 503,
                                       "title": "Service Unavailable", "detail": detail})  # fmt: skip
                    self.answer(503, body.encode(), {"Content-Type": "application/problem+json", "Retry-After": "1"})
                    return
                passed = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() in ("authorization", "content-type")
                }
                answer = httpx.request(
                    self.command, proxy.target + self.path, content=content, headers=passed, timeout=30
                )
                kept = {
                    key: value
                    for key, value in answer.headers.items()
                    if key.lower() in ("content-type", "link", "location", "retry-after")
                }
                self.answer(answer.status_code, answer.content, kept)

            def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Forward)  # one connection per request
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


async def test_reads_answered_503_are_sent_again_and_a_post_never(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        proxy = Proxy(base_of(client))
        try:
            proxy.busy_reads = 2
            code, out, err = sidelines(proxy.url, token, "forum", "status", forum)
            assert code == 0 and out.startswith(f"forum {forum}: "), err
            said = f"sidelines: GET /forums/{forum}: the server is busy (HTTP 503); reading again in 1 s\n"
            assert err == said * 2
            assert proxy.seen[:3] == [f"GET /forums/{forum}"] * 3

            proxy.busy_posts, proxy.seen = True, []
            code, out, err = sidelines(proxy.url, token, "forum", "solve", forum, "--wait")
            assert (code, out) == (3, "")
            assert err == (
                f"sidelines: error: POST /forums/{forum}/runs: the database cannot be reached (HTTP 503); "
                "try again in 1 s\n"
            )
            assert proxy.seen == [f"POST /forums/{forum}/runs"]  # sent once: it may have been applied
        finally:
            proxy.stop()


async def test_solve_wait_rides_out_a_lost_server(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        proxy = Proxy(base_of(client))
        environment = {**os.environ, "SIDELINES": proxy.url, "SIDELINES_TOKEN": token, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "forum", "solve", forum, "--time-limit", "8", "--wait"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            started = time.monotonic()
            while "running" not in (line := process.stderr.readline()):  # the search has begun
                assert line and time.monotonic() - started < 60, "no progress line"
            proxy.stop()  # the server is gone for the command ...
            while (lost := process.stderr.readline()).startswith("run 1 running "):  # read before the stop
                pass
            assert lost.startswith("run 1: lost the server (") and lost.endswith("reconnecting for up to 60 s\n")
            time.sleep(2)
            proxy.start()  # ... and back, while the run goes on
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            proxy.stop()
        assert "Traceback" not in err, err
        assert process.returncode == 0, err
        assert "run 1: reconnected after " in err
        assert "run 1 succeeded, version 1" in out
        run = (await client.get(f"/forums/{forum}/runs/1", headers=bearer(token))).json()
        assert run["status"] == "succeeded" and run["version"] == 1


async def test_ctrl_c_while_waiting_cancels_the_run_and_keeps_its_grid(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        environment = {**os.environ, "SIDELINES": base_of(client), "SIDELINES_TOKEN": token, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "forum", "solve", forum, "--time-limit", "60", "--wait"],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        started = time.monotonic()
        # A progress line with an objective: the search holds a grid, which the cancel keeps. A bare
        # "run 1 running" comes before the first grid, and a cancel then ends with no version.
        while not re.search(r"running .* grids? found", line := process.stderr.readline()):
            assert line and time.monotonic() - started < 60, "no progress line with a grid"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert process.returncode == 0 and "cancelling run 1" in err
        assert "run 1 cancelled, version 1" in out
        run = (await client.get(f"/forums/{forum}/runs/1", headers=bearer(token))).json()
        assert run["status"] == "cancelled" and run["version"] == 1 and run["cancel_requested"] is True


async def _solved(client: httpx.AsyncClient, token: str, forum: str) -> dict[str, Any]:
    """Version 1 of the forum, solved by the command line; its grid as the API answers it."""
    code, _, err = sidelines(base_of(client), token, "forum", "solve", forum, "--time-limit", "1", "--wait")
    assert code == 0, err
    return dict((await client.get(f"/forums/{forum}/schedules/1", headers=bearer(token))).json())


async def _allowed_move(client: httpx.AsyncClient, token: str, forum: str, grid: dict[str, Any]) -> dict[str, str]:
    """A move of version 1 the server allows, to somewhere else than where the meeting is."""
    rooms = sorted({placement["room"] for placement in grid["placements"]})
    for placement in grid["placements"]:
        for day in ("2024-03-13", "2024-03-14"):
            for hour in ("16:00", "16:30", "11:00"):
                for room in rooms:
                    body = {"meeting": placement["meeting"], "start": f"{day}T{hour}", "room": room}
                    check = await client.post(
                        f"/forums/{forum}/schedules/1/moves/check", json=body, headers=bearer(token)
                    )
                    answer = check.json()
                    if check.status_code == 200 and answer["allowed"] and answer["after"] != answer["before"]:
                        return body
    raise AssertionError("no allowed move found")


async def test_move_checks_and_stores_a_move_and_says_a_refused_one(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        grid = await _solved(client, token, forum)

        # a move onto another meeting's room and time: the check says what it breaks, storing it is refused
        first, second = grid["placements"][0], grid["placements"][1]
        clash = ["--start", first["start"][:16], "--room", first["room"]]
        code, out, err = sidelines(server, token, "forum", "move", forum, "1", second["meeting"], *clash, "--check")
        body = {"meeting": second["meeting"], "start": first["start"][:16], "room": first["room"]}
        check = (await client.post(f"/forums/{forum}/schedules/1/moves/check", json=body, headers=bearer(token))).json()
        assert code == 0 and not check["allowed"], err
        assert out.splitlines()[0].endswith(": blocked"), out
        broken = [f"  breaks {violation['rule']}: {violation['message']}" for violation in check["blocking"]]
        assert broken and all(line in out.splitlines() for line in broken), out
        code, out, err = sidelines(server, token, "forum", "move", forum, "1", second["meeting"], *clash)
        assert (code, out) == (2, "")
        assert err.splitlines() == [f"sidelines: error: rule:{v['rule']}: {v['message']}" for v in check["blocking"]]

        # an allowed move: the check changes nothing, the move stores version 2
        move = await _allowed_move(client, token, forum, grid)
        where = [move["meeting"], "--start", move["start"], "--room", move["room"]]
        code, out, err = sidelines(server, token, "forum", "move", forum, "1", *where, "--check", "--json")
        assert code == 0 and json.loads(out)["allowed"] is True, err
        versions = (await client.get(f"/forums/{forum}/schedules", headers=bearer(token))).json()
        assert [version["number"] for version in versions] == [1]
        code, out, err = sidelines(server, token, "forum", "move", forum, "1", *where)
        assert code == 0, err
        assert out.splitlines()[0] == "version 2 stored (from version 1)"
        moved = (await client.get(f"/forums/{forum}/schedules/2", headers=bearer(token))).json()
        placed = next(p for p in moved["placements"] if p["meeting"] == move["meeting"])
        assert (placed["start"][:16], placed["room"]) == (move["start"], move["room"])

        # refusals name the command's own argument
        code, _, err = sidelines(server, token, "forum", "move", forum, "1", *where[:3], "--room", "no-room")
        assert code == 2 and err == "sidelines: error: --room: no room no-room\n", err
        code, _, err = sidelines(server, token, "forum", "move", forum, "1", "nope", *where[1:])
        assert code == 2 and err.startswith("sidelines: error: MEETING: no meeting nope"), err
        code, _, err = sidelines(server, token, "forum", "move", forum, "1", where[0], "--start", "soon", *where[3:])
        assert code == 2 and err.startswith("sidelines: error: --start: "), err
        code, _, err = sidelines(server, token, "forum", "move", forum, "9", *where)
        assert code == 2 and err == "sidelines: error: VERSION: no schedule version 9\n", err


async def test_fit_prints_the_options_as_a_table(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        grid = await _solved(client, token, forum)
        meeting = grid["placements"][-1]["meeting"]
        code, _, err = sidelines(server, token, "forum", "fit", forum, meeting)
        assert code == 2 and err.startswith(f"sidelines: error: GET /forums/{forum}/fit: nothing is published"), err
        assert sidelines(server, token, "forum", "publish", forum, "1")[0] == 0

        options = (await client.get(f"/forums/{forum}/fit?meeting={meeting}&k=3", headers=bearer(token))).json()
        code, out, err = sidelines(server, token, "forum", "fit", forum, meeting, "-k", "3", "--json")
        assert code == 0 and json.loads(out) == options, err
        code, out, err = sidelines(server, token, "forum", "fit", forum, meeting, "-k", "3")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["option", "where", "cost", "moves"] and len(lines) == 1 + len(options) > 1
        for number, (line, option) in enumerate(zip(lines[1:], options, strict=True), 1):
            start, end = option["start"], option["end"]
            spot = [start[:10], f"{start[11:16]}-{end[11:16]}", option["room"], f"{option['cost']:,}"]
            assert line.split()[:5] == [str(number), *spot], line

        code, _, err = sidelines(server, token, "forum", "fit", forum, "nope")
        assert code == 2 and err.startswith("sidelines: error: MEETING: "), err
        code, _, err = sidelines(server, token, "forum", "fit", forum, meeting, "-k", "51")
        assert code == 2 and err.startswith("sidelines: error: -k: "), err


async def test_participant_times_are_written_back_with_if_match(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        path = f"/forums/{forum}/delegations/JP/participants/jp-so3"
        before = await client.get(path, headers=bearer(token))
        code, out, err = sidelines(
            server, token, "forum", "participant", forum, "JP", "jp-so3", "--arrival", "2024-03-13T09:00"
        )
        assert code == 0, err
        after = await client.get(path, headers=bearer(token))
        assert after.json() == {**before.json(), "arrival": "2024-03-13T09:00:00"}
        assert after.headers["ETag"] != before.headers["ETag"]
        assert out == "arrival: none -> 2024-03-13T09:00:00\ndeparture: none -> none\n"
        code, out, err = sidelines(server, token, "forum", "participant", forum, "JP", "jp-so3", "--arrival", "none")
        assert code == 0 and out.startswith("arrival: 2024-03-13T09:00:00 -> none\n"), err
        assert (await client.get(path, headers=bearer(token))).json() == before.json()

        # refusals name the command's own argument; nothing is written
        times = ["--arrival", "2024-03-13T09:00", "--departure", "2024-03-12T17:00"]
        code, _, err = sidelines(server, token, "forum", "participant", forum, "JP", "jp-so3", *times)
        assert code == 2 and err.startswith("sidelines: error: --departure: "), err
        code, _, err = sidelines(server, token, "forum", "participant", forum, "JP", "nobody", *times[:2])
        assert code == 2 and err.startswith("sidelines: error: PARTICIPANT: "), err
        code, _, err = sidelines(server, token, "forum", "participant", forum, "JP", "jp-so3")
        assert code == 2 and err == "sidelines: error: --arrival: give --arrival, --departure or both\n", err
        assert (await client.get(path, headers=bearer(token))).json() == before.json()


class _ChangedMeanwhile(BaseHTTPRequestHandler):
    """A participant read with ETag "1" that a colleague changes before the write: the write is a 412."""

    def do_GET(self) -> None:
        self.answer(200, {"id": "jp-so3", "name": "Staff officer 3", "arrival": None}, {"ETag": '"1"'})

    def do_PUT(self) -> None:  # and PATCH: `forum request` writes back the same way
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen.append(self.headers.get("If-Match"))
        problem = {"type": "urn:sidelines:problem:precondition-failed", "title": "Precondition Failed", "status": 412,
                   "detail": 'the resource changed (now "2"); read it again and retry',
                   "errors": [{"field": "header:If-Match", "message": 'stale: current ETag is "2"'}]}  # fmt: skip
        self.answer(412, problem, {})

    do_PATCH = do_PUT

    def answer(self, status: int, body: object, headers: dict[str, str]) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(content))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


seen: list[str | None] = []  # the If-Match headers _ChangedMeanwhile was sent


def test_a_participant_changed_meanwhile_says_run_again() -> None:
    """The race itself cannot be timed against the real server: a stand-in answers the write 412,
    as the server does when the ETag read is no longer current."""
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), _ChangedMeanwhile)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    try:
        server = f"http://127.0.0.1:{stand_in.server_address[1]}"
        code, out, err = sidelines(server, "token", "forum", "participant", "f", "JP", "jp-so3", "--arrival", "none")
    finally:
        stand_in.shutdown()
        stand_in.server_close()
    assert (code, out) == (3, "") and seen == ['"1"']
    assert err == (
        "sidelines: error: PUT /forums/f/delegations/JP/participants/jp-so3: changed meanwhile (HTTP 412): "
        "run the command again to apply it to what is there now\n"
    )


async def test_deadline_is_set_and_cleared(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        code, out, err = sidelines(server, token, "forum", "deadline", forum, "2024-03-11T18:00")
        assert code == 0, err
        assert out == "request deadline: none -> 2024-03-11T18:00:00+09:00\n"
        read = (await client.get(f"/forums/{forum}", headers=bearer(token))).json()
        assert read["request_deadline"] == "2024-03-11T18:00:00+09:00"
        code, out, err = sidelines(server, token, "forum", "deadline", forum, "none", "--json")
        assert code == 0 and json.loads(out)["request_deadline"] is None, err
        assert (await client.get(f"/forums/{forum}", headers=bearer(token))).json()["request_deadline"] is None
        code, _, err = sidelines(server, token, "forum", "deadline", forum, "next tuesday")
        assert code == 2 and err.startswith("sidelines: error: WHEN: "), err


async def test_tokens_are_listed_issued_to_a_private_file_and_revoked(isolated: Isolated, tmp_path: Path) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        out = tmp_path / "night.token"
        code, said, err = sidelines(
            server, token, "forum", "tokens", forum, "--issue", "Night shift", "--out", str(out)
        )
        assert code == 0, err
        assert said == f"organiser token 2 (Night shift) issued, written to {out}\n"
        issued = out.read_text().strip()
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and issued not in said + err
        assert (await client.get(f"/forums/{forum}", headers=bearer(issued))).status_code == 200

        listed = (await client.get(f"/forums/{forum}/organiser-tokens", headers=bearer(token))).json()
        code, said, err = sidelines(server, issued, "forum", "tokens", forum, "--json")
        assert code == 0 and json.loads(said) == listed, err
        code, said, err = sidelines(server, issued, "forum", "tokens", forum)
        assert code == 0, err
        rows = [line.split() for line in said.splitlines()[1:]]
        assert [(row[0], row[-2:]) for row in rows] == [
            ("1", listed[0]["name"].split()[-2:]),
            ("2", ["Night", "shift"]),
        ]

        code, said, err = sidelines(server, issued, "forum", "tokens", forum, "--revoke", "1")
        assert (code, said) == (0, "organiser token 1 revoked\n"), err
        assert (await client.get(f"/forums/{forum}", headers=bearer(token))).status_code == 401

        # refusals name the command's own argument; a file that exists is never overwritten, nothing issued
        code, _, err = sidelines(server, issued, "forum", "tokens", forum, "--revoke", "2")
        assert code == 2 and err.startswith("sidelines: error: --revoke: the last organiser token in use"), err
        code, _, err = sidelines(server, issued, "forum", "tokens", forum, "--revoke", "7")
        assert code == 2 and err == "sidelines: error: --revoke: no organiser token 7 in use\n", err
        code, _, err = sidelines(server, issued, "forum", "tokens", forum, "--issue", "", "--out", str(tmp_path / "x"))
        assert code == 2 and err.startswith("sidelines: error: --issue: "), err
        code, _, err = sidelines(server, issued, "forum", "tokens", forum, "--issue", "Again", "--out", str(out))
        assert code == 2 and err == f"sidelines: error: --out: {out} exists: the token goes to a new file only\n"
        code, _, err = sidelines(server, issued, "forum", "tokens", forum, "--issue", "Again")
        assert code == 2 and err.startswith("sidelines: error: --out: required with --issue"), err
        assert out.read_text().strip() == issued
        listed = (await client.get(f"/forums/{forum}/organiser-tokens", headers=bearer(issued))).json()
        assert [entry["number"] for entry in listed] == [1, 2]


def test_a_request_changed_meanwhile_says_run_again() -> None:
    """As the participant's: the stand-in answers the PATCH 412, the ETag read having moved."""
    seen.clear()
    stand_in = ThreadingHTTPServer(("127.0.0.1", 0), _ChangedMeanwhile)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    try:
        server = f"http://127.0.0.1:{stand_in.server_address[1]}"
        code, out, err = sidelines(server, "token", "forum", "request", "f", "r1", "--priority", "must")
    finally:
        stand_in.shutdown()
        stand_in.server_close()
    assert (code, out) == (3, "") and seen == ['"1"']
    assert err == (
        "sidelines: error: PATCH /forums/f/requests/r1: changed meanwhile (HTTP 412): "
        "run the command again to apply it to what is there now\n"
    )


async def _with_new_zealand(client: httpx.AsyncClient, forum: str, token: str) -> str:
    """New Zealand added to the forum, with its principal: its token."""
    added = await client.post(
        f"/forums/{forum}/delegations", json={"id": "NZ", "name": "New Zealand", "country": "NZ"}, headers=bearer(token)
    )
    assert added.status_code == 201, added.text
    nz = added.json()["token"]
    person = {"id": "nz-cdf", "name": "Chief of Defence Force", "rank": "chief_of_defence", "principal": True}
    made = await client.post(f"/forums/{forum}/delegations/NZ/participants", json=person, headers=bearer(nz))
    assert made.status_code == 201, made.text
    return str(nz)


async def test_requests_are_listed_filtered_and_refused_by_option(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        nz = await _with_new_zealand(client, forum, token)
        asked = {"parties": ["NZ", "JP"], "duration_minutes": 30, "title": "Maritime talks", "priority": "must"}
        made = await client.post(f"/forums/{forum}/requests", json=asked, headers=bearer(nz))
        assert made.status_code == 201, made.text
        mine = made.json()["id"]

        listed = (await client.get(f"/forums/{forum}/requests?limit=1000", headers=bearer(token))).json()
        code, out, err = sidelines(server, token, "forum", "requests", forum, "--json")
        assert code == 0 and json.loads(out) == listed and len(listed) == 28, err
        code, out, err = sidelines(server, token, "forum", "requests", forum)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["request", "title", "parties", "priority", "status"]
        assert [line.split()[0] for line in lines[1:]] == [request["id"] for request in listed]
        # aligned: every row's parties start where the heading's do
        column = lines[0].index("parties")
        assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines[1:]), out
        row = next(line for line in lines if line.startswith(mine))
        assert re.split(r" {2,}", row) == [
            mine,
            "Maritime talks",
            "NZ:accepted JP:pending",
            "high (asked must)",
            "pending",
        ]

        # filtered here: the API takes no filter
        for options in (["--status", "pending"], ["--delegation", "NZ"], ["--status", "pending", "--delegation", "JP"]):
            code, out, err = sidelines(server, token, "forum", "requests", forum, *options)
            assert code == 0 and [line.split()[0] for line in out.splitlines()[1:]] == [mine], (options, out, err)
        code, out, err = sidelines(server, token, "forum", "requests", forum, "--status", "accepted", "--json")
        assert code == 0 and json.loads(out) == [r for r in listed if r["status"] == "accepted"] != [], err
        code, out, err = sidelines(
            server, token, "forum", "requests", forum, "--delegation", "NZ", "--status", "accepted"
        )
        assert (code, out) == (0, "no requests of those asked for\n"), err

        # refusals name the command's own argument
        code, out, err = sidelines(server, token, "forum", "requests", forum, "--delegation", "XX")
        assert (code, out, err) == (2, "", "sidelines: error: --delegation: no delegation XX\n")
        code, _, err = sidelines(server, token, "forum", "requests", forum, "--status", "maybe")
        assert code == 2 and "--status: invalid choice: 'maybe'" in err, err
        unknown = "00000000-0000-0000-0000-000000000000"
        code, _, err = sidelines(server, token, "forum", "requests", unknown)
        assert code == 2 and err == f"sidelines: error: FORUM_ID: no forum {unknown}\n", err


async def test_a_request_is_shown_and_changed_with_if_match(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        path = f"/forums/{forum}/requests/capability-r1"
        before = await client.get(path, headers=bearer(token))
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1")
        assert code == 0, err
        assert out.splitlines()[:3] == [
            "request capability-r1: Working group on capability, round 1",
            "status: accepted",
            "priority: high",
        ]
        assert "  JP       invitee   accepted  jp-so2, jp-so6" in out, out
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--json")
        assert code == 0 and json.loads(out) == before.json(), err

        # only the fields given are sent, with the ETag read
        options = ["--priority", "must", "--title", "Capability, round 1"]
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1", *options)
        assert code == 0, err
        assert out == "priority: high -> must\ntitle: Working group on capability, round 1 -> Capability, round 1\n"
        after = await client.get(path, headers=bearer(token))
        assert after.headers["ETag"] != before.headers["ETag"]
        decided = after.json()["priority_decided_at"]  # sending a priority records the decision (0023)
        assert decided > before.json()["priority_decided_at"]
        changed = {
            "priority": "must",
            "title": "Capability, round 1",
            "updated_at": after.json()["updated_at"],
            "priority_decided_at": decided,
        }
        assert after.json() == {**before.json(), **changed}

        await _with_new_zealand(client, forum, token)
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--parties", "JP, AU,NZ")
        assert code == 0, err
        assert out == "parties: AU:accepted JP:accepted -> AU:accepted JP:accepted NZ:pending\n"
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--duration", "60")
        assert (code, out) == (0, "duration_minutes: 90 -> 60\n"), err

        # refusals name the command's own option; nothing is written
        held = await client.get(path, headers=bearer(token))
        code, out, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--parties", "JP,AU,XX")
        assert (code, out, err) == (2, "", "sidelines: error: --parties: no delegation XX\n")
        code, _, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--duration", "20")
        assert code == 2 and err.startswith("sidelines: error: --duration: "), err
        code, _, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--parties", "JP")
        assert code == 2 and err.startswith("sidelines: error: --parties: "), err
        code, _, err = sidelines(server, token, "forum", "request", forum, "capability-r1", "--priority", "urgent")
        assert code == 2 and "--priority: invalid choice: 'urgent'" in err, err
        code, _, err = sidelines(server, token, "forum", "request", forum, "nope", "--title", "x")
        assert (code, err) == (2, "sidelines: error: REQUEST: no request nope\n")
        code, _, err = sidelines(server, token, "forum", "request", forum, "nope")
        assert (code, err) == (2, "sidelines: error: REQUEST: no request nope\n")
        assert (await client.get(path, headers=bearer(token))).json() == held.json()


async def test_a_delegation_token_is_rotated_into_a_private_file(isolated: Isolated, tmp_path: Path) -> None:
    async with serving(isolated) as (_, client):
        answer = await client.post("/forums/import", content=EXAMPLE.read_bytes(), headers=bearer(ADMIN_TOKEN))
        forum, token = answer.json()["forum"]["id"], answer.json()["organiser_token"]
        old = answer.json()["delegation_tokens"]["AU"]
        server = base_of(client)
        out = tmp_path / "au.token"
        code, said, err = sidelines(server, token, "forum", "delegation-token", forum, "AU", "--out", str(out))
        assert code == 0, err
        assert said == f"delegation AU: new token written to {out}; the old one stopped\n"
        new = out.read_text().strip()
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and new not in said + err and new != old
        assert (await client.get("/me", headers=bearer(old))).status_code == 401
        me = await client.get("/me", headers=bearer(new))
        assert me.json() == {"kind": "delegation", "forum_id": forum, "delegation_id": "AU"}

        # refused before anything is rotated: a file that exists, a delegation that does not
        code, _, err = sidelines(server, token, "forum", "delegation-token", forum, "AU", "--out", str(out))
        assert (code, err) == (2, f"sidelines: error: --out: {out} exists: the token goes to a new file only\n")
        assert (await client.get("/me", headers=bearer(new))).status_code == 200 and out.read_text().strip() == new
        other = tmp_path / "xx.token"
        code, _, err = sidelines(server, token, "forum", "delegation-token", forum, "XX", "--out", str(other))
        assert (code, err) == (2, "sidelines: error: DELEGATION: no delegation XX\n") and not other.exists()
        code, _, err = sidelines(server, token, "forum", "delegation-token", forum, "AU")
        assert code == 2 and "--out" in err, err
        code, _, err = sidelines(server, token, "forum", "delegation-token", forum, "AU", "--out", "/nowhere/au.token")
        assert (code, err) == (2, "sidelines: error: --out: /nowhere/au.token: its directory does not exist\n")
        assert (await client.get("/me", headers=bearer(new))).status_code == 200


async def test_a_delegations_agenda_is_printed_day_by_day(isolated: Isolated) -> None:
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        code, _, err = sidelines(server, token, "forum", "agenda", forum, "AU")
        path = f"/forums/{forum}/delegations/AU/agenda/detailed"
        assert (code, err) == (2, f"sidelines: error: GET {path}: no schedule has been published yet\n")
        await _solved(client, token, forum)
        published = await client.post(f"/forums/{forum}/schedules/1/publish", headers=bearer(token))
        assert published.status_code == 200, published.text
        agenda = (await client.get(path, headers=bearer(token))).json()

        code, out, err = sidelines(server, token, "forum", "agenda", forum, "AU", "--json")
        assert code == 0 and json.loads(out) == agenda, err
        code, out, err = sidelines(server, token, "forum", "agenda", forum, "AU")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith(f"{agenda['delegation']['name']} (AU): publication 1, version 1, published ")
        days = sorted({meeting["start"][:10] for meeting in agenda["meetings"]})
        headings = [line for line in lines if line and not line[0].isdigit() and line[0] != " "][1:]
        assert [h for h in headings if not h.startswith("time ")] == [
            time.strftime("%A %d %B %Y", time.strptime(day, "%Y-%m-%d")) for day in days
        ]
        rows = [line.split()[:2] for line in lines if re.match(r"\d\d:\d\d-\d\d:\d\d ", line)]
        meetings = sorted(agenda["meetings"], key=lambda meeting: meeting["start"])
        expected = [[f"{m['start'][11:16]}-{m['end'][11:16]}", m["meeting"]] for m in meetings]
        assert rows == expected and len(rows) == len(agenda["meetings"]) > 0

        code, _, err = sidelines(server, token, "forum", "agenda", forum, "XX")
        assert (code, err) == (2, "sidelines: error: DELEGATION: no delegation XX\n")


async def test_requests_lists_every_page(isolated: Isolated) -> None:
    """1,027 requests: two pages of the API's largest (1,000), both listed."""
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        rows = "".join(f"bulk-{index:04},JP AU,30,,low,,,\n" for index in range(1000))
        csv = "id,parties,duration_minutes,title,priority,attendees,features,venues\n" + rows
        headers = bearer(token) | {"Content-Type": "text/csv"}
        loaded = await client.post(f"/forums/{forum}/import/requests", content=csv.encode(), headers=headers)
        assert loaded.status_code == 200, loaded.text
        first = await client.get(f"/forums/{forum}/requests?limit=1000", headers=bearer(token))
        assert "next" in first.links  # the list does span two pages
        second = await client.get(first.links["next"]["url"], headers=bearer(token))
        code, out, err = sidelines(server, token, "forum", "requests", forum, "--status", "accepted")
        assert code == 0, err
        listed = [line.split()[0] for line in out.splitlines()[1:]]
        assert listed == [request["id"] for request in first.json() + second.json()] and len(listed) == 1027


async def test_a_path_in_sidelines_token_is_said_to_be_one_without_printing_it(
    isolated: Isolated, tmp_path: Path
) -> None:
    """A new user read `--token-file ... (default: $SIDELINES_TOKEN)` as SIDELINES_TOKEN holding a
    path, put one there and was told only "unknown or revoked token"."""
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        held = tmp_path / "organiser-token"
        held.write_text(token + "\n")

        code, out, err = sidelines(server, str(held), "forum", "status", forum)
        assert (code, out) == (2, "")
        assert err == (
            "sidelines: error: token (SIDELINES_TOKEN): unknown or revoked token\n"
            "sidelines: error: token (SIDELINES_TOKEN): it names an existing file: SIDELINES_TOKEN holds the "
            "token itself; for a file use --token-file\n"
        )
        assert str(held) not in err and "organiser-token" not in err
        # a path with a space is refused before it is sent, and said the same way
        spaced = tmp_path / "my token"
        spaced.write_text(token)
        code, _, err = sidelines(server, str(spaced), "forum", "status", forum)
        assert code == 2 and "SIDELINES_TOKEN holds the token itself; for a file use --token-file" in err, err
        assert "my token" not in err
        # a wrong token that names no file is said as before
        code, _, err = sidelines(server, "no/such/file", "forum", "status", forum)
        assert err == "sidelines: error: token (SIDELINES_TOKEN): unknown or revoked token\n"

        code, out, err = sidelines(server, None, "forum", "status", forum, "--help")
        assert code == 0 and "the token itself from $SIDELINES_TOKEN" in " ".join(out.split()), out


async def test_a_malformed_change_file_is_named_in_its_refusal(isolated: Isolated, tmp_path: Path) -> None:
    """`forum change` of a JSON array answered the server's `body` complaint, naming no file."""
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        server = base_of(client)
        listed = tmp_path / "changes.json"
        listed.write_text(json.dumps([{"kind": "meeting_cancelled", "meeting": "m1"}]))
        code, out, err = sidelines(server, token, "forum", "change", forum, str(listed))
        assert (code, out) == (2, "")
        assert err == (
            f"sidelines: error: {listed}: not a change: a JSON object with its kind (docs/resolve.md), "
            "not an array; record one change at a time\n"
        )
        code, _, err = sidelines(server, token, "forum", "change", forum, "-", input_text="[]")
        assert code == 2 and err.startswith("sidelines: error: stdin: not a change: "), err

        # a field the server refuses is said under the file it came from
        for body in ({"kind": "meeting_cancelled"}, {"kind": "no_such_kind"}, {"meeting": "m1"}):
            malformed = tmp_path / "malformed.json"
            malformed.write_text(json.dumps(body))
            code, _, err = sidelines(server, token, "forum", "change", forum, str(malformed))
            assert code == 2 and err.startswith(f"sidelines: error: {malformed}: "), (body, err)
        unknown = tmp_path / "unknown.json"
        unknown.write_text(json.dumps({"kind": "meeting_cancelled", "meeting": "no-such-meeting"}))
        code, _, err = sidelines(server, token, "forum", "change", forum, str(unknown))
        assert code == 2 and err.startswith(f"sidelines: error: {unknown}: meeting: "), err
        assert (await client.get(f"/forums/{forum}/changes", headers=bearer(token))).json() == []


async def test_solve_wait_says_its_progress_in_words_and_json_keeps_the_figures(isolated: Isolated) -> None:
    """A walkthrough's user was shown "bound -1,200 gap 236.36%" while a solve ran: meaningless to
    a protocol officer. The line now says grids found, the best one's cost and the proof in words."""
    async with serving(isolated) as (_, client):
        forum, token = await imported(client)
        code, out, err = sidelines(base_of(client), token, "forum", "solve", forum, "--time-limit", "3", "--wait")
        assert code == 0, err
        said = [line for line in err.splitlines() if line.startswith("run 1 running ")]
        assert said, err
        proof = r"(proven best|searching; at most \d+% from the best possible|searching; how far from the best "
        proof += r"possible is not known yet)"
        line = rf"run 1 running \d+ s: (no grid yet|\d+ grids? found, the best costs [\d,]+; {proof})"
        assert all(re.fullmatch(line, text) for text in said), said
        assert not re.search(r"bound|gap|objective", err), err

        code, out, err = sidelines(
            base_of(client), token, "forum", "solve", forum, "--time-limit", "1", "--wait", "--json"
        )
        assert code == 0, err
        progress = json.loads(out)["progress"]  # the raw figures stay in --json
        assert {"objective", "best_bound", "gap", "solutions", "elapsed"} <= progress.keys(), out


@pytest.mark.parametrize(
    ("progress", "said"),
    [
        # the walkthrough's: a bound below zero proves nothing a person can use
        (
            {"elapsed": 2.4, "objective": 880, "best_bound": -1200, "gap": 2.3636, "solutions": 3},
            "run 4 running 2 s: 3 grids found, the best costs 880; "
            "searching; how far from the best possible is not known yet",
        ),
        (
            {"elapsed": 5.0, "objective": 1000, "best_bound": 881, "gap": 0.119, "solutions": 1},
            "run 4 running 5 s: 1 grid found, the best costs 1,000; searching; at most 12% from the best possible",
        ),
        (
            {"elapsed": 7.6, "objective": 800, "best_bound": 800, "gap": 0.0, "solutions": 9},
            "run 4 running 8 s: 9 grids found, the best costs 800; proven best",
        ),
        (
            {"elapsed": 0.5, "objective": 1300, "best_bound": None, "gap": None, "solutions": 1},
            "run 4 running 0 s: 1 grid found, the best costs 1,300; "
            "searching; how far from the best possible is not known yet",
        ),
        (
            {"elapsed": 0.5, "objective": None, "best_bound": None, "gap": None, "solutions": 0},
            "run 4 running 0 s: no grid yet",
        ),
    ],
)
def test_a_progress_line_says_the_proof_in_words(progress: dict[str, Any], said: str) -> None:
    from api.remote import _progress_line

    assert _progress_line({"id": 4, "status": "running", "progress": progress}) == said

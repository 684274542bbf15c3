"""`sidelines forum ...` (api/remote.py) as an organiser runs it: real `sidelines` processes
against a real `sidelines serve` (with its solve worker) on a database of the test's own, with
real solves of a small example."""

from __future__ import annotations

import json
import os
import signal
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


def sidelines(server: str, token: str | None, *args: str, cwd: Path | None = None) -> Result:
    """`sidelines ARGS` of this tree, as a process, with SIDELINES set to `server` and SIDELINES_TOKEN to `token`."""
    environment = {key: value for key, value in os.environ.items() if key not in {"SIDELINES", "SIDELINES_TOKEN"}}
    environment |= {"SIDELINES": server, "PYTHONPATH": str(ROOT)}
    if token is not None:
        environment["SIDELINES_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "api", *args], env=environment, capture_output=True, text=True, timeout=120, cwd=cwd
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
        assert code == 2 and err.startswith("sidelines: error: meeting: "), err

        # a 409: a closed forum takes no run
        assert (await client.post(f"/forums/{forum}/close", headers=bearer(token))).status_code == 200
        code, _, err = sidelines(server, token, "forum", "solve", forum, "--wait")
        assert code == 2
        assert err.startswith(f"sidelines: error: POST /forums/{forum}/runs: ") and "closed" in err, err
        # reading still works on a closed forum
        code, out, err = sidelines(server, token, "forum", "status", forum)
        assert code == 0 and "closed at " in out, err


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
        self.send_header("Retry-After", "5")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_503_says_when_to_try_again() -> None:
    """The API's 503 (docs/api.md, "Errors"), from a stand-in server: the real one answers it
    only while its database is away, which a test cannot time."""
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
    assert err == ("sidelines: error: GET /forums/f: the database cannot be reached (HTTP 503); try again in 5 s\n")


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
        while "running" not in (line := process.stderr.readline()):  # a progress line: the search has begun
            assert line and time.monotonic() - started < 60, "no progress line"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert process.returncode == 0 and "cancelling run 1" in err
        assert "run 1 cancelled, version 1" in out
        run = (await client.get(f"/forums/{forum}/runs/1", headers=bearer(token))).json()
        assert run["status"] == "cancelled" and run["version"] == 1 and run["cancel_requested"] is True

"""`sidelines demo` as a newcomer runs it: the printed curl commands work as printed,
and Ctrl-C or SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from api.cli import main
from api.demo import LAST_LINE
from tests.conftest import Databases

pytestmark = pytest.mark.anyio

HALIFAX = Path(__file__).resolve().parent.parent / "examples" / "halifax.json"
STARTUP_SECONDS = 180  # migrate, load, spawn the solver, solve for --time-limit, publish, bind


class Demo:
    """A `sidelines demo` subprocess whose stdout is read line by line on a thread."""

    def __init__(self, database_url: str, time_limit: int) -> None:
        environment = {**os.environ, "DATABASE_URL": database_url}
        command = [sys.executable, "-m", "api", "demo", "--port", "0", "--time-limit", str(time_limit)]
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stop(self, stop_signal: signal.Signals) -> tuple[int, str]:
        """Send `stop_signal`; the exit code and stderr once it has ended (killed after 60 s)."""
        self.process.send_signal(stop_signal)
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=10)
        assert self.process.stdout is not None and self.process.stderr is not None
        errors = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, errors


def _block(lines: queue.Queue[str | None]) -> Iterator[str]:
    """The printed lines up to the demo's last line; fails if the demo ends or stalls first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        assert line is not None, "the demo ended before printing its block"
        yield line
        if line == LAST_LINE:
            return


def _run_curl(command: str) -> tuple[int, dict[str, Any]]:
    """Run a printed curl line as a shell would split it; its answer's status and JSON body."""
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, check=True, timeout=30)
    body, _, status_line = done.stdout.rstrip("\n").rpartition("\n")
    assert status_line.startswith("HTTP "), done.stdout
    return int(status_line.removeprefix("HTTP ")), msgspec.json.decode(body, type=dict[str, Any])


def _run_forum_command(lines: list[str]) -> str:
    """Run the printed `sidelines forum` line as a shell would (its variables set for it); its output.
    The demo left a newcomer at curl, while the organisers' guide works with `sidelines forum`."""
    (line,) = [line.strip() for line in lines if line.strip().startswith("SIDELINES=")]
    words = shlex.split(line)
    variables = dict(word.split("=", 1) for word in words[:2])
    assert words[2:5] == ["sidelines", "forum", "status"], line
    command = [sys.executable, "-m", "api", *words[3:]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env={**os.environ, **variables})
    assert done.returncode == 0, done.stderr
    return done.stdout


def _printed(lines: list[str], label: str) -> str:
    """The value after `label` in the block ("  organiser        <token>")."""
    return next(line.split()[-1] for line in lines if line.split()[:-1] == label.split())


def _queue_a_run(printed: list[str]) -> dict[str, object]:
    """Queue a solve as the grid page does and follow it until it ends (a demo without a
    worker leaves it queued: that is the fault this catches)."""
    base = f"{_printed(printed, 'API')}/forums/{_printed(printed, 'forum id')}"
    headers = {"Authorization": f"Bearer {_printed(printed, 'organiser')}"}
    started = httpx.post(f"{base}/runs", json={"time_limit": 1}, headers=headers, timeout=30)
    assert started.status_code == 202, started.text
    run_url = f"{base}/runs/{started.json()['id']}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        run: dict[str, object] = httpx.get(run_url, headers=headers, timeout=30).json()
        if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def test_a_problem_with_one_delegation_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/unreachable")  # touches no database
    problem = msgspec.json.decode(HALIFAX.read_bytes())
    problem.update(delegations=problem["delegations"][:1], meetings=[], sessions=[], keep_apart=[])
    path = tmp_path / "one.json"
    path.write_bytes(msgspec.json.encode(problem))
    assert main(["demo", "--problem", str(path), "--port", "0"]) == 2
    assert capsys.readouterr().err == f"sidelines: error: {path}: delegations: the demo needs at least 2, not 1\n"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_demo_prints_curl_commands_that_work_and_stops_cleanly(
    databases: Databases, stop_signal: signal.Signals
) -> None:
    assert shutil.which("curl"), "curl is needed to run the printed commands (.ci/run installs it)"
    demo = Demo(await databases.create(), time_limit=2)
    try:
        printed = list(_block(demo.lines))
        curls = [line.strip() for line in printed if line.strip().startswith("curl ")]
        assert len(curls) == 3, printed
        answers = [_run_curl(line) for line in curls]
        status = _run_forum_command(printed)
        queued = _queue_a_run(printed)
    finally:
        code, errors = demo.stop(stop_signal)
    assert [status for status, _ in answers] == [200, 200, 404]
    grid, agenda, hidden = (body for _, body in answers)
    assert grid["published"] and len(grid["placements"]) >= 100
    meetings = agenda["meetings"]
    assert meetings and all(any(a.startswith("SG/") for a in m["attendees"]) for m in meetings)
    assert len(meetings) < len(grid["placements"])
    assert hidden["type"] == "urn:sidelines:problem:not-found"
    assert any(line.startswith("  API docs") and line.endswith("/schema") for line in printed)
    assert queued["status"] == "succeeded" and queued["version"] == 2, queued  # the grid page's "Start a solve"
    assert f"forum {_printed(printed, 'forum id')}: Shangri-La Dialogue 2024\n" in status
    assert "published version: 1\n" in status
    assert code == 0, errors
    assert "Traceback" not in errors


async def test_ctrl_c_during_the_solve_stops_the_demo(databases: Databases) -> None:
    demo = Demo(await databases.create(), time_limit=60)
    while not (demo.lines.get(timeout=STARTUP_SECONDS) or "").startswith("solving through a solve run"):
        pass
    time.sleep(1)  # the solver child is running
    started = time.monotonic()
    code, errors = demo.stop(signal.SIGINT)
    assert time.monotonic() - started < 30  # far below the 60 s limit: the solve was stopped, not waited for
    assert code == 130, errors
    assert "Traceback" not in errors and "demo interrupted" in errors

"""A second local search in a child process, on the core the first one leaves idle.

The local search is pure Python: a thread beside it would share the GIL, so
the second worker only helps in a process of its own. It runs from another
seed, and the engine keeps the cheaper of the two grids; whichever search
reaches the floor (a proven bound) first stops the other.

The child is started with `subprocess`, not `multiprocessing`: the service's
worker already solves in a daemonic child process, and a daemonic process may
not start children through `multiprocessing`. It reads the problem, the
starting grid, its seed, its deadline and the floor as JSON on stdin, and
writes its best grid as JSON on stdout; SIGTERM makes it stop early and
write the best it has, and so does its parent's death (a worker killed
mid-solve), so an orphan never holds a core until the deadline.

Run as `python -m solver.twin`; it imports nothing of the service. It does
import OR-Tools (solver/focus.py packs with CP-SAT), which with Python's own
start takes about 0.4 s (twelfth session, Intel Xeon: 0.34-0.38 s, 0.26 s of it
OR-Tools and the pandas it loads), so the twin searches that much less than
this process; its deadline is the same. An entry point that solves once
per process (the CLI's `solve`, the worker's solve child) calls `prewarm()`
before its own imports: the next twin's process then starts and imports
beside them, waiting for its job, and that time no longer counts against
the twin's search.
"""

from __future__ import annotations

import atexit
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from solver.model import Problem
from solver.terms import Assignment

STOP_GRACE = 2.0  # seconds a stopped child has to write its grid before it is killed
ORPHAN_POLL = 0.5  # seconds between the child's looks at whether its parent still lives
PARENT_VARIABLE = "SIDELINES_TWIN_PARENT"  # the parent's pid, set by the parent itself
BEST_LINE = b"best "  # the child's line saying its best grid's objective, before the grid's line


class Job(msgspec.Struct, frozen=True):
    problem: Problem
    start: dict[str, tuple[int, str]]  # meeting id -> (start slot, room id)
    deadline: float  # time.monotonic(): the same clock in every process of the machine
    seed: int
    floor: int
    # Meetings held at one (start slot, room id) each (a re-solve's kept ones,
    # `Compiled.pinned`): the child compiles them pinned too, or its search
    # would move meetings the re-solve promised to keep.
    pinned: dict[str, tuple[int, str]] = {}


class TwinSearch:
    """The child process and the thread that reads its answer."""

    def __init__(
        self,
        job: Job,
        on_answer: Callable[[Assignment], None] | None = None,
        on_best: Callable[[int], None] | None = None,
    ) -> None:
        self.answer: Assignment | None = None
        self.best: int | None = None  # the objective of the child's best grid, as it last said
        self.on_answer = on_answer
        self.on_best = on_best  # called (on the reader's thread) with each objective the child says
        self.process = _take_spare() or _spawn()
        self.reader = threading.Thread(target=self._read, args=(msgspec.json.encode(job),), daemon=True)
        self.reader.start()

    def _read(self, job: bytes) -> None:
        try:
            output = self._lines(job)
            self.answer = {
                meeting: (start, room)
                for meeting, (start, room) in msgspec.json.decode(output, type=dict[str, tuple[int, str]]).items()
            }
        except (OSError, ValueError, msgspec.DecodeError):
            return  # no answer: the engine keeps its own grid
        if self.on_answer is not None:
            self.on_answer(self.answer)

    def _lines(self, job: bytes) -> bytes:
        """Sends the job; hears the child's best objectives as it says them (lines
        starting with BEST_LINE), and returns its last line: its grid."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(job)
            stdin.close()
        except BrokenPipeError:
            pass  # it ended before reading: it writes nothing
        output = b""
        for line in stdout:
            if line.startswith(BEST_LINE):
                self.best = int(line[len(BEST_LINE) :])
                if self.on_best is not None:
                    self.on_best(self.best)
            else:
                output = line
        stdout.close()
        self.process.wait()
        return output

    def finish(self, wait: float) -> Assignment | None:
        """The child's grid: waits up to `wait` seconds for it to end on its
        own, then stops it and takes what it writes (None if it writes nothing)."""
        self.reader.join(max(0.0, wait))
        if self.reader.is_alive():
            self._signal(signal.SIGTERM)
            self.reader.join(STOP_GRACE)
        if self.reader.is_alive():
            self._signal(signal.SIGKILL)
            self.reader.join()
        return self.answer

    def _signal(self, number: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(number)


_spare: subprocess.Popen[bytes] | None = None  # a started child waiting for its job (`prewarm`)


def prewarm() -> None:
    """Start the next twin's process now, so that its interpreter and imports
    (0.6-0.8 s, most of it OR-Tools and the pandas it loads; sixteenth
    session) overlap the caller's own start. The first TwinSearch of this
    process takes it; a solve that runs no twin ends it (`discard_spare`)."""
    global _spare
    if _spare is not None and _spare.poll() is None:
        return
    try:
        _spare = _spawn()
    except OSError:  # no process to be had: the twin, if one is wanted, tries again then
        _spare = None


def spare_waiting() -> bool:
    """True when a prewarmed child waits for its job (`prewarm`)."""
    return _spare is not None and _spare.poll() is None


def discard_spare() -> None:
    """End the waiting child, if any, before it has searched."""
    process = _take_spare()
    if process is not None:
        _close(process)


def _take_spare() -> subprocess.Popen[bytes] | None:
    global _spare
    process, _spare = _spare, None
    return process if process is not None and process.poll() is None else None


def _spawn() -> subprocess.Popen[bytes]:
    # This package's parent on the child's path, so that it imports this very
    # code whether the project is installed or run from a checkout.
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    return subprocess.Popen(
        [sys.executable, "-m", "solver.twin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": path, PARENT_VARIABLE: str(os.getpid())},
    )


def _close(process: subprocess.Popen[bytes]) -> None:
    # Killed, not asked: it holds nothing yet, and one still importing would
    # make a quick solve wait for it to read its empty stdin.
    process.kill()
    process.communicate()


atexit.register(discard_spare)


def main() -> None:
    stop = threading.Event()
    # Before the imports below (OR-Tools: seconds on a loaded machine): a stop or a
    # parent's death while they run must not be lost. SIGINT too: a Ctrl-C at the
    # terminal reaches the whole process group, and a twin stopped that way still
    # writes its grid, which may be the cheaper one.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    threading.Thread(target=_stop_when_orphaned, args=(stop, _parent_pid()), daemon=True).start()
    # Imported here: the parent only needs the classes above.
    from solver.compile import compile_problem
    from solver.large import search_grid

    received = sys.stdin.buffer.read()
    if not received:  # the parent ended before it sent a job
        return
    job = msgspec.json.decode(received, type=Job)
    compiled = compile_problem(job.problem, job.pinned)
    deadline = time.perf_counter() + (job.deadline - time.monotonic())
    out = sys.stdout.buffer
    said = [math.inf]

    def say_best(objective: int) -> None:  # about once a second, when it improved
        if objective < said[0]:
            said[0] = objective
            out.write(BEST_LINE + b"%d\n" % objective)
            out.flush()

    assignment = search_grid(compiled, dict(job.start), deadline, job.seed, stop, job.floor, say_best)
    out.write(msgspec.json.encode(assignment) + b"\n")


def _parent_pid() -> int:
    """The pid of the process that started this one, as it said itself: a parent
    that died while this one was still starting up has already handed it to
    init, so `os.getppid()` read here would name init and never change."""
    try:
        return int(os.environ[PARENT_VARIABLE])
    except (KeyError, ValueError):
        return os.getppid()


def _stop_when_orphaned(stop: threading.Event, parent: int) -> None:
    """Stop when the parent is gone (killed before it could stop this search),
    instead of holding a core until the deadline."""
    while os.getppid() == parent and not stop.wait(ORPHAN_POLL):
        pass
    stop.set()


if __name__ == "__main__":
    main()

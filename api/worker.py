"""`sidelines worker`: takes solve runs from the database and solves them.

The solve runs in a child process (multiprocessing, spawn), so that CP-SAT never
blocks this event loop and a crash of the solver cannot take the worker down.
While it runs, the parent renews the run's lease at every heartbeat, stores the
progress the child sends through a queue, and turns a cancel request into the
child's stop event. A stopped search answers with the best grid it has (as Ctrl-C
on `sidelines solve` does), which is stored as the run's version like any other,
the run ending `cancelled` with it; a search stopped before it had any grid ends
`cancelled` with none. Closing the forum cancels its runs too, and then no grid is
stored (a closed forum takes no version: `runs.store_result` raises ForumClosed). A worker
that dies stops renewing; once its lease lapses,
another worker claims the run again, and `store_result` keeps it to one version.

Shutdown: when the `stop` event passed to `run_worker` is set (SIGTERM/SIGINT in
`sidelines worker` and `sidelines serve`), the worker claims nothing more; a run
in progress is finished if its answer is already in, else handed back at once
(its lease released, the run queued again first in line) so that another worker
takes it without waiting for the lease to lapse.

Chores: `run_worker` calls each of its `chores` (default: DEFAULT_CHORES) once per
pass of its loop, after a run and after each idle poll, so that periodic duties
(delivering webhooks...) share the worker's pool and shutdown. A chore that
raises is logged and retried at the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from api.dispatcher import end_dispatcher, start_dispatcher
from db.changes import applied, published_grid, stored_and_changes
from db.queries import runs
from db.queries.forums import get_forum
from db.queries.revisions import current_revision
from db.queries.schedules import StoredPlacement
from solver.changes import Change
from solver.check import check_problem
from solver.model import Problem
from solver.result import Progress, Schedule

if TYPE_CHECKING:  # OR-Tools loads in the child only
    from solver.resolve import Moved

LEASE_SECONDS = 10.0
HEARTBEAT_SECONDS = 0.5
STOP_POLL_SECONDS = 0.1
_log = logging.getLogger("sidelines.worker")
_SPAWN = multiprocessing.get_context("spawn")
HANDED_BACK = "handed back"  # process_run's answer when `stop` made it give the run up
CANCELLED = "cancelled"  # _supervise's answer when a cancel was asked: with the stopped child's answer
FORUM_CHANGED = (
    "the forum changed while the run solved: its grid names a meeting, room or participant"
    " that no longer exists; queue a new run"
)

Chore = Callable[[asyncpg.Pool], Awaitable[object]]
DEFAULT_CHORES: list[Chore] = []  # other features append theirs here


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkerSettings(msgspec.Struct, frozen=True):
    lease_seconds: float = LEASE_SECONDS
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    idle_seconds: float = 1.0  # wait between polls when no run is queued
    # Touched at every poll and heartbeat, for a container health check (the worker serves no HTTP).
    alive_file: str | None = None


def _touch(settings: WorkerSettings) -> None:
    if settings.alive_file is not None:
        Path(settings.alive_file).touch()


DEFAULT_SETTINGS = WorkerSettings()


async def claim_next(pool: asyncpg.Pool, owner: str, lease_seconds: float = LEASE_SECONDS) -> runs.RunRecord | None:
    async with pool.acquire() as connection, connection.transaction():
        await runs.end_abandoned_cancels(connection)
        return await runs.claim_next(connection, owner, lease_seconds)


class ResolveTask(msgspec.Struct, frozen=True):
    """What a re-solve run starts from, besides the stored forum's problem."""

    published: Schedule
    changes: list[Change]  # the recorded changes that still apply
    free: list[str]
    reoptimise: bool
    # Each change's position among every recorded change (GET changes), which a move's
    # cause names: a change passed over would otherwise shift the later ones' positions.
    recorded: list[int] = []


class _Answer(msgspec.Struct):
    schedule: Schedule
    moves: list[dict[str, Any]] | None = None  # a re-solve's solver.resolve.Moved


def _solve_in_child(
    problem_json: bytes, options_json: bytes, task_json: bytes, progress: Any, results: Any, stop_signal: ProcessEvent
) -> None:
    """The child's entry point (module level, so that spawn can import it)."""
    # Its own process group: a Ctrl-C at the terminal reaches the worker alone, which decides
    # whether this solve is finished or handed back (the child would otherwise die mid-search).
    # First, so that the twin search started below is in this group too.
    os.setpgrp()

    stop = threading.Event()

    parent = os.getppid()

    def relay_stop() -> None:
        # The engine wants a threading.Event; bridge the process-shared one by polling, because a
        # blocking wait() left pending when this process ends would hang the parent's later set().
        while not stop_signal.is_set():
            if os.getppid() != parent:  # the worker died: nobody will read the answer, and its run is retried
                os._exit(1)
            time.sleep(STOP_POLL_SECONDS)
        stop.set()

    threading.Thread(target=relay_stop, daemon=True).start()
    try:
        from solver.options import SolveOptions
        from solver.twin import prewarm

        options = msgspec.json.decode(options_json, type=SolveOptions)
        if options.may_start_twin:
            prewarm()  # the twin's start overlaps the imports below (solver/twin.py)
        from solver.engine import solve  # OR-Tools loads in the child only
        from solver.resolve import resolve

        problem = msgspec.json.decode(problem_json, type=Problem)

        def report(update: Progress) -> None:
            progress.put(msgspec.json.encode(update))

        if task_json:
            task = msgspec.json.decode(task_json, type=ResolveTask)
            found = resolve(
                problem, task.published, task.changes, free=task.free, reoptimise=task.reoptimise,
                options=options, on_progress=report, stop=stop,
            )  # fmt: skip
            answer = {"schedule": found.schedule, "moves": _as_recorded(found.moves, task.recorded)}
        else:
            answer = {"schedule": solve(problem, options, on_progress=report, stop=stop)}
        results.put(("ok", msgspec.json.encode(answer)))
    except Exception as error:  # reported to the parent, which fails the run
        results.put(("error", f"{type(error).__name__}: {error}"))


def _as_recorded(moves: list[Moved], recorded: list[int]) -> list[Moved]:
    """The moves with each cause naming its change's position among the recorded changes
    (from 0: the form runs have always been stored in; the API shows it as the change's
    number, api/controllers/runs.py `numbered_moves`)."""
    return [
        msgspec.structs.replace(move, cause=msgspec.structs.replace(move.cause, change=recorded[move.cause.change]))
        if move.cause.change is not None
        else move
        for move in moves
    ]


class _Child:
    """One solve in a spawned process and the queues it reports through."""

    def __init__(self, problem: Problem, options: runs.RunOptions, task: ResolveTask | None = None) -> None:
        self.progress = _SPAWN.Queue()
        self.results = _SPAWN.Queue()
        self.stop = _SPAWN.Event()
        solve_options = {"method": "cpsat", **msgspec.to_builtins(options)}
        solve_options.pop("resolve", None)  # the task says how to re-solve
        task_json = msgspec.json.encode(task) if task is not None else b""
        encoded = (msgspec.json.encode(problem), msgspec.json.encode(solve_options), task_json)
        args = (*encoded, self.progress, self.results, self.stop)
        self.process: SpawnProcess = _SPAWN.Process(target=_solve_in_child, args=args, daemon=True)
        self.process.start()

    def drain_progress(self) -> list[runs.RunProgress]:
        found: list[runs.RunProgress] = []
        while True:
            try:
                report = msgspec.json.decode(self.progress.get_nowait(), type=Progress)
            except queue.Empty:
                return found
            found.append(msgspec.convert(msgspec.to_builtins(report), runs.RunProgress))

    def result(self) -> tuple[str, Any] | None:
        try:
            return self.results.get_nowait()
        except queue.Empty:
            return None

    def end(self) -> None:
        self.stop.set()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        for channel in (self.progress, self.results):
            channel.cancel_join_thread()
            channel.close()


class _Loaded(msgspec.Struct):
    problem: Problem  # what the child solves: the forum with its changes, or without them for a re-solve
    changed: Problem  # the forum with its recorded changes: whose meetings the placements are
    zone: ZoneInfo
    task: ResolveTask | None = None
    derived_from: int | None = None  # a re-solve: the published version it starts from
    changes_seen: int = 0  # the forum's recorded changes when loaded (numbered 1, 2, 3 ...)
    revision: int = 0  # the forum's setup edits when loaded: the version's forum_revision


async def _load_problem(pool: asyncpg.Pool, run: runs.RunRecord) -> _Loaded | str:
    """What the run solves and the forum's zone, or why the run cannot solve."""
    # One snapshot: the revision counts exactly the setup edits the loaded forum has.
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        revision = await current_revision(connection, run.forum_id)
        forum = await get_forum(connection, run.forum_id)
        found = await stored_and_changes(connection, run.forum_id, datetime.now(UTC))
        published = await published_grid(connection, run.forum_id)
    if forum is None or found is None:
        return "the forum no longer exists"
    stored, changes = found
    seen = len(changes)
    recorded, changed = applied(stored, changes)
    changes = [changes[index] for index in recorded]
    findings = check_problem(changed)
    if findings:
        return "; ".join(f"{finding.path}: {finding.message}" for finding in findings)
    zone = ZoneInfo(forum.item.time_zone)
    settings = run.options.resolve
    if settings is None:
        return _Loaded(changed, changed, zone, changes_seen=seen, revision=revision)
    if published is None:
        return "nothing is published: a re-solve starts from the published version"
    task = ResolveTask(published.schedule, changes, settings.free, settings.reoptimise, recorded)
    return _Loaded(stored, changed, zone, task, published.number, seen, revision)


def stored_placements(problem: Problem, schedule: Schedule, zone: ZoneInfo) -> list[StoredPlacement]:
    """Placements as instants, with each attendee split back into (delegation, participant)."""
    meetings = {meeting.id: meeting for meeting in problem.meetings}
    return [
        StoredPlacement(
            placed.meeting,
            placed.room,
            _instant(placed.start, zone),
            _instant(placed.end, zone),
            [tuple(person.split("/", 1)) for person in meetings[placed.meeting].participants],  # type: ignore[misc]
        )
        for placed in schedule.placed
    ]


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


async def process_run(
    pool: asyncpg.Pool,
    run: runs.RunRecord,
    owner: str,
    settings: WorkerSettings = DEFAULT_SETTINGS,
    stop: asyncio.Event | None = None,
) -> str:
    """Solve one claimed run to its end; returns the status it ended with, "lost", or
    HANDED_BACK when `stop` was set before the solver answered."""
    loaded = await _load_problem(pool, run)
    if isinstance(loaded, str):
        return await _finish(pool, run.id, owner, "failed", loaded)
    child = _Child(loaded.problem, run.options, loaded.task)
    try:
        outcome = await _supervise(pool, run, owner, child, settings, stop or asyncio.Event())
    finally:
        child.end()
    if outcome is None:
        return "lost"
    kind, payload = outcome
    if kind == HANDED_BACK:
        async with pool.acquire() as connection:
            return HANDED_BACK if await runs.release_run(connection, run.id, owner) else "lost"
    if kind == CANCELLED:
        # The stopped search's answer, kept as a version when it is a grid.
        if payload is not None and payload[0] == "ok":
            return await _store(pool, run, owner, loaded, payload[1], cancelled=True)
        return await _finish(pool, run.id, owner, "cancelled", None)
    if kind == "error":
        return await _finish(pool, run.id, owner, "failed", str(payload))
    return await _store(pool, run, owner, loaded, payload)


async def _store(
    pool: asyncpg.Pool, run: runs.RunRecord, owner: str, loaded: _Loaded, payload: bytes, *, cancelled: bool = False
) -> str:
    """Store the child's answer as the run's version; a run whose forum lost a placed meeting,
    room or participant while it solved fails (its grid can no longer be stored), and so does
    one whose forum recorded a change meanwhile (its grid would ignore the change, and could
    be published so). Setup edits meanwhile leave a version that shows as out of date, and
    that publishing refuses (api/publishing.py): it can still be reviewed and compared.
    A `cancelled` run ends cancelled either way: with the version, or with the reason it has none
    (no reason when its search was stopped before it had a grid). A cancel asked after the
    last heartbeat ends the run cancelled too, with the version (`runs.store_result`)."""
    answer = msgspec.json.decode(payload, type=_Answer)
    no_grid = _why_no_grid(answer.schedule)
    failed: runs.RunStatus = "cancelled" if cancelled else "failed"
    if no_grid is not None:
        return await _finish(pool, run.id, owner, failed, None if cancelled else no_grid)
    placements = stored_placements(loaded.changed, answer.schedule, loaded.zone)
    try:
        async with pool.acquire() as connection:
            stored = await runs.store_result(
                connection,
                run.id,
                answer.schedule,
                placements,
                answer.moves,
                loaded.derived_from,
                loaded.changes_seen,
                loaded.revision,
            )
    except asyncpg.ForeignKeyViolationError:
        return await _finish(pool, run.id, owner, failed, FORUM_CHANGED)
    except runs.ChangedMeanwhile as changed:
        return await _finish(pool, run.id, owner, failed, str(changed))
    except runs.ForumClosed as closed:  # closing cancelled the run: it ends so, with no version
        return await _finish(pool, run.id, owner, "cancelled", str(closed))
    return stored.status if stored is not None else "lost"


def _why_no_grid(schedule: Schedule) -> str | None:
    """Why the solver found no grid (INFEASIBLE, or UNKNOWN: none in time), each reason once with
    its meetings; None when it found one. Such an answer is no version: it would publish an empty grid."""
    if schedule.status not in ("INFEASIBLE", "UNKNOWN"):
        return None
    meetings: dict[str, list[str]] = {}
    for unplaced in schedule.unplaced:
        meetings.setdefault(unplaced.message, []).append(unplaced.meeting)
    reasons = "; ".join(f"{message} ({', '.join(ids)})" for message, ids in meetings.items())
    return f"no grid found ({schedule.status})" + (f": {reasons}" if reasons else "")


async def _supervise(
    pool: asyncpg.Pool, run: runs.RunRecord, owner: str, child: _Child, settings: WorkerSettings, stop: asyncio.Event
) -> tuple[str, Any] | None:
    """Heartbeat until the child answers or `stop` is set. None when the lease was lost to another worker;
    (CANCELLED, the child's answer or None) when a cancel was asked."""
    cancelled = False
    while True:
        outcome = child.result()
        if outcome is None and stop.is_set():
            return HANDED_BACK, None
        async with pool.acquire() as connection:
            cancel = await runs.renew_lease(connection, run.id, owner, settings.lease_seconds, child.drain_progress())
        if cancel is None:
            return None
        _touch(settings)
        if cancel and not cancelled:
            cancelled = True
            child.stop.set()  # the engine returns its best grid soon after, as at its time limit
        if outcome is None and not child.process.is_alive() and child.results.empty():
            await asyncio.sleep(settings.heartbeat_seconds)  # a last answer may still be in the pipe
            outcome = child.result() or ("error", f"the solver process ended with code {child.process.exitcode}")
        if outcome is not None:
            return (CANCELLED, outcome) if cancelled else outcome
        # Sooner once stopped: the answer is awaited, and a heartbeat's wait would add to it.
        await _wait(stop, settings.heartbeat_seconds / 5 if cancelled else settings.heartbeat_seconds)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _finish(pool: asyncpg.Pool, run_id: int, owner: str, status: runs.RunStatus, error: str | None) -> str:
    async with pool.acquire() as connection:
        done = await runs.finish_run(connection, run_id, owner, status, error)
    return status if done else "lost"


async def run_worker(
    pool: asyncpg.Pool,
    owner: str,
    stop: asyncio.Event,
    settings: WorkerSettings = DEFAULT_SETTINGS,
    chores: Sequence[Chore] | None = None,
) -> int:
    """Take runs one after another until `stop` is set; returns how many were processed
    (a run handed back at shutdown counts)."""
    processed = 0
    # Change notices go out beside the solves; should this loop raise, asyncio.run cancels it with the rest.
    dispatcher = start_dispatcher(pool, stop)
    while not stop.is_set():
        _touch(settings)
        run = await claim_next(pool, owner, settings.lease_seconds)
        if run is not None:
            status = await _process_or_fail(pool, run, owner, settings, stop)
            _log.info("run %s of forum %s: %s", run.number, run.forum_id, status)  # as its URL names it
            processed += 1
        await _do_chores(pool, DEFAULT_CHORES if chores is None else chores)
        if run is None:
            await _wait(stop, settings.idle_seconds)
    await end_dispatcher(dispatcher)
    _log.info("worker %s stopped after %d run(s)", owner, processed)
    return processed


async def _process_or_fail(
    pool: asyncpg.Pool, run: runs.RunRecord, owner: str, settings: WorkerSettings, stop: asyncio.Event
) -> str:
    """process_run; should it raise, the run fails with the error, and the worker (and the API
    that `serve` runs beside it) goes on. When even that fails (the database is gone), the run
    is left to its lease and taken up again."""
    try:
        return await process_run(pool, run, owner, settings, stop)
    except Exception as error:
        _log.exception("run %s of forum %s: the worker failed", run.number, run.forum_id)
        with contextlib.suppress(Exception):
            return await _finish(pool, run.id, owner, "failed", f"the worker failed: {type(error).__name__}: {error}")
        return "lost"


async def _do_chores(pool: asyncpg.Pool, chores: Sequence[Chore]) -> None:
    for chore in chores:
        try:
            await chore(pool)
        except Exception:  # one failing chore must not stop the solves nor the other chores
            _log.exception("worker chore %s failed; retrying at the next pass", getattr(chore, "__name__", chore))

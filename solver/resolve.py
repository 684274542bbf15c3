"""Minimal-disruption re-solve after last-minute changes.

Starting from the published grid, the changes are applied to the problem and
each published placement is classified:

* removed: its meeting was cancelled (or its delegation withdrew);
* broken: a change made its placement violate a hard rule (the validator
  says so), charged to the first change that did;
* freed: the organiser asked for it to be free to move, or an urgent request
  needs its place (the best fit that moves one meeting, solver/fit.py);
* kept: everything else, which stays exactly where it is.

Kept meetings get a single domain pair and are required to be held, so the
CP-SAT model only has real choices for the broken, freed, new and waiting
(unplaced in the published grid) meetings: a few hundred literals instead of
tens of thousands, which is what makes a re-solve take well under a second.
The published grid is the `previous` schedule of the changed problem, so the
objective's stability term prices every move (docs/rules.md: a new time costs
more than a new room, a principal's meeting more than an officials' one), and
a freed meeting only moves when that pays for itself.

With `reoptimise`, nothing is kept: the whole grid is solved again with the
stability term, warm-started from the unbroken published grid.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Literal

import msgspec

from solver.changes import Change, Impact, MeetingRequested, impacts_and_broken
from solver.check import Finding, ProblemError
from solver.compile import compile_problem
from solver.diff import diff_schedules
from solver.engine import SolveOptions, solve_compiled
from solver.fit import fit
from solver.greedy import greedy_assign
from solver.model import PreviousPlacement, Problem
from solver.result import Placement, Schedule
from solver.search import ProgressHandler
from solver.terms import Assignment
from solver.timegrid import TimeGrid

CauseKind = Literal["change", "freed", "reoptimised", "waiting", "new_request", "repair", "withdrawn"]
MoveKind = Literal["time", "room", "time_and_room", "added", "removed"]


class Cause(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """Why a meeting's placement changed.

    change: a change broke, removed, added or needed the meeting (`change` is
    its index); freed: the organiser freed it; reoptimised: a full re-solve
    moved it; waiting: a request unplaced in the published grid now fits;
    new_request: a request the published grid does not know (made or accepted
    since it was solved) is placed;
    repair: the published placement already broke a rule before any change;
    withdrawn: the published meeting is not in the forum any more (a request
    withdrawn or declined through the service rather than by a change).
    """

    kind: CauseKind
    message: str
    change: int | None = None


class Moved(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """One meeting whose placement differs from the published grid, and why."""

    meeting: str
    kind: MoveKind
    cause: Cause
    before: Placement | None = None
    after: Placement | None = None


# The search budget of a re-solve. Its model is small but CP-SAT's bound on the
# breaks term stays weak, so it rarely proves optimality; the grid it finds in
# the first tenths of a second is kept (docs/benchmarks.md compares it with a
# from-scratch solve). The whole re-solve stays under a second at Shangri-La scale.
RESOLVE_OPTIONS = SolveOptions(time_limit=0.5, workers=2)


class ResolveResult(msgspec.Struct, forbid_unknown_fields=True):
    problem: Problem  # the changed problem; `previous` is the published grid
    schedule: Schedule  # the new grid, valid for `problem`
    impacts: list[Impact]  # per change: what it broke, removed, added
    moves: list[Moved]  # every difference from the published grid, with its cause
    kept: int  # published placements held fixed
    free: list[str]  # meetings the solver was allowed to place or move


def resolve(
    problem: Problem,
    published: Schedule,
    changes: Sequence[Change],
    *,
    free: Sequence[str] = (),
    reoptimise: bool = False,
    options: SolveOptions | None = None,
    on_progress: ProgressHandler | None = None,
    stop: threading.Event | None = None,
) -> ResolveResult:
    """The grid after `changes`, moving only what they force (and what `free` names).

    Raises ProblemError naming `changes[i]...` or `free[i]` for a change or id that refers to nothing.
    """
    options = options or RESOLVE_OPTIONS
    published = _in_forum_time(problem, published)
    changed, found, broken = impacts_and_broken(problem, published, changes)
    alive = {m.id for m in changed.meetings}  # once: as the filter's condition it was built once per placement
    surviving = [p for p in published.placed if p.meeting in alive]
    changed = msgspec.structs.replace(
        changed, previous=[PreviousPlacement(p.meeting, p.start, p.room) for p in surviving]
    )
    causes = _causes(found, set(broken))
    known = {meeting.id for meeting in problem.meetings}
    for placement in published.placed:
        if placement.meeting not in known:  # withdrawn or declined before these changes
            causes.setdefault(placement.meeting, Cause("withdrawn", "the request is no longer in the forum"))
    _check_free(changed, free)
    for meeting_id in free:
        causes.setdefault(meeting_id, Cause("freed", "freed by the organiser"))
    for meeting_id in broken:  # broken before any change: kept, it would make no grid
        causes.setdefault(meeting_id, Cause("repair", "its published placement already broke a rule"))
    published_grid = _assignment(TimeGrid.of(changed.forum), surviving)
    causes.update(_urgent_displacements(changed, surviving, changes, found, causes))
    unbroken = {m: spot for m, spot in published_grid.items() if m not in causes}
    kept = {} if reoptimise else unbroken
    compiled = compile_problem(changed, pinned=kept)  # each kept meeting's published spot is its only choice
    baseline = greedy_assign(compiled, kept=unbroken)
    schedule = solve_compiled(compiled, baseline, options, on_progress, stop, fixed=frozenset(kept))
    return ResolveResult(
        problem=changed,
        schedule=schedule,
        impacts=found,
        moves=_moves(published, schedule, causes, reoptimise),
        kept=len(kept),
        free=sorted(info.id for info in compiled.meetings if info.id not in kept),
    )


def _in_forum_time(problem: Problem, published: Schedule) -> Schedule:
    """The published grid with aware forum-local times, so that the diff compares like with like."""
    grid = TimeGrid.of(problem.forum)
    placed = [msgspec.structs.replace(p, start=grid.local(p.start), end=grid.local(p.end)) for p in published.placed]
    return msgspec.structs.replace(published, placed=placed)


def _causes(found: list[Impact], still_broken: set[str]) -> dict[str, Cause]:
    """The meetings the changes force to move, each charged to its change.

    A meeting broken by one change and made valid again by a later one (changes
    that cancel each other) is not forced: it is kept. One broken again after
    that is charged to the change that broke it last, the one that keeps it broken.
    """
    causes: dict[str, Cause] = {}
    for impact in found:
        for meeting_id in impact.breaks:
            if meeting_id in still_broken:
                causes[meeting_id] = Cause("change", impact.summary, impact.change)
        for meeting_id in [*impact.removes, *impact.adds]:
            causes.setdefault(meeting_id, Cause("change", impact.summary, impact.change))
    return causes


def _check_free(problem: Problem, free: Sequence[str]) -> None:
    known = {meeting.id for meeting in problem.meetings}
    faults = [Finding(f"free[{i}]", f"unknown meeting {m!r}") for i, m in enumerate(free) if m not in known]
    if faults:
        raise ProblemError(faults)


def _assignment(grid: TimeGrid, placed: list[Placement]) -> Assignment:
    return {p.meeting: (slot, p.room) for p in placed if (slot := grid.slot_at(p.start)) is not None}


def _urgent_displacements(
    changed: Problem,
    surviving: list[Placement],
    changes: Sequence[Change],
    found: list[Impact],
    causes: dict[str, Cause],
) -> dict[str, Cause]:
    """For each urgent request that fits nowhere in the unbroken grid, free the
    one meeting whose move makes the cheapest room for it (`surviving`: the
    published placements of meetings still in the forum)."""
    freed: dict[str, Cause] = {}
    standing = [p for p in surviving if p.meeting not in causes]
    for impact, change in zip(found, changes, strict=True):
        if not (isinstance(change, MeetingRequested) and change.urgent):
            continue
        grid = Schedule(status="FEASIBLE", placed=standing)
        options = fit(changed, grid, change.meeting.id, k=1)
        if options and options[0].moves:
            for move in options[0].moves:
                message = f"makes room for the {impact.summary}"
                freed.setdefault(move.meeting, Cause("change", message, impact.change))
    return freed


def _moves(published: Schedule, schedule: Schedule, causes: dict[str, Cause], reoptimise: bool) -> list[Moved]:
    diff = diff_schedules(published.placed, schedule.placed)
    reoptimised = Cause("reoptimised", "moved by the re-optimisation the organiser asked for")
    moved = [
        Moved(move.meeting, move.kind, causes.get(move.meeting, reoptimised), move.before, move.after)
        for move in diff.moved
    ]
    moved += [
        Moved(p.meeting, "added", causes.get(p.meeting) or _waiting(published, p, causes), after=p) for p in diff.added
    ]
    moved += [Moved(p.meeting, "removed", causes.get(p.meeting, reoptimised), before=p) for p in diff.removed]
    if not reoptimise:
        # Without re-optimisation only freed meetings can move; anything else is a bug, not a cause.
        unexplained = [m.meeting for m in moved if m.kind != "added" and m.meeting not in causes]
        assert not unexplained, f"kept meetings moved: {unexplained}"
    return sorted(moved, key=lambda m: m.meeting)


def _waiting(published: Schedule, placed: Placement, causes: dict[str, Cause]) -> Cause:
    """A request unplaced in the published grid that now fits: charged to the
    change that moved or removed a meeting that blocked it, when there is one.
    A request the published grid does not name at all never waited in it: new."""
    unplaced = next((u for u in published.unplaced if u.meeting == placed.meeting), None)
    if unplaced is None:
        return Cause("new_request", "a new request, not in the published version")
    for blocker in unplaced.blockers:
        cause = causes.get(blocker)
        if cause is not None and cause.change is not None:
            return Cause(
                "change", f"a waiting request that now fits: {blocker} made room ({cause.message})", cause.change
            )
    return Cause("waiting", "a waiting request that now fits")

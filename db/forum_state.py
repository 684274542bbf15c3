"""The forum as every solve sees it, kept in this process between calls.

A move check, a stored move and a recorded change each need the stored forum's
problem with the recorded changes applied, and a validation of the grid they
start from; at UNGA's size rebuilding and validating them was most of each call.
They are kept here under a key read from the database in one statement:

- the forum's revision (migrations 0011 and 0014: every edit of what
  `db/problem.py` reads writes an audit entry, and the entry's transaction counts
  it as it commits), which pins the stored problem;
- the recorded changes themselves (their JSON, in order: a number could be
  taken again after a rolled-back change), which pin the changed problem.

Everything kept is a pure function of that key and, for a grid's validation, of
a version's row id (versions are immutable, and an id is never handed out twice).
A problem is read from the database only after its key; it is kept only when
the key, read again after it, has not moved: an edit committed in between would
otherwise be filed under the revision before it. So several API processes
and workers may share one database, each with its own copy. Memory is bounded:
the last `MAX_FORUMS` keys, each with its last `MAX_DERIVED` validations.

What a transaction keeps here while it runs is taken out again when it fails
(`attempt`, which db/transient.py wraps each attempt of a transaction in): a
rolled-back attempt, retried after a deadlock or refused, leaves nothing here.

What is handed out is shared between calls: read it, never change it in place.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import msgspec

from db.changes import apply_recorded
from db.problem import build_problem
from solver.changes import Change
from solver.model import Problem

MAX_FORUMS = 4  # a UNGA problem is a few MB
MAX_DERIVED = 8  # validations of grids per key: a version checked, then the versions moves make

T = TypeVar("T")

# (forum id, revision, the recorded changes as canonical JSON)
Key = tuple[str, int, bytes]


class ForumState:
    """The stored problem and the changed one for one key, and what was derived from them."""

    def __init__(self, key: Key, stored: Problem, changes: list[Change], changed: Problem) -> None:
        self.key, self.stored, self.changes, self.changed = key, stored, changes, changed
        self.kept = False  # in the cache: read from committed data under its own key
        self._derived: OrderedDict[tuple[str, int], Any] = OrderedDict()

    @property
    def revision(self) -> int:
        return self.key[1]

    def derived(self, what: str, version_id: int, compute: Callable[[], T]) -> T:
        """`compute()`, kept for (`what`, `version_id`): `what` names how it reads the version."""
        name = (what, version_id)
        if name in self._derived:
            self._derived.move_to_end(name)
            found: T = self._derived[name]
            return found
        value = compute()
        self.remember(what, version_id, value)
        return value

    def knows(self, what: str, version_id: int) -> bool:
        return (what, version_id) in self._derived

    def remember(self, what: str, version_id: int, value: object) -> None:
        name = (what, version_id)
        undo = _undo.get()
        if undo is not None and self.kept and name not in self._derived:
            undo.append(lambda: self._forget(name, value))
        self._derived[name] = value
        self._derived.move_to_end((what, version_id))
        while len(self._derived) > MAX_DERIVED:
            self._derived.popitem(last=False)

    def _forget(self, name: tuple[str, int], value: object) -> None:
        if self._derived.get(name) is value:
            del self._derived[name]


_states: OrderedDict[Key, ForumState] = OrderedDict()

# The steps that take out again what the current attempt kept (`attempt`); None outside one.
_undo: ContextVar[list[Callable[[], None]] | None] = ContextVar("forum_state_undo", default=None)


@contextmanager
def attempt() -> Iterator[None]:
    """Whatever the block keeps (states, and what is derived from kept states) is taken out
    again when it raises, newest first; a state it replaced comes back. Per task: another
    request's states are left alone."""
    undo: list[Callable[[], None]] = []
    token = _undo.set(undo)
    try:
        yield
    except BaseException:
        for step in reversed(undo):
            step()
        raise
    finally:
        _undo.reset(token)


# The forum's revision, whether this transaction has made a setup edit of it, and the recorded
# changes. Such an edit is part of what the transaction reads, yet may still roll back, and the
# revision counts it only at commit (migration 0014): a read made after it is used, never kept.
# Its audit entry says so: an entry still unnumbered is the transaction's own (every committed
# one has its number), and `is_setup_edit` is the rule the revision counts by.
_KEY = """
SELECT coalesce(r.revision, 0) AS revision,
       EXISTS (SELECT 1 FROM audit_log a
               WHERE a.forum_id = $1 AND a.number IS NULL
                 AND is_setup_edit(a.entity, a.action, a.before, a.after)) AS own,
       c.change
FROM forums f
LEFT JOIN forum_revisions r ON r.forum_id = f.id
LEFT JOIN forum_changes c ON c.forum_id = f.id
WHERE f.id = $1 ORDER BY c.number
"""


def changes_key(changes: list[Change]) -> bytes:
    return msgspec.json.encode(changes)


class _Read(msgspec.Struct, frozen=True):
    key: Key
    own: bool  # this transaction has a setup edit of the forum, not yet committed
    changes: list[Change]


async def _read_key(connection: asyncpg.Connection, forum_id: Any) -> _Read | None:
    """The forum's key and its recorded changes, in one statement (one snapshot); None: no forum."""
    rows = await connection.fetch(_KEY, forum_id)
    if not rows:
        return None
    changes = [msgspec.convert(row["change"], Change) for row in rows if row["change"] is not None]
    return _Read((str(forum_id), int(rows[0]["revision"]), changes_key(changes)), bool(rows[0]["own"]), changes)


async def forum_state(connection: asyncpg.Connection, forum_id: Any) -> ForumState | None:
    """The forum's state as it is now; None when there is no such forum."""
    read = await _read_key(connection, forum_id)
    if read is None:
        return None
    state = _states.get(read.key)
    if state is not None and not read.own:
        _states.move_to_end(read.key)
        return state
    stored = await build_problem(connection, forum_id, datetime.now(UTC))
    if stored is None:
        return None
    state = ForumState(read.key, stored, read.changes, apply_recorded(stored, read.changes))
    again = await _read_key(connection, forum_id)
    if not read.own and again is not None and again.key == read.key:
        _remember(state)
    return state


def after_change(state: ForumState, change: Change, changed: Problem) -> ForumState:
    """The state once `change` is recorded, `changed` being `state.changed` with it applied
    (as `solver.changes.impacts` answers it: it applied, so it is among those that still apply).
    Kept at once when `state` is: its key names its stored problem and every change, so it is
    right whether or not the transaction recording the change commits."""
    changes = [*state.changes, change]
    key = (state.key[0], state.key[1], changes_key(changes))
    following = ForumState(key, state.stored, changes, changed)
    if state.kept:
        _remember(following)
    return following


def _remember(state: ForumState) -> None:
    previous = _states.get(state.key)
    undo = _undo.get()
    if undo is not None and previous is not state:
        undo.append(lambda: _put_back(state, previous))
    state.kept = True
    _states[state.key] = state
    _states.move_to_end(state.key)
    while len(_states) > MAX_FORUMS:
        _states.popitem(last=False)


def _put_back(state: ForumState, previous: ForumState | None) -> None:
    """Undo `_remember(state)`: `previous` in its place again, unless another call replaced it since."""
    state.kept = False
    if _states.get(state.key) is not state:
        return
    if previous is None:
        del _states[state.key]
    else:
        _states[state.key] = previous


def forget_all() -> None:
    """Empty the cache (tests compare an answer made from it with one made without)."""
    _states.clear()


def kept() -> list[ForumState]:
    """The states kept, least recently used first."""
    return list(_states.values())

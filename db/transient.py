"""A transaction that fails for a transient reason is run again, a bounded number of times.

PostgreSQL aborts one transaction of a deadlock (SQLSTATE 40P01), and under REPEATABLE
READ or SERIALIZABLE one whose reads a concurrent commit made stale (40001); nothing
of it is stored, and the same work run again normally succeeds once the other
transaction has finished. `retrying` runs an attempt again after such a failure,
after a short random pause (so that two victims do not collide again in step), up
to `ATTEMPTS` times in all; the last failure is raised (the API answers 503 with
Retry-After, api/errors.py).

An attempt must be the whole transaction, from its BEGIN to its COMMIT, and must
do nothing outside the database that running it again would repeat (a webhook
post, a file written, a message sent): work like that happens after the commit.
The one such thing allowed is db/forum_state's cache, and what an attempt keeps
there is taken out again when it fails (`forum_state.attempt`).

A connection lost before the attempt sent its COMMIT (`LostBeforeCommit`, which the
caller raises: only it knows where the loss happened) is retried too: PostgreSQL rolls
back whatever a lost connection had not committed, so nothing of the attempt was stored.
A loss during the COMMIT, or of a change made without a transaction (one statement that
commits itself), is not: whether it was applied cannot be told from here, and the API
answers 503 with Retry-After (api/errors.py), leaving the client to read and decide.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from db import forum_state

T = TypeVar("T")

# Deadlock detected (40P01) and serialization failure (40001): the transaction was rolled back whole.
RETRYABLE: tuple[type[asyncpg.PostgresError], ...] = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# The connection itself failed: the server closed it (terminated, shutting down) or it broke.
LOST: tuple[type[BaseException], ...] = (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError, ConnectionError)
ATTEMPTS = 3
# The pause before attempt n + 1 is drawn from [0, PAUSE_SECONDS * 2 ** (n - 1)]: 0-50 ms, then 0-100 ms.
PAUSE_SECONDS = 0.05

_log = logging.getLogger("sidelines.db")


class LostBeforeCommit(Exception):
    """The attempt's connection was lost before its COMMIT was sent: nothing of it was stored.
    Raised from the loss, which stays in the chain (api/errors.py reads it there for the 503)."""


def connection_lost(error: BaseException) -> bool:
    """Whether `error`, or what it was raised from or while handling, is the connection's loss:
    asyncpg raises InterfaceError from a rollback on a closed connection, in the loss's context."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, LOST):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def retrying(attempt: Callable[[], Awaitable[T]], what: str, *, attempts: int = ATTEMPTS) -> T:
    """`attempt()`, run again when it fails with a RETRYABLE error, `attempts` times at most;
    `what` names it in the log ("POST /forums/.../import/delegations")."""
    number = 1
    while True:
        try:
            with forum_state.attempt():
                return await attempt()
        except RETRYABLE as error:
            if number >= attempts:
                raise
            _log.info(
                "%s: %s (SQLSTATE %s); retrying, attempt %d of %d", what, error, error.sqlstate, number + 1, attempts
            )
        except LostBeforeCommit as error:
            if number >= attempts:
                raise
            _log.info(
                "%s: connection lost before COMMIT (%s); retrying, attempt %d of %d",
                what,
                error.__cause__,
                number + 1,
                attempts,
            )
        await asyncio.sleep(random.uniform(0, PAUSE_SECONDS * 2 ** (number - 1)))
        number += 1

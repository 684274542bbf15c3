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

Failures of the connection itself (the server gone, a connection lost) are not
retried: whether a COMMIT in flight was applied cannot be told from here.
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
ATTEMPTS = 3
# The pause before attempt n + 1 is drawn from [0, PAUSE_SECONDS * 2 ** (n - 1)]: 0-50 ms, then 0-100 ms.
PAUSE_SECONDS = 0.05

_log = logging.getLogger("sidelines.db")


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
        await asyncio.sleep(random.uniform(0, PAUSE_SECONDS * 2 ** (number - 1)))
        number += 1

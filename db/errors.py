"""Errors of the database layer that the command line reports in a line (no asyncpg import here,
so that `sidelines --help` stays fast)."""

from __future__ import annotations


class DatabaseUnreachable(Exception):
    """The database cannot be connected to: a wrong DATABASE_URL, or the server is down."""


class DatabaseUnavailable(ConnectionError):
    """A pool has no connection to give: the server does not answer or refuses connections, or
    every connection stayed busy past the pool's acquire timeout (db.pool.Pool). The API answers
    503 with Retry-After; an OSError, so that code retrying on one (the webhook dispatcher, the
    readiness check) goes on catching it. `busy`: the server answered, but no connection came free
    in time (an overloaded API); the message (logged, never shown to a client) says the rest."""

    def __init__(self, message: str, *, busy: bool = False) -> None:
        super().__init__(message)
        self.busy = busy

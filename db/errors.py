"""Errors of the database layer that the command line reports in a line (no asyncpg import here,
so that `sidelines --help` stays fast)."""

from __future__ import annotations


class DatabaseUnreachable(Exception):
    """The database cannot be connected to: a wrong DATABASE_URL, or the server is down."""

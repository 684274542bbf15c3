"""The app's one Litestar guard: who is calling, settled before anything else of the request.

Litestar runs guards before the `before_request` hook (which decodes the JSON body,
api/input_checks.py) and before a handler's arguments and dependencies are resolved. The
caller used to be a dependency, resolved after the body: a request without a token, or with
a wrong one, was answered 400 or 422 about its body (telling an anonymous client the body's
rules, at the cost of decoding it) and 401 only once the body was right.

So the token is looked up here, once, for every route whose handler takes a `caller`; no
token, or one that names no one, answers 401 before the body is read. The caller found is
left in the request's state, where `provide_caller` (api/guards.py) hands it to the handler.
What each kind of token may do is still decided by the guards the handler calls (api/guards.py):
a wrong kind answers 403, or 404 where the resource is hidden from it, as before.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.types import Guard

from api.errors import Unauthorized
from api.guards import CALLER_STATE, identify
from api.openapi import CALLER, route_access


def authenticating(pool: asyncpg.Pool) -> Guard:
    """The guard for the app's `guards`, looking tokens up in `pool`."""

    async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if CALLER not in handler.parsed_fn_signature.parameters:
            return  # a public route: it takes no token (the document says `security: []`)
        caller = await identify(connection, pool)
        if caller.kind == "anonymous":
            raise Unauthorized(_needs(handler))
        connection.state[CALLER_STATE] = caller

    return authenticate


ADMIN_TOKEN = "the server's admin token"
_NEEDS: dict[Any, str] = {}  # each handler's function -> what a request without a token lacks


def _needs(handler: BaseRouteHandler) -> str:
    """What a request without a token lacks: the admin's token where only it will do."""
    if handler.fn not in _NEEDS:
        access = route_access(handler) if isinstance(handler, HTTPRouteHandler) else None
        admin_only = access is not None and access.kinds == {"admin"}
        _NEEDS[handler.fn] = f"this endpoint needs {ADMIN_TOKEN if admin_only else 'a bearer token'}"
    return _NEEDS[handler.fn]

"""Who is calling, and what they may see.

Tokens arrive as `Authorization: Bearer <token>` and are compared by their
SHA-256 hash: neither organiser nor delegation tokens are stored in plain text.
The admin token (SIDELINES_ADMIN_TOKEN) only creates forums.

Anything outside the caller's reach answers 404, exactly as if it did not exist:
another forum, another delegation, a request the caller is not party to. Only an
endpoint of the caller's own forum that its role may not use answers 403.

Each guard says which kinds of token it lets through (`admits`); the OpenAPI document's
`security` of each operation is derived from the guards its handler calls
(api/openapi.py, `route_access`), so a guard's declaration is what the document says.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection

from api.errors import Forbidden, NotFound, Unauthorized, missing
from db.queries.forums import find_token_owner
from db.tokens import hash_token as hash_token  # re-exported: the controllers issue tokens through the guards
from db.tokens import new_token as new_token

CallerKind = Literal["anonymous", "admin", "organiser", "delegation"]
TokenKind = Literal["admin", "organiser", "delegation"]
TOKEN_KINDS: tuple[TokenKind, ...] = ("admin", "organiser", "delegation")
OWN_ONLY = "Own resources only"  # how a note on a delegation's reach begins, in the document too


class Access(msgspec.Struct, frozen=True):
    """What a guard lets through: the kinds of token, and a note on their reach, if any."""

    kinds: frozenset[TokenKind]
    note: str | None = None  # a sentence for the operation's description


ACCESS: dict[Callable[..., Any], Access] = {}  # each guard -> what it lets through
_Guard = TypeVar("_Guard", bound=Callable[..., Any])


def admits(*kinds: TokenKind, note: str | None = None) -> Callable[[_Guard], _Guard]:
    """Declares a guard: the kinds of token it lets through (every other kind is refused)."""

    def declared(guard: _Guard) -> _Guard:
        ACCESS[guard] = Access(frozenset(kinds), note)
        return guard

    return declared


OWN_DELEGATION = (
    f"{OWN_ONLY}: a delegation's token reaches its own delegation only;"
    " another delegation's answers 404, as if it did not exist."
)


class Caller(msgspec.Struct, frozen=True):
    kind: CallerKind
    forum_id: UUID | None = None
    delegation_id: str | None = None
    organiser_token: int | None = None  # which of the forum's organiser tokens (its number)
    closed: bool = False  # the caller's forum is closed: an organiser may read, not change (api/http.py)

    @property
    def actor(self) -> str:
        """Who did it, for audit rows and idempotency keys: `delegation:<forum>/<delegation>`,
        `organiser:<forum>/<token number>` (`organiser:<forum>` in entries written before
        migration 0018, when a forum had one organiser token), `admin`, `cli`."""
        if self.kind == "delegation":
            return f"delegation:{self.forum_id}/{self.delegation_id}"
        if self.kind == "organiser":
            return f"organiser:{self.forum_id}/{self.organiser_token}"
        return self.kind


async def identify(connection: ASGIConnection[Any, Any, Any, Any], pool: asyncpg.Pool) -> Caller:
    """Whose token the request carries (one lookup): 401 for a malformed header, an unknown or
    revoked token, or a delegation's token of a closed forum; anonymous without a header."""
    digest = token_digest(connection)
    if digest is None:
        return Caller("anonymous")
    admin_hash: str | None = connection.app.state.admin_token_hash
    if admin_hash is not None and hmac.compare_digest(digest, admin_hash):
        return Caller("admin")
    async with pool.acquire() as db:
        owner = await find_token_owner(db, digest)
    if owner is None:
        raise Unauthorized("unknown or revoked token")
    if owner.delegation_id is None:
        return Caller("organiser", owner.forum_id, organiser_token=owner.organiser_token, closed=owner.closed)
    if owner.closed:
        raise Unauthorized("the forum is closed: its delegation tokens no longer work")
    return Caller("delegation", owner.forum_id, owner.delegation_id)


CALLER_STATE = "caller"  # the request's state key where api/authentication.py leaves its caller


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """The caller the app's guard identified (api/authentication.py), before the body was read:
    it is not looked up again."""
    caller: Caller = request.state[CALLER_STATE]
    return caller


def token_digest(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The hash of the request's Bearer token (as stored); None without an Authorization header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return hash_token(token.strip())


async def still_holds(connection: asyncpg.Connection, caller: Caller, digest: str | None) -> bool:
    """Whether the token `caller` was found by still finds it: not replaced, revoked or removed
    with its delegation or forum, and a delegation's forum not closed. An answer that outlives
    its request (the event stream) asks this again before each thing it sends."""
    if digest is None or caller.kind not in ("organiser", "delegation"):
        return False
    owner = await find_token_owner(connection, digest)
    if owner is None or owner.forum_id != caller.forum_id or owner.delegation_id != caller.delegation_id:
        return False
    if caller.kind == "delegation":
        return not owner.closed
    return owner.organiser_token == caller.organiser_token


@admits("admin")
def require_admin(caller: Caller) -> None:
    if caller.kind == "anonymous":
        raise Unauthorized("creating a forum needs the server's admin token")
    if caller.kind != "admin":
        raise Forbidden("creating a forum needs the server's admin token")


@admits("admin", "organiser", "delegation")
def any_token(caller: Caller) -> None:
    """Any valid token: whose it is (GET /me)."""
    if caller.kind == "anonymous":
        raise Unauthorized("this endpoint needs a bearer token")


@admits("organiser", "delegation")
def forum_member(caller: Caller, forum_id: str) -> UUID:
    """The forum's id when the caller is its organiser or one of its delegations."""
    if caller.kind == "anonymous":
        raise Unauthorized("this endpoint needs a bearer token")
    try:
        parsed = UUID(forum_id)
    except ValueError:
        raise missing("path:forum_id", f"no forum {forum_id}") from None
    if caller.forum_id != parsed:
        raise missing("path:forum_id", f"no forum {forum_id}")
    return parsed


@admits("organiser")
def forum_organiser(caller: Caller, forum_id: str) -> UUID:
    parsed = forum_member(caller, forum_id)
    if caller.kind != "organiser":
        raise Forbidden("only the forum's organiser may do this")
    return parsed


@admits("organiser", note="To a delegation's token this answers 404, as if it did not exist.")
def organiser_hidden(caller: Caller, forum_id: str, what: str, field: str | None = None) -> UUID:
    """The organiser's forum id; to a delegation `what` is hidden, as if it did not exist (404)."""
    parsed = forum_member(caller, forum_id)
    if caller.kind != "organiser":
        raise NotFound(f"no {what}") if field is None else missing(field, f"no {what}")
    return parsed


@admits("organiser", "delegation", note=OWN_DELEGATION)
def delegation_reader(caller: Caller, forum_id: str, delegation_id: str) -> UUID:
    """The organiser, or the delegation itself; another delegation gets 404."""
    parsed = forum_member(caller, forum_id)
    if caller.kind == "delegation" and caller.delegation_id != delegation_id:
        raise missing("path:delegation_id", f"no delegation {delegation_id}")
    return parsed


@admits("organiser", "delegation", note=OWN_DELEGATION)
def participant_editor(caller: Caller, forum_id: str, delegation_id: str) -> UUID:
    """Who adds, corrects and deletes a delegation's people: the delegation itself, and the
    organiser, who imports them (CSV) and must be able to correct what it imported."""
    return delegation_reader(caller, forum_id, delegation_id)


@admits("organiser")
def delegation_organiser(caller: Caller, forum_id: str, delegation_id: str) -> UUID:
    """The organiser acting on a delegation; the delegation itself gets 403, any other 404."""
    parsed = delegation_reader(caller, forum_id, delegation_id)
    if caller.kind != "organiser":
        raise Forbidden("only the forum's organiser may do this")
    return parsed


@admits("delegation", note=OWN_DELEGATION)
def delegation_itself(caller: Caller, forum_id: str, delegation_id: str, what: str) -> UUID:
    """Only the delegation: things derived from or delivered to it alone (its feed link, its webhooks)."""
    parsed = delegation_reader(caller, forum_id, delegation_id)
    if caller.kind != "delegation":
        raise Forbidden(f"only the delegation itself manages {what}")
    return parsed

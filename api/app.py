"""The Litestar application: `create_app(pool)`, so tests and `sidelines serve` inject their pool.

OpenAPI 3.1 is served at /schema/openapi.json; /schema is the API reference written from it
on the server (api/reference.py, nothing loaded from outside), and /schema/scalar and
/schema/swagger the interactive viewers, which load their code from a CDN.
Answers are gzipped for clients that ask, except event streams and zip files (api/compression.py).
Creating a forum needs the admin token from SIDELINES_ADMIN_TOKEN (or the
`admin_token` argument); without one, forums cannot be created over HTTP.
"""

from __future__ import annotations

import os

import asyncpg
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components

from api.authentication import authenticating
from api.compression import compression_config
from api.controllers import changes as change_routes
from api.controllers import (
    csv_import,
    delegations,
    forum_views,
    forums,
    health,
    loading,
    moves,
    organisers,
    pages,
    publication,
    requests,
    runs,
    schedules,
    setup,
)
from api.controllers import notices as notice_routes
from api.errors import EXCEPTION_HANDLERS
from api.guards import hash_token, provide_caller
from api.input_checks import refuse_unstorable_input
from api.openapi import TOKEN_SCHEMES, TimeOfDaySchema, declare_errors, declare_tokens
from api.reference import documentation_plugins
from api.webhook_policy import allowed_networks

SCHEMA_PATH = "/schema"


def create_app(pool: asyncpg.Pool, admin_token: str | None = None) -> Litestar:
    admin_token = admin_token if admin_token is not None else os.environ.get("SIDELINES_ADMIN_TOKEN") or None
    allowed_networks()  # a malformed SIDELINES_WEBHOOK_ALLOW stops the app at start, with its reason

    async def provide_pool() -> asyncpg.Pool:
        return pool

    route_handlers = [
        forums.create_forum,
        forums.read_forum,
        forums.change_forum,
        *organisers.ROUTES,
        *setup.ROUTES,
        *delegations.ROUTES,
        *requests.ROUTES,
        *forum_views.ROUTES,
        *runs.ROUTES,
        *schedules.ROUTES,
        *loading.ROUTES,
        *publication.ROUTES,
        *notice_routes.ROUTES,
        *csv_import.ROUTES,
        *change_routes.ROUTES,
        *health.ROUTES,
        *moves.ROUTES,
        *pages.ROUTES,
    ]
    declare_errors(route_handlers)
    declare_tokens(route_handlers)  # each operation's `security`, from the guards its handler calls
    return Litestar(
        route_handlers=route_handlers,
        plugins=[TimeOfDaySchema()],
        # the token first: 401 before the body is read (api/authentication.py)
        guards=[authenticating(pool)],
        dependencies={"pool": Provide(provide_pool), "caller": Provide(provide_caller)},
        exception_handlers=EXCEPTION_HANDLERS,
        compression_config=compression_config(),
        before_request=refuse_unstorable_input,
        state=State({"admin_token_hash": hash_token(admin_token) if admin_token else None}),
        openapi_config=OpenAPIConfig(
            title="Sidelines",
            version="0.1.0",
            description="Bilateral meeting requests and grids for multilateral defence forums.",
            path=SCHEMA_PATH,
            render_plugins=documentation_plugins(SCHEMA_PATH),
            components=Components(security_schemes={kind: scheme for kind, scheme in TOKEN_SCHEMES.items()}),
        ),
    )

"""`POST /forums/{id}/import/{delegations|participants|requests}`: CSV files (organiser).

The body is the file itself (Content-Type text/csv); columns are in docs/csv.md.
All or nothing: a file with a bad row stores nothing and answers 422 naming each
row and column; a row that clashes with a stored item of the same id answers 409.
Importing the same file again answers 200 with every id under `unchanged`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response, post
from litestar.params import RawBody

from api.controllers.common import CallerDep, IdempotencyKey, PoolDep
from api.controllers.paths import ForumPath, ImportKindPath
from api.csv_import import KINDS, CsvError, CsvImported, import_csv
from api.errors import ApiError, BadRequest, Conflict, FieldError, NotFound, Unprocessable
from api.guards import forum_organiser
from api.http import Reply, run_change
from api.openapi import CsvFileOperation

MAX_ERRORS_IN_DETAIL = 5


def csv_problem(error: CsvError) -> ApiError:
    """The refused file as problem details: one entry per fault, named "row N, column C"."""
    shown = "; ".join(str(fault) for fault in error.errors[:MAX_ERRORS_IN_DETAIL])
    more = len(error.errors) - MAX_ERRORS_IN_DETAIL
    detail = f"{shown} (and {more} more)" if more > 0 else shown
    faults = [FieldError(fault.where, fault.message) for fault in error.errors]
    return Conflict(detail, faults) if error.conflict else Unprocessable(detail, faults)


@post(
    "/forums/{forum_id:str}/import/{kind:str}",
    tags=["import"],
    summary="Import delegations, participants or requests from a CSV file, all or nothing (organiser)",
    status_code=200,
    operation_class=CsvFileOperation,
    description="The request body is the CSV file itself (Content-Type: text/csv, UTF-8); its columns are in "
    "docs/csv.md. A file with a bad row stores nothing: 422 names each row and column.",
)
async def import_csv_file(
    request: Request[Any, Any, Any],
    pool: PoolDep,
    caller: CallerDep,
    forum_id: ForumPath,
    kind: ImportKindPath,
    body: RawBody,  # the file itself, never decoded as JSON
    idempotency_key: IdempotencyKey = None,
) -> Response[CsvImported]:
    parsed = forum_organiser(caller, forum_id)
    if kind not in KINDS:
        raise NotFound(f"no import of {kind}; imports: {', '.join(KINDS)}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the file must be UTF-8 text", [FieldError("$", "not UTF-8")]) from None

    async def work(connection: asyncpg.Connection) -> Reply[CsvImported]:
        try:
            imported = await import_csv(connection, parsed, kind, text, caller.actor)
        except CsvError as error:
            raise csv_problem(error) from None
        replay = CsvImported(imported.kind, imported.created, imported.unchanged, None) if imported.tokens else None
        return Reply(imported, 200, replay_body=replay)

    return await run_change(pool, request, caller, idempotency_key, work)


ROUTES = [import_csv_file]

"""The caller's account as a whole: export everything the service holds about it, or erase it
(how-to/privacy.md). Both work for every kind of caller, and run in the caller's own
transaction, under row-level security, like every request."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from uuid import UUID

import psycopg
from fastapi import APIRouter, HTTPException, Request, Response, status
from psycopg import AsyncConnection
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.database import export
from api.database.requests import anonymous_transaction
from api.deps import JSON, Db
from api.identity import audit
from api.models import AccountErasure
from api.routes.auth import (
    CALLER_ERRORS,
    RATE_LIMITED,
    attempt_password,
    too_many,
    wait_seconds,
)
from api.routes.responses import BODY_ERRORS, UNAVAILABLE, error
from api.web.json_body import StrictJsonRoute

OWN_ACCOUNT = "select email, password_parameters from app.own_account()"
ERASE = (
    "select app.erase_account(%(attempt)s, %(token_id)s, %(expires_at)s, %(client_address)s,"
    " %(user_agent)s, %(request_id)s)"
)

REFUSED = "PT403"  # app.erase_account's answer to an attempt that is not the password

router = APIRouter(
    prefix="/api/account", tags=["account"], responses=UNAVAILABLE, route_class=StrictJsonRoute
)


class TransactionResponse(StreamingResponse):
    """A streamed body read inside a transaction that the handler opened: the transaction ends
    when the response does, committing after the last chunk, rolling back if the client goes
    away or anything fails meanwhile."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        transaction: AbstractAsyncContextManager[object],
        headers: dict[str, str],
    ) -> None:
        super().__init__(content, media_type=JSON, headers=headers)
        self.transaction = transaction

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BaseException as exc:
            await self.transaction.__aexit__(type(exc), exc, exc.__traceback__)  # rolls back
            raise
        await self.transaction.__aexit__(None, None, None)  # commits


@router.get(
    "/export",
    responses={
        **CALLER_ERRORS,
        status.HTTP_200_OK: {
            "content": {JSON: {}},
            "description": "One JSON document, streamed: format, exported_at, profile, tasks "
            "(as the tasks API sends them), audit_events, sessions (live refresh families of "
            "built-in accounts, without tokens).",
        },
    },
    summary="Everything the service holds about the caller",
)
async def export_account(request: Request, db: Db) -> Response:
    """Sent as an attachment, so that a browser saves it; streamed, so that its size does not
    matter."""
    transaction = db.transaction()
    conn, user_id = await transaction.__aenter__()
    try:
        await audit.record(conn, request, "account_exported", user_id)
        user = await export.profile(conn)
    except BaseException as exc:
        await transaction.__aexit__(type(exc), exc, exc.__traceback__)  # rolls back
        raise
    day = datetime.now(UTC).date().isoformat()
    disposition = f'attachment; filename="todo-export-{day}.json"'
    return TransactionResponse(
        export.document(conn, user), transaction, {"Content-Disposition": disposition}
    )


async def confirm_password(
    request: Request, email: str, parameters: str, password: str | None
) -> UUID:
    """A built-in account's erasure is confirmed with its password, counted against the same
    limit as sign-in (a stolen access token alone must not erase the account). The database
    compares, as at sign-in: this hashes the password with the account's parameters and has
    the attempt counted; app.erase_account compares it. Returns the attempt's id."""
    if password is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail='Confirm with the account\'s password: {"password": "..."}',
        )
    client = audit.client_address(request)
    async with anonymous_transaction(request.app.state.pool) as conn:
        wait = await wait_seconds(conn, request, email, client)
    if wait:
        raise too_many(wait)
    return await attempt_password(request, email, parameters, password)


async def own_account(conn: AsyncConnection) -> tuple[str, str] | None:
    """The caller's built-in account's email and hash parameters; None for a Better Auth user."""
    cur = await conn.execute(OWN_ACCOUNT)
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1])


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **CALLER_ERRORS,
        **BODY_ERRORS,
        **RATE_LIMITED,
        **error(status.HTTP_403_FORBIDDEN, "A built-in account's password is missing or wrong"),
        **error(status.HTTP_404_NOT_FOUND, "Nothing is stored for this caller (already erased)"),
    },
    summary="Erase the caller's data and sessions",
)
async def erase_account(request: Request, db: Db, body: AccountErasure | None = None) -> Response:
    """Deletes the caller's tasks, account, refresh tokens and sign-in failure counts, revokes
    every session this service issued, and keeps in the audit trail only that an erasure
    happened, under a pseudonym. A built-in account confirms with `{"password": ...}`. For a
    Better Auth user this erases what this service holds; their Better Auth user and sessions
    belong to the frontend, which deletes them (how-to/privacy.md)."""
    async with db.transaction(force_rollback=True) as (conn, _):
        account = await own_account(conn)
    attempt = None
    if account is not None:
        attempt = await confirm_password(request, *account, body.password if body else None)
    params = {
        **audit.event_params(request, "account_erased", None),  # whence, for the audit trail
        "attempt": attempt,
        "token_id": db.caller.token_id,
        "expires_at": db.caller.expires_at,
    }
    try:
        async with db.transaction() as (conn, _):
            await conn.execute(ERASE, params)
    except psycopg.Error as exc:
        if exc.sqlstate != REFUSED:
            raise
        async with db.transaction() as (conn, user_id):
            await audit.record(conn, request, "account_erase_refused", user_id)
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Wrong password") from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""The database side of one API request: the request functions it calls, the caller as SQL
parameters, and the one transaction a request runs in."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection

from api.database.pool import Pool
from api.identity.tokens import Caller

# The caller, as SQL: the app.request_context that app.begin_request and every request function
# (sql/functions/app.*_task*.sql) take, with request_params() as its parameters.
CONTEXT = (
    "row(%(user_id)s, %(token_id)s, %(session_token)s, %(session_table)s, %(email)s, %(name)s,"
    " %(path_user_id)s)::app.request_context"
)


def request_call(function: str, *args: str) -> str:
    """The statement that calls request function app.`function` with the caller (CONTEXT),
    then the named parameters `args`. Both are our own constants, never input."""
    params = "".join(f", %({name})s" for name in args)
    return f"select * from app.{function}({CONTEXT}{params})"  # noqa: S608


# The first statement of a transaction that needs more than one (sign-out, /me): resolve the
# caller, switch to app_user, set app.user_id, upsert the user (app.begin_request). Tests run it
# too.
REQUEST_CONTEXT = f"select app.begin_request({CONTEXT})"
# Transactions with no user yet (sign-up, sign-in, refresh): app_user, and app.user_id unset.
ANONYMOUS_CONTEXT = "select pg_catalog.set_config('role', 'app_user', true)"


def request_params(
    caller: Caller,
    *,
    session_table: str | None = None,
    path_user_id: str | None = None,
) -> dict[str, object]:
    """CONTEXT's parameters; `path_user_id` is a user id the URL names, which must be the
    caller's (403 otherwise)."""
    return {
        "user_id": caller.user_id,
        "token_id": caller.token_id,
        "session_token": caller.session_token,
        "session_table": session_table if caller.session_token is not None else None,
        "email": caller.email,
        "name": caller.name,
        "path_user_id": path_user_id,
    }


class RequestDatabase:
    """The database as one request's caller sees it, the caller's parameters already bound.

    `one` runs a request function (sql/functions/app.*_task*.sql): a single statement that
    opens the request with app.begin_request and does the work, on an autocommit connection,
    so that it is one transaction and one round trip. `transaction` is for handlers that need
    several statements (sign-out, /me): REQUEST_CONTEXT first, then theirs. Neither uses
    psycopg's pipeline mode, which cost more Python time per request than the round trips it
    saved (how-to/benchmark.md, "Tried and not kept")."""

    __slots__ = ("caller", "context", "pool")

    def __init__(
        self,
        pool: Pool,
        context: dict[str, object],
        caller: Caller,
    ) -> None:
        self.pool = pool
        self.context = context
        self.caller = caller

    async def one(self, query: str, params: dict[str, object] | None = None) -> tuple[Any, ...]:
        """The statement's one row (request functions always return one). When the connection
        breaks under it, the statement may have committed: it is not run again, and the
        request gets 503 (api.web.errors)."""
        async with self.pool.connection() as conn:
            return await first_row(
                conn, query, {**self.context, **params} if params else self.context
            )

    async def read(self, query: str, params: dict[str, object] | None = None) -> tuple[Any, ...]:
        """`one`, for a request function that changes nothing a second run would change (a
        read, whose app.begin_request finds the user row a first run may have made): when the
        connection breaks under it, it runs once more, on another connection."""
        args = {**self.context, **params} if params else self.context
        async with self.pool.connection() as conn:
            try:
                return await first_row(conn, query, args)
            except psycopg.OperationalError:
                if not conn.broken:  # the database answered with an error: not a lost link
                    raise
        self.pool.availability.suspect()  # refused at once, rather than waiting, if it is gone
        async with self.pool.connection() as conn:
            return await first_row(conn, query, args)

    @asynccontextmanager
    async def transaction(
        self, *, force_rollback: bool = False
    ) -> AsyncIterator[tuple[AsyncConnection, str]]:
        """One transaction opened by REQUEST_CONTEXT; yields the connection and the user id
        (which only the database knows for a session token). `force_rollback` for a look that
        must leave nothing behind, not even the user's row created on first sight."""
        async with self.pool.connection() as conn, conn.transaction(force_rollback=force_rollback):
            cur = await conn.execute(REQUEST_CONTEXT, self.context)
            row = await cur.fetchone()
            assert row is not None
            yield conn, row[0]


async def first_row(conn: AsyncConnection, query: str, args: dict[str, object]) -> tuple[Any, ...]:
    cur = await conn.execute(query, args)
    row = await cur.fetchone()
    assert row is not None
    return row


@asynccontextmanager
async def anonymous_transaction(
    pool: Pool,
) -> AsyncIterator[AsyncConnection]:
    """A transaction as app_user with no user: only the security definer functions that sign
    users up and in, and the audit trail, are open to it."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(ANONYMOUS_CONTEXT)
        yield conn

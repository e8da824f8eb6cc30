"""The connection pool, and the one transaction each request runs in."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.security import Caller
from api.settings import Settings

# The first statement of every request's transaction: resolve the caller, switch to app_user,
# set app.user_id, upsert the user (sql/functions/app.begin_request.sql). Tests run it too,
# with request_params().
REQUEST_CONTEXT = (
    "select app.begin_request(%(user_id)s, %(token_id)s, %(session_token)s, %(session_table)s,"
    " %(email)s, %(name)s)"
)
# Transactions with no user yet (sign-up, sign-in, refresh): app_user, and app.user_id unset.
ANONYMOUS_CONTEXT = "select pg_catalog.set_config('role', 'app_user', true)"


def request_params(
    caller: Caller | str | None, session_table: str | None = None
) -> dict[str, object]:
    if caller is None or isinstance(caller, str):
        caller = Caller(user_id=caller)
    return {
        "user_id": caller.user_id,
        "token_id": caller.token_id,
        "session_token": caller.session_token,
        "session_table": session_table if caller.session_token is not None else None,
        "email": caller.email,
        "name": caller.name,
    }


def create_pool(settings: Settings, conninfo: str) -> AsyncConnectionPool[AsyncConnection]:
    """One bounded pool per process. Connections are autocommit, so `conn.transaction()` is a
    real begin/commit, and carry no session state: every setting a request needs is
    transaction-local, which keeps them usable behind a transaction-mode pooler."""
    return AsyncConnectionPool(
        conninfo,
        open=False,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout,
        kwargs={"autocommit": True},
        name="api",
    )


def recheck_soon(state: Any) -> None:
    """After one connection turned out broken, test the idle ones in the background, so that a
    database restart costs one failed request rather than one per pooled connection. `state`
    is the app's: it holds the pool, and the check under way (one at a time)."""
    running: asyncio.Task[None] | None = getattr(state, "pool_check", None)
    if running is None or running.done():
        state.pool_check = asyncio.create_task(state.pool.check())


@asynccontextmanager
async def request_transaction(
    pool: AsyncConnectionPool[AsyncConnection], caller: Caller, session_table: str
) -> AsyncIterator[tuple[AsyncConnection, str]]:
    """One transaction, opened by REQUEST_CONTEXT; yields the connection and the user id.
    Not in pipeline mode: measured on loopback (bench/), psycopg's pipeline costs more Python
    time per request (0.6 ms) than the two round trips it saves (plain: 0.4 ms, and 25% more
    requests per second)."""
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(REQUEST_CONTEXT, request_params(caller, session_table))
        user_id = caller.user_id
        if user_id is None:
            row = await cur.fetchone()
            assert row is not None
            user_id = row[0]
        yield conn, user_id


@asynccontextmanager
async def anonymous_transaction(
    pool: AsyncConnectionPool[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    """A transaction as app_user with no user: only the security definer functions that sign
    users up and in, and the audit trail, are open to it."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(ANONYMOUS_CONTEXT)
        yield conn

"""The connection pool, and the one transaction each request runs in."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.settings import Settings

# The first statement of every request's transaction: switch to app_user, set app.user_id,
# create the user on first sight (sql/functions/app.begin_request.sql). Tests run it too.
REQUEST_CONTEXT = "select app.begin_request(%s)"


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


async def open_pool(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    # Not waiting for connections: the service starts, /readyz says whether the database is
    # reachable, and requests get 503 until it is.
    await pool.open(wait=False)


_checks: dict[int, asyncio.Task[None]] = {}


def recheck_soon(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    """After one connection turned out broken, test the idle ones in the background, so that a
    database restart costs one failed request rather than one per pooled connection."""
    running = _checks.get(id(pool))
    if running is None or running.done():
        _checks[id(pool)] = asyncio.create_task(pool.check())


@asynccontextmanager
async def request_transaction(
    pool: AsyncConnectionPool[AsyncConnection], user_id: str
) -> AsyncIterator[AsyncConnection]:
    """One transaction, opened by REQUEST_CONTEXT. In pipeline mode, begin, the context and the
    handler's statement travel together, and commit with the final sync: two round trips for
    a one-statement request instead of four."""
    async with pool.connection() as conn, conn.pipeline(), conn.transaction():
        await conn.execute(REQUEST_CONTEXT, (user_id,))
        yield conn

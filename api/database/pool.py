"""The connection pool: one per process, and what keeps it healthy."""

import asyncio
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.database.conninfo import prepare_threshold
from api.settings import Settings


def create_pool(settings: Settings, conninfo: str) -> AsyncConnectionPool[AsyncConnection]:
    """One bounded pool per process. Connections are autocommit, so `conn.transaction()` is a
    real begin/commit, and carry no session state: every setting a request needs is
    transaction-local, which keeps them usable behind a transaction-mode pooler, where
    server-side prepared statements are turned off too (api.database.conninfo)."""
    return AsyncConnectionPool(
        conninfo,
        open=False,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout,
        kwargs={
            "autocommit": True,
            "prepare_threshold": prepare_threshold(settings.database_prepared_statements, conninfo),
        },
        name="api",
    )


def recheck_soon(state: Any) -> None:
    """After one connection turned out broken, test the idle ones in the background, so that a
    database restart costs one failed request rather than one per pooled connection. `state`
    is the app's: it holds the pool, and the check under way (one at a time)."""
    running: asyncio.Task[None] | None = getattr(state, "pool_check", None)
    if running is None or running.done():
        state.pool_check = asyncio.create_task(state.pool.check())

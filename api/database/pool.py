"""The connection pool: one per process, and what keeps it healthy."""

import asyncio
import select
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.database.availability import Availability, DatabaseUnavailableError
from api.database.conninfo import prepare_threshold
from api.settings import Settings

# How long the pool itself keeps re-trying a connection it lost before it gives up on it; the
# availability probe (api.database.availability) decides when the database is back, and the
# next request that needs a connection makes one.
RECONNECT_SECONDS = 2.0


class Pool(AsyncConnectionPool[AsyncConnection]):
    """psycopg's pool, with two things added to getconn (see how-to/operate-through-outages.md):

    - while the database is known to be down, it refuses at once (DatabaseUnavailableError),
      and so do the requests already waiting when it goes down, instead of waiting
      POOL_TIMEOUT for a connection that cannot be made;
    - an idle connection the server closed in the meantime (a restart, a terminated backend, a
      compute that scaled to zero) is found before anything is sent on it, thrown away, and
      the next one taken: it costs one non-blocking poll of the socket, not a round trip.
    """

    availability: Availability
    lent: set[AsyncConnection]  # connections given out and not yet returned

    async def getconn(self, timeout: float | None = None) -> AsyncConnection:  # noqa: ASYNC109
        availability = self.availability
        availability.check()
        task = asyncio.current_task()
        assert task is not None
        availability.waiting.add(task)
        try:
            while True:
                conn = await super().getconn(timeout)
                if not closed_by_server(conn):
                    self.lent.add(conn)
                    return conn
                await conn.close()  # the pool replaces a closed connection it is given back
                await self.putconn(conn)
                availability.suspect()
        except asyncio.CancelledError:
            if task not in availability.refused:
                raise
            availability.refused.discard(task)
            task.uncancel()
            raise DatabaseUnavailableError(availability.reason or "unreachable") from None
        finally:
            availability.waiting.discard(task)

    async def putconn(self, conn: AsyncConnection) -> None:
        self.lent.discard(conn)
        await super().putconn(conn)


def closed_by_server(conn: AsyncConnection) -> bool:
    """Whether the server has ended this idle connection. An idle connection is sent nothing
    (the service listens for no notifications), so anything to read on its socket is the
    server's goodbye: an error such as "terminating connection", or the end of the stream."""
    poll = select.poll()
    poll.register(conn.pgconn.socket, select.POLLIN)
    return bool(poll.poll(0))


def create_pool(settings: Settings, conninfo: str, availability: Availability) -> Pool:
    """One bounded pool per process. Connections are autocommit, so `conn.transaction()` is a
    real begin/commit, and carry no session state: every setting a request needs is
    transaction-local, which keeps them usable behind a transaction-mode pooler, where
    server-side prepared statements are turned off too (api.database.conninfo)."""
    pool = Pool(
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
        reconnect_timeout=RECONNECT_SECONDS,
        reconnect_failed=lambda _: availability.suspect(),
    )
    pool.availability = availability
    pool.lent = set()
    return pool


def recheck_soon(state: Any) -> None:
    """After one connection turned out broken, test the idle ones in the background, so that a
    database restart costs one failed request rather than one per pooled connection. `state`
    is the app's: it holds the pool, and the check under way (one at a time). The database
    may be gone, too: the availability probe finds out."""
    state.availability.suspect()
    running: asyncio.Task[None] | None = getattr(state, "pool_check", None)
    if running is None or running.done():
        state.pool_check = asyncio.create_task(state.pool.check())

"""A clean stop: what the service does between SIGTERM (or Ctrl-C) and its exit.

uvicorn stops accepting connections at once, closes the idle ones, lets each busy one finish
its response and then closes it, and runs the lifespan's shutdown (the pool closes) once no
request is left. What it does not do is bound that wait in a way a client can live with: after
its timeout_graceful_shutdown it cancels what still runs, and the client gets a plain-text
500 for a request that may or may not have been carried out.

So the app keeps its own deadline, SHUTDOWN_TIMEOUT seconds after the first connection was
told to shut down (api/web/server.py calls `begin`). At the deadline:
- the database is closed to requests (api.database.availability): a request still waiting
  for its turn or for a connection, or starting now, gets 503 with Retry-After at once;
- a statement still running is cancelled in PostgreSQL. A cancelled statement has done
  nothing (its transaction rolls back), and its request answers 503 (api/web/errors.py), so a
  503 never hides a write that was made; a statement that finished first answers as usual.
uvicorn's own timeout is set a little later (api/cli.py), for whatever still runs then.
"""

import asyncio
import logging

import psycopg
from psycopg.pq import TransactionStatus

from api.database.availability import Availability
from api.database.pool import Pool

log = logging.getLogger(__name__)

REASON = "shutting down"


class Shutdown:
    def __init__(self, timeout: float, pool: Pool, availability: Availability) -> None:
        self.timeout = timeout
        self.pool = pool
        self.availability = availability
        self.deadline: asyncio.TimerHandle | None = None
        self.expiry: asyncio.Task[None] | None = None

    def begin(self) -> None:
        """The server began to shut down: start the deadline (once)."""
        if self.deadline is None:
            log.info("shutting down: requests in progress have %.1f s to finish", self.timeout)
            self.deadline = asyncio.get_running_loop().call_later(self.timeout, self.expire)

    def expire(self) -> None:
        self.expiry = asyncio.get_running_loop().create_task(self.answer_the_rest())

    async def answer_the_rest(self) -> None:
        self.availability.close(REASON)
        running = [
            conn
            for conn in self.pool.lent
            if conn.pgconn.transaction_status == TransactionStatus.ACTIVE
        ]
        log.warning("shutdown deadline: cancelling %d running statements", len(running))
        for conn in running:
            try:
                await conn.cancel_safe(timeout=1.0)
            except psycopg.Error as exc:  # it may just have ended; its request answers
                log.info("could not cancel a statement: %s", exc)

    def stop(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()

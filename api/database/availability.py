"""Whether the database answers, as this process last found out, and what requests do meanwhile.

The service starts with the database unknown ("starting"), and is up once it has reached it
(after the migrate step, when `serve` runs one). It goes down when a connection attempt fails,
and up again when the next one succeeds. A connection that breaks is only a suspicion: the
server may have been restarted, or a compute suspended and woken (Neon closes idle
connections when it scales to zero); a probe connects to find out.

While the database is down (or not reached yet), a request that needs it is refused at once
with 503 instead of waiting POOL_TIMEOUT for a connection the pool cannot make, and so are the
requests already waiting for a pooled connection when it goes down. A probe connects again
after DATABASE_RETRY_MIN_DELAY, then twice as long each time up to DATABASE_RETRY_MAX_DELAY,
and the service is up as soon as one connection succeeds. Every failed attempt is logged.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import psycopg

log = logging.getLogger(__name__)

STARTING = "not reached yet"
# A server that refuses a connection because it is full (53300). psycopg gives a failed
# connection no SQLSTATE, so the messages are matched too: PostgreSQL's own (English, as on Neon)
# and PgBouncer's.
TOO_MANY_CONNECTIONS = "53300"
FULL = ("too many clients", "connection slots are reserved", "no more connections allowed")


class DatabaseUnavailableError(Exception):
    """The database is known not to answer: the request gets 503 now rather than wait."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe(exc: BaseException) -> str:
    """One line for the log: psycopg's messages span several, and name the host tried."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def full(exc: BaseException) -> bool:
    message = str(exc)
    return getattr(exc, "sqlstate", None) == TOO_MANY_CONNECTIONS or any(
        words in message for words in FULL
    )


class Availability:
    """The process's view of the database (see the module's description). One per app, on its
    event loop; `reason` is None while the database is up."""

    def __init__(
        self,
        conninfo: str,
        *,
        min_delay: float,
        max_delay: float,
        connect_timeout: float,
    ) -> None:
        self.conninfo = conninfo
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.connect_timeout = connect_timeout
        self.reason: str | None = STARTING
        self.down_since = time.monotonic()
        # Requests waiting for a pooled connection (api.database.pool), and those of them
        # that were told the database went down.
        self.waiting: set[asyncio.Task[object]] = set()
        self.refused: set[asyncio.Task[object]] = set()
        self.probe: asyncio.Task[None] | None = None
        self.final = False  # down for good: the migrate step failed, or the service is stopping

    def check(self) -> None:
        """Raises DatabaseUnavailableError while the database is known not to answer."""
        if self.reason is not None:
            raise DatabaseUnavailableError(self.reason)

    async def start(self, first: Callable[[], Awaitable[None]] | None = None) -> None:
        """Reaches the database for the first time: `first` (the migrate step), else a plain
        connection. One attempt now; when it fails, the service starts anyway, unready, and
        the attempts go on in the background."""
        attempt = first or self.connect
        if not await self.attempt(attempt, "start-up", 1, self.min_delay):
            self.probe = asyncio.get_running_loop().create_task(
                self.until_reached(attempt, "start-up", tries=1), name="database start-up"
            )

    def suspect(self) -> None:
        """A connection broke: probe the database, unless a probe is already under way."""
        if not self.final and (self.probe is None or self.probe.done()):
            self.probe = asyncio.get_running_loop().create_task(
                self.until_reached(self.connect, "probe"), name="database probe"
            )

    async def stop(self) -> None:
        if self.probe is not None:
            self.probe.cancel()
            await asyncio.gather(self.probe, return_exceptions=True)

    async def connect(self) -> None:
        """One connection attempt, bounded in time; raises what psycopg raises."""
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, connect_timeout=max(1, round(self.connect_timeout)), autocommit=True
        )
        await conn.close()

    async def until_reached(
        self, attempt: Callable[[], Awaitable[None]], what: str, tries: int = 0
    ) -> None:
        """Attempts until one succeeds, with a pause after each failure that doubles from
        min_delay up to max_delay."""
        delay = self.min_delay
        while True:
            if tries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
            tries += 1
            if await self.attempt(attempt, what, tries, delay):
                return

    async def attempt(
        self, attempt: Callable[[], Awaitable[None]], what: str, tries: int, delay: float
    ) -> bool:
        """One attempt; whether the database was reached. Every failure is logged."""
        try:
            await attempt()
        except (psycopg.OperationalError, OSError) as exc:
            if full(exc):
                # It answers, and is full (this service's pools among others): refusing every
                # request would turn a busy database into an outage.
                log.warning("database reachable but full (%s): %s", what, describe(exc))
                self.reason = None
                return True
            self.went_down(describe(exc))
            log.warning(
                "database unreachable (%s, attempt %d; next in %.1f s): %s",
                what,
                tries,
                delay,
                self.reason,
            )
            return False
        except Exception as exc:
            # A migration that fails: serving on a schema it left half-done would be worse
            # than not serving. The service stays unready until it is fixed and restarted.
            log.error("database %s failed: %s", what, describe(exc), exc_info=exc)
            self.final = True
            self.went_down(f"{what} failed")
            return True
        if self.reason is not None and (tries > 1 or self.reason != STARTING):
            log.info(
                "database reachable (%s, after %.1f s)", what, time.monotonic() - self.down_since
            )
        self.reason = None
        return True

    def close(self, reason: str) -> None:
        """Down for good, whatever a probe finds (the service is stopping)."""
        self.final = True
        self.went_down(reason)

    def went_down(self, reason: str) -> None:
        """Refuses requests from now on, and those waiting for a pooled connection too."""
        if self.reason is None:
            self.down_since = time.monotonic()
        self.reason = reason
        for task in self.waiting:
            if task not in self.refused:
                self.refused.add(task)
                task.cancel()

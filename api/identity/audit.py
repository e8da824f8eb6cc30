"""The audit trail (app.audit_events): security events with who, from where, and which request.
Never a password, a token or a secret."""

import logging
import time
from collections import Counter

import psycopg
from fastapi import Request
from psycopg import AsyncConnection
from psycopg_pool import PoolTimeout

from api.database.requests import anonymous_transaction
from api.observability import metrics

log = logging.getLogger(__name__)

INSERT_EVENT = """
insert into app.audit_events (event, user_id, client_address, user_agent, request_id)
values (%(event)s, %(user_id)s, %(client_address)s, %(user_agent)s, %(request_id)s)
"""


def client_address(request: Request) -> str:
    """The peer's address; uvicorn replaces it with X-Forwarded-For's only when the peer is in
    FORWARDED_ALLOW_IPS, so a caller cannot choose it by sending headers."""
    return request.client.host if request.client else "unknown"


def event_params(request: Request, event: str, user_id: str | None) -> dict[str, object]:
    return {
        "event": event,
        "user_id": user_id,
        "client_address": client_address(request)[:64],
        "user_agent": (request.headers.get("user-agent") or "")[:512] or None,
        "request_id": getattr(request.state, "request_id", None),
    }


async def record(conn: AsyncConnection, request: Request, event: str, user_id: str | None) -> None:
    """Adds an event in the caller's transaction: it commits or rolls back with the rest."""
    metrics.auth_failure(event)
    await conn.execute(INSERT_EVENT, event_params(request, event, user_id))


class RejectionSampler:
    """Decides which refused credentials get an audit row of their own. Anyone can send a bad
    token, so a row for each would let an anonymous caller grow the trail without limit. In each
    window of `window` seconds a process writes at most one row per (event, address) and at most
    `max_rows` rows in all; the refusals it did not write are counted, per event and address,
    and logged when the window closes, so the signal is kept without the writes."""

    def __init__(self, window: float = 60.0, max_rows: int = 60) -> None:
        self.window = window
        self.max_rows = max_rows
        self.started = time.monotonic()
        self.written: set[tuple[str, str]] = set()
        self.skipped: Counter[tuple[str, str]] = Counter()

    def admit(self, event: str, address: str) -> bool:
        """Whether this refusal gets a row; counts it as skipped otherwise."""
        now = time.monotonic()
        if now - self.started >= self.window:
            self.close_window()
            self.started = now
        key = (event, address)
        if key in self.written or len(self.written) >= self.max_rows:
            self.skipped[key] += 1
            return False
        self.written.add(key)
        return True

    def close_window(self) -> None:
        for (event, address), count in self.skipped.most_common(20):
            log.warning("%s: %d more from %s not written to the audit trail", event, count, address)
        if len(self.skipped) > 20:
            log.warning("and %d more (event, address) pairs", len(self.skipped) - 20)
        self.written.clear()
        self.skipped.clear()


async def record_refusal(request: Request, event: str) -> None:
    """An audit row for a refused credential, when the process's sampler admits it."""
    metrics.auth_failure(event)  # every refusal, the ones the sampler does not write too
    sampler: RejectionSampler = request.app.state.rejections
    if sampler.admit(event, client_address(request)[:64]):
        await record_outside(request, event)


async def record_outside(request: Request, event: str, user_id: str | None = None) -> None:
    """Adds an event in a transaction of its own, for a request that has none (a rejected
    token). Best effort: the caller's answer does not wait on a broken database."""
    try:
        async with anonymous_transaction(request.app.state.pool) as conn:
            await conn.execute(INSERT_EVENT, event_params(request, event, user_id))
    except (psycopg.Error, PoolTimeout) as exc:
        log.warning("audit event %s not recorded: %s", event, exc)

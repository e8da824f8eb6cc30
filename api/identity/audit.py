"""The audit trail (app.audit_events): security events with who, from where, and which request.
Never a password, a token or a secret."""

import logging

import psycopg
from fastapi import Request
from psycopg import AsyncConnection
from psycopg_pool import PoolTimeout

from api.database.requests import anonymous_transaction

log = logging.getLogger("api.identity.audit")

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
    await conn.execute(INSERT_EVENT, event_params(request, event, user_id))


async def record_outside(request: Request, event: str, user_id: str | None = None) -> None:
    """Adds an event in a transaction of its own, for a request that has none (a rejected
    token). Best effort: the caller's answer does not wait on a broken database."""
    try:
        async with anonymous_transaction(request.app.state.pool) as conn:
            await record(conn, request, event, user_id)
    except (psycopg.Error, PoolTimeout) as exc:
        log.warning("audit event %s not recorded: %s", event, exc)

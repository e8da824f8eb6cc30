"""The account export as a stream: one JSON document of everything the service holds about the
caller, read in the caller's own transaction (row-level security decides what is theirs) and
sent as it is read, so that a user with 100,000 tasks never sits in memory at once.

    {"format": "todo-api.export/1", "exported_at": ..., "profile": {...},
     "tasks": [...], "audit_events": [...], "sessions": [...]}

Tasks are their stored JSON (app.tasks.public_json), exactly what the API sends, so a field a
later migration adds to a task comes along by itself; they and the audit events are read
through server-side cursors, BATCH_ROWS at a time. The profile is the `User` table model's
columns (api.tables), so a column added there is exported too.
"""

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row, dict_row

from api.tables import User

FORMAT = "todo-api.export/1"
BATCH_ROWS = 1000  # rows per fetch: a few hundred KiB of tasks, one chunk of the response

PROFILE = sql.SQL("select {} from app.users where id = app.current_user_id()").format(
    sql.SQL(", ").join([sql.Identifier(name) for name in User.model_fields])
)
TASKS = "select public_json from app.tasks order by id"  # the caller's only, by policy
AUDIT_EVENTS = (
    "select event, client_address, user_agent, request_id, created_at from app.own_audit_events()"
)
SESSIONS = "select family_id, signed_in_at, last_refreshed_at, expires_at from app.own_sessions()"


def plain(value: object) -> str:
    """JSON for what json.dumps does not know: timestamps (ISO 8601) and ids."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=plain, ensure_ascii=False, separators=(",", ":"))


async def profile(conn: AsyncConnection) -> User:
    """The caller's row; the transaction's first statement (app.begin_request) made sure of it."""
    cur = conn.cursor(row_factory=class_row(User))
    await cur.execute(PROFILE)
    user = await cur.fetchone()
    assert user is not None
    return user


async def batches(
    conn: AsyncConnection, name: str, query: LiteralString
) -> AsyncIterator[list[Any]]:
    """The rows of `query`, BATCH_ROWS at a time, from a server-side cursor."""
    async with conn.cursor(name, row_factory=dict_row) as cur:
        await cur.execute(query)
        while rows := await cur.fetchmany(BATCH_ROWS):
            yield rows


def array_part(items: Iterable[str], first: bool) -> bytes:
    return (("" if first else ",") + ",".join(items)).encode()


async def document(conn: AsyncConnection, user: User) -> AsyncIterator[bytes]:
    head = {"format": FORMAT, "exported_at": datetime.now(UTC), "profile": user.model_dump()}
    yield dumps(head)[:-1].encode() + b',"tasks":['
    first = True
    async for rows in batches(conn, "export_tasks", TASKS):
        yield array_part((row["public_json"] for row in rows), first)
        first = False
    yield b'],"audit_events":['
    first = True
    async for rows in batches(conn, "export_audit_events", AUDIT_EVENTS):
        yield array_part(map(dumps, rows), first)
        first = False
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(SESSIONS)
    yield b'],"sessions":' + dumps(await cur.fetchall()).encode() + b"}"

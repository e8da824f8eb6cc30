"""Acting as the request role inside the database, as the API does, and small query helpers.

`conn` (tests/conftest.py) logs in as the database's owner, a superuser: on its own it bypasses
row-level security and grants, so every check of a policy runs inside `as_user` or `as_app_user`.
"""

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import Connection
from psycopg.types.json import Jsonb

from api.database.requests import REQUEST_CONTEXT
from tests.utils.context import user_context

ALICE = "alice"
BOB = "bob"


@contextmanager
def as_user(conn: Connection, user_id: str) -> Iterator[Connection]:
    """One request's transaction, always rolled back, opened by the very statement the API runs
    first (which also creates the user's row on first sight)."""
    with conn.transaction(force_rollback=True):
        conn.execute(REQUEST_CONTEXT, user_context(user_id))
        yield conn


@contextmanager
def as_app_user(conn: Connection, user_id: str | None = None) -> Iterator[Connection]:
    """The request role, switched to by hand and always rolled back. With no user_id the
    transaction acts for nobody; with one, it acts for a user whose row need not exist."""
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('role', 'app_user', true)")
        if user_id is not None:
            conn.execute("select set_config('app.user_id', %s, true)", (user_id,))
        yield conn


@contextmanager
def fails_with(
    conn: Connection, error: type[psycopg.Error] | str
) -> Iterator[pytest.ExceptionInfo[psycopg.Error]]:
    """Expects the block to fail with exactly this error class, or this SQLSTATE for our own
    PTxyz codes. The block runs in a savepoint, so the transaction around it (and the role it
    switched to) carries on afterwards."""
    expected = error if isinstance(error, type) else psycopg.Error
    sqlstate = error.sqlstate if isinstance(error, type) else error
    with pytest.raises(expected) as excinfo, conn.transaction():
        yield excinfo
    assert excinfo.value.sqlstate == sqlstate, excinfo.value.diag.message_primary


def scalar(conn: Connection, query: LiteralString, params: Sequence[Any] = ()) -> Any:
    """The first column of the one row `query` returns."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row[0]


def rows(conn: Connection, query: LiteralString, params: Sequence[Any] = ()) -> list[Any]:
    return conn.execute(query, params).fetchall()


def create_user(conn: Connection, user_id: str) -> None:
    """Commits a request for user_id, which creates their row."""
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(user_id))


def create_task(
    conn: Connection, user_id: str, title: str = "a task", description: str | None = None
) -> int:
    """Commits a task created by user_id's own request; returns its id."""
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(user_id))
        task_id: int = scalar(
            conn,
            "insert into app.tasks (title, description) values (%s, %s) returning id",
            (title, description),
        )
    return task_id


def task_row(conn: Connection, task_id: int) -> tuple[Any, ...] | None:
    """(user_id, title, description, completed, version) as the owner sees it, past every policy."""
    row: tuple[Any, ...] | None = conn.execute(
        "select user_id, title, description, completed, version from app.tasks where id = %s",
        (task_id,),
    ).fetchone()
    return row


def wait_until_blocked(observer: Connection, blocked_pid: int, blocker_pid: int) -> None:
    """Waits, for at most 10 s, until the backend blocked_pid waits for a lock blocker_pid holds."""
    deadline = time.monotonic() + 10
    while not scalar(observer, "select %s = any(pg_blocking_pids(%s))", (blocker_pid, blocked_pid)):
        assert time.monotonic() < deadline, "the second writer never waited for the first"
        time.sleep(0.005)


# What app.create_task and app.replace_task take beyond title, description and completed, as a
# task that sets none of 0008's fields has them.
NO_FIELDS: dict[str, Any] = {"priority": None, "due_at": None, "due_all_day": False, "tags": [],
                             "position": 0, "extra": Jsonb({})}  # fmt: skip

TASK_KEYS = ("id", "title", "description", "completed", "user_id", "version", "created_at",
             "updated_at", "status", "priority", "due_date", "tags", "position")  # fmt: skip


def json_timestamp(value: datetime) -> str:
    """A timestamptz as PostgreSQL writes it in JSON when TimeZone is UTC: ISO 8601 with a T,
    the fraction of a second without trailing zeros (none at all when it is zero), +00:00."""
    utc = value.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return f"{utc:%Y-%m-%dT%H:%M:%S}{fraction}+00:00"


def expected_json(conn: Connection, task_id: int) -> str:
    """A task's JSON as the API sends it (TaskPublic), built here from its columns, as the
    owner sees them, without PostgreSQL's JSON functions."""
    row = conn.execute(
        "select id, title, description, completed, user_id, version, created_at, updated_at,"
        " priority, due_at, due_all_day, tags, position, extra from app.tasks where id = %s",
        (task_id,),
    ).fetchone()
    assert row is not None
    (*columns, priority, due_at, all_day, tags, position, extra) = row
    task: dict[str, Any] = dict(zip(TASK_KEYS, columns, strict=False))
    task["created_at"] = json_timestamp(task["created_at"])
    task["updated_at"] = json_timestamp(task["updated_at"])
    task["status"] = "completed" if task["completed"] else "pending"
    task["priority"] = {None: None, 1: "low", 2: "medium", 3: "high"}[priority]
    if due_at is None:
        task["due_date"] = None
    else:
        task["due_date"] = (
            f"{due_at.astimezone(UTC):%Y-%m-%d}" if all_day else json_timestamp(due_at)
        )
    task["tags"], task["position"] = tags, position
    known = json.dumps(task, ensure_ascii=False, separators=(",", ":"))
    if not extra:
        return known
    return known[:-1] + "," + json.dumps(extra, ensure_ascii=False)[1:]  # as jsonb writes it

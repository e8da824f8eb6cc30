"""Acting as the request role inside the database, as the API does, and small query helpers.

`conn` (tests/conftest.py) logs in as the database's owner, a superuser: on its own it bypasses
row-level security and grants, so every check of a policy runs inside `as_user` or `as_app_user`.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import Connection

from api.database.requests import REQUEST_CONTEXT, request_params

ALICE = "alice"
BOB = "bob"


@contextmanager
def as_user(conn: Connection, user_id: str) -> Iterator[Connection]:
    """One request's transaction, always rolled back, opened by the very statement the API runs
    first (which also creates the user's row on first sight)."""
    with conn.transaction(force_rollback=True):
        conn.execute(REQUEST_CONTEXT, request_params(user_id))
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
        conn.execute(REQUEST_CONTEXT, request_params(user_id))


def create_task(
    conn: Connection, user_id: str, title: str = "a task", description: str | None = None
) -> int:
    """Commits a task created by user_id's own request; returns its id."""
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, request_params(user_id))
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

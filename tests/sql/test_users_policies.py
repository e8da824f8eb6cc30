"""sql/policies/users.sql, with the grants of sql/migrations/0002_create_users.sql: a user sees
only their own row and may insert only it, and only its id; nobody may update or delete users
(there is no grant at all: that is the owner's job)."""

from typing import LiteralString

import pytest
from psycopg import Connection
from psycopg.errors import InsufficientPrivilege

from tests.sql.helpers import (
    ALICE,
    BOB,
    as_app_user,
    as_user,
    create_user,
    fails_with,
    rows,
)

CAROL = "carol"  # never created by a request


def user_ids(conn: Connection) -> list[str]:
    """Every user id, as the owner sees them."""
    return [row[0] for row in rows(conn, "select id from app.users order by id")]


# select


def test_select_returns_own_row_only(conn: Connection) -> None:
    create_user(conn, ALICE)
    create_user(conn, BOB)

    with as_user(conn, ALICE):
        assert rows(conn, "select id from app.users") == [(ALICE,)]
        assert rows(conn, "select id from app.users where id = %s", (BOB,)) == []
    assert user_ids(conn) == [ALICE, BOB]


# insert


def test_insert_own_row(conn: Connection) -> None:
    with as_app_user(conn, CAROL):
        assert rows(conn, "insert into app.users (id) values (%s) returning id", (CAROL,)) == [
            (CAROL,)
        ]
        assert rows(conn, "select id from app.users") == [(CAROL,)]


def test_insert_of_another_users_row_is_refused(conn: Connection) -> None:
    create_user(conn, ALICE)
    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute("insert into app.users (id) values (%s)", (CAROL,))
    assert user_ids(conn) == [ALICE]


@pytest.mark.parametrize(
    "query",
    [
        "insert into app.users (id, created_at) values (%s, now() - interval '1 day')",
        "insert into app.users (id, updated_at) values (%s, now() - interval '1 day')",
    ],
)
def test_insert_of_bookkeeping_columns_is_refused(conn: Connection, query: LiteralString) -> None:
    with as_app_user(conn, CAROL), fails_with(conn, InsufficientPrivilege):
        conn.execute(query, (CAROL,))
    assert user_ids(conn) == []


def test_insert_own_row_with_email_and_name(conn: Connection) -> None:
    with as_app_user(conn, CAROL):
        conn.execute(
            "insert into app.users (id, email, name) values (%s, 'carol@example.com', 'Carol')",
            (CAROL,),
        )
        assert rows(conn, "select id, email, name from app.users") == [
            (CAROL, "carol@example.com", "Carol")
        ]


# update: email and name of one's own row only; delete: no grant at all


def test_update_own_email_and_name(conn: Connection) -> None:
    create_user(conn, ALICE)
    with as_user(conn, ALICE):
        query = "update app.users set name = 'Alice', email = 'a@example.com' where id = %s"
        assert conn.execute(query, (ALICE,)).rowcount == 1
        assert rows(conn, "select name, email from app.users") == [("Alice", "a@example.com")]


def test_update_of_another_users_row_changes_nothing(conn: Connection) -> None:
    create_user(conn, ALICE)
    create_user(conn, BOB)
    with as_user(conn, ALICE):
        query = "update app.users set name = 'renamed' where id = %s"
        assert conn.execute(query, (BOB,)).rowcount == 0
    assert rows(conn, "select id, name from app.users order by id") == [(ALICE, None), (BOB, None)]


@pytest.mark.parametrize(
    "assignment", ["id = 'someone-else'", "created_at = now() - interval '1 day'"]
)
def test_update_of_bookkeeping_columns_is_refused(conn: Connection, assignment: str) -> None:
    create_user(conn, ALICE)
    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute(f"update app.users set {assignment} where id = %s", (ALICE,))
    assert user_ids(conn) == [ALICE]


@pytest.mark.parametrize("target", [ALICE, BOB])
def test_delete_is_refused(conn: Connection, target: str) -> None:
    create_user(conn, ALICE)
    create_user(conn, BOB)
    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute("delete from app.users where id = %s", (target,))
    assert user_ids(conn) == [ALICE, BOB]


# no user set


def test_without_a_user_nothing_is_seen(conn: Connection) -> None:
    create_user(conn, ALICE)
    with as_app_user(conn):
        assert rows(conn, "select id from app.users") == []


def test_without_a_user_insert_is_refused(conn: Connection) -> None:
    with as_app_user(conn), fails_with(conn, InsufficientPrivilege):
        conn.execute("insert into app.users (id) values (%s)", (CAROL,))
    assert user_ids(conn) == []


def test_without_a_user_update_changes_nothing_and_delete_is_refused(conn: Connection) -> None:
    create_user(conn, ALICE)
    with as_app_user(conn):
        assert conn.execute("update app.users set name = 'renamed'").rowcount == 0
        with fails_with(conn, InsufficientPrivilege):
            conn.execute("delete from app.users")
    assert rows(conn, "select id, name from app.users") == [(ALICE, None)]

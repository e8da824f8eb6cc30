"""sql/policies/tasks.sql, with the column grants of sql/migrations/0003_create_tasks.sql and
0006_check_versions_and_store_json.sql (which takes version away): a user sees and changes only
their own tasks; nobody at all is seen or changed when no user is set.

A `using` denial hides rows (0 returned or affected); a `with check` denial or a missing column
grant raises InsufficientPrivilege (42501)."""

from typing import LiteralString

import pytest
from psycopg import Connection
from psycopg.errors import InsufficientPrivilege

from api.database.requests import REQUEST_CONTEXT
from tests.sql.helpers import (
    ALICE,
    BOB,
    as_app_user,
    as_user,
    create_task,
    fails_with,
    rows,
    scalar,
    task_row,
)
from tests.utils.context import user_context

# select


def test_select_returns_own_tasks_only(conn: Connection) -> None:
    first = create_task(conn, ALICE, "alice one")
    second = create_task(conn, ALICE, "alice two")
    create_task(conn, BOB, "bob one")

    with as_user(conn, ALICE):
        assert rows(conn, "select id, user_id from app.tasks order by id") == [
            (first, ALICE),
            (second, ALICE),
        ]
    assert scalar(conn, "select count(*) from app.tasks") == 3


def test_select_hides_another_users_task(conn: Connection) -> None:
    bobs = create_task(conn, BOB, "bob's")

    with as_user(conn, ALICE):
        assert rows(conn, "select id from app.tasks where id = %s", (bobs,)) == []
        assert scalar(conn, "select count(*) from app.tasks") == 0
    with as_user(conn, BOB):
        assert rows(conn, "select id from app.tasks where id = %s", (bobs,)) == [(bobs,)]


# insert


def test_insert_own_task_takes_user_id_from_the_request(conn: Connection) -> None:
    with as_user(conn, ALICE):
        row = conn.execute(
            "insert into app.tasks (title, description, completed) values ('mine', 'd', true)"
            " returning user_id, title, description, completed, version"
        ).fetchone()
        assert row == (ALICE, "mine", "d", True, 1)


@pytest.mark.parametrize("user_id", [ALICE, BOB])
def test_insert_naming_user_id_is_refused_by_column_grants(conn: Connection, user_id: str) -> None:
    create_task(conn, BOB)  # bob's row exists, so only the grant can refuse
    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute("insert into app.tasks (user_id, title) values (%s, 'planted')", (user_id,))
    assert scalar(conn, "select count(*) from app.tasks where title = 'planted'") == 0


@pytest.mark.parametrize(
    "query",
    [
        "insert into app.tasks (title, version) values ('t', 7)",
        "insert into app.tasks (title, created_at) values ('t', now() - interval '1 day')",
        "insert into app.tasks (title, updated_at) values ('t', now() - interval '1 day')",
    ],
)
def test_insert_naming_bookkeeping_columns_is_refused(
    conn: Connection, query: LiteralString
) -> None:
    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute(query)


def test_insert_policy_alone_refuses_a_task_for_another_user(conn: Connection) -> None:
    """The with check of insert_own, on its own: the column grant that normally refuses user_id
    first is widened inside this rolled-back transaction."""
    create_task(conn, BOB)
    with conn.transaction(force_rollback=True):
        conn.execute("grant insert (user_id) on app.tasks to app_user")
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        owner = scalar(
            conn,
            "insert into app.tasks (user_id, title) values (%s, 'ok') returning user_id",
            (ALICE,),
        )
        assert owner == ALICE  # the widened grant is in force
        with fails_with(conn, InsufficientPrivilege):
            conn.execute("insert into app.tasks (user_id, title) values (%s, 'planted')", (BOB,))
    assert scalar(conn, "select count(*) from app.tasks where title = 'planted'") == 0


# update


def test_update_own_task(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "before")

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        cur = conn.execute(
            "update app.tasks set title = 'after', description = 'd', completed = true"
            " where id = %s",
            (task_id,),
        )
        assert cur.rowcount == 1
    assert task_row(conn, task_id) == (ALICE, "after", "d", True, 2)


def test_update_of_another_users_task_affects_no_row(conn: Connection) -> None:
    bobs = create_task(conn, BOB, "bob's")

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        cur = conn.execute(
            "update app.tasks set title = 'taken', completed = true where id = %s and version = 1",
            (bobs,),
        )
        assert cur.rowcount == 0
        assert conn.execute("update app.tasks set title = 'all of them'").rowcount == 0
    assert task_row(conn, bobs) == (BOB, "bob's", None, False, 1)


@pytest.mark.parametrize("user_id", [BOB, ALICE])
def test_update_of_user_id_is_refused_by_column_grants(conn: Connection, user_id: str) -> None:
    create_task(conn, BOB)
    task_id = create_task(conn, ALICE, "mine")

    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute("update app.tasks set user_id = %s where id = %s", (user_id, task_id))
    assert task_row(conn, task_id) == (ALICE, "mine", None, False, 1)


@pytest.mark.parametrize(
    "assignment",
    [
        "created_at = now() - interval '1 day'",
        "updated_at = now() - interval '1 day'",
        "version = 1",
        "version = version + 1",
        "version = 7, title = 'with a version'",
        "public_json = default",
    ],
)
def test_update_of_bookkeeping_columns_is_refused_by_column_grants(
    conn: Connection, assignment: LiteralString
) -> None:
    task_id = create_task(conn, ALICE)

    with as_user(conn, ALICE), fails_with(conn, InsufficientPrivilege):
        conn.execute("update app.tasks set " + assignment + " where id = %s", (task_id,))
    assert task_row(conn, task_id) == (ALICE, "a task", None, False, 1)


def test_moving_own_task_to_another_user_is_refused_past_the_grant(conn: Connection) -> None:
    """With the column grant widened in this rolled-back transaction, the stamp_row trigger still
    pins user_id (PT422); with the trigger disabled too, update_own's with check refuses (42501)."""
    create_task(conn, BOB)
    task_id = create_task(conn, ALICE, "mine")

    with conn.transaction(force_rollback=True):
        conn.execute("grant update (user_id) on app.tasks to app_user")
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        with fails_with(conn, "PT422"):
            conn.execute("update app.tasks set user_id = %s where id = %s", (BOB, task_id))

    with conn.transaction(force_rollback=True):
        conn.execute("grant update (user_id) on app.tasks to app_user")
        conn.execute("alter table app.tasks disable trigger _100_stamp_row")
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        cur = conn.execute("update app.tasks set user_id = %s where id = %s", (ALICE, task_id))
        assert cur.rowcount == 1  # the widened grant and the disabled trigger are in force
        with fails_with(conn, InsufficientPrivilege):
            conn.execute("update app.tasks set user_id = %s where id = %s", (BOB, task_id))

    assert task_row(conn, task_id) == (ALICE, "mine", None, False, 1)


# delete


def test_delete_own_task(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    other = create_task(conn, ALICE)

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        assert conn.execute("delete from app.tasks where id = %s", (task_id,)).rowcount == 1
    assert task_row(conn, task_id) is None
    assert task_row(conn, other) is not None


def test_delete_of_another_users_task_affects_no_row(conn: Connection) -> None:
    bobs = create_task(conn, BOB, "bob's")

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        assert conn.execute("delete from app.tasks where id = %s", (bobs,)).rowcount == 0
        assert conn.execute("delete from app.tasks").rowcount == 0
    assert task_row(conn, bobs) == (BOB, "bob's", None, False, 1)


# no user set


def test_without_a_user_nothing_is_seen_or_changed(conn: Connection) -> None:
    alices = create_task(conn, ALICE, "alice's")
    bobs = create_task(conn, BOB, "bob's")

    with conn.transaction():
        conn.execute("select set_config('role', 'app_user', true)")
        assert scalar(conn, "select app.current_user_id()") is None
        assert rows(conn, "select id from app.tasks") == []
        assert conn.execute("update app.tasks set title = 'gone'").rowcount == 0
        assert conn.execute("delete from app.tasks").rowcount == 0
    assert task_row(conn, alices) == (ALICE, "alice's", None, False, 1)
    assert task_row(conn, bobs) == (BOB, "bob's", None, False, 1)


def test_without_a_user_insert_is_refused(conn: Connection) -> None:
    create_task(conn, ALICE)
    with as_app_user(conn), fails_with(conn, InsufficientPrivilege):
        conn.execute("insert into app.tasks (title) values ('orphan')")
    assert scalar(conn, "select count(*) from app.tasks where title = 'orphan'") == 0


def test_an_empty_user_id_is_no_user(conn: Connection) -> None:
    create_task(conn, ALICE)
    with as_app_user(conn, ""):
        assert scalar(conn, "select app.current_user_id()") is None
        assert rows(conn, "select id from app.tasks") == []
        with fails_with(conn, InsufficientPrivilege):
            conn.execute("insert into app.tasks (title) values ('orphan')")

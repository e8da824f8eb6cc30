"""The _100_stamp_row triggers on app.tasks and app.users (sql/functions/app_private.tg_*), the
check constraints and foreign key of app.tasks, and two writers racing on one task. Whoever
updates a task, its version goes up by exactly one and updated_at moves to now(): nobody
chooses either.

now() is the start of the transaction, so every comparison of timestamps spans transactions."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import LiteralString

import psycopg
import pytest
from psycopg import Connection
from psycopg.errors import CheckViolation

from api.database.requests import REQUEST_CONTEXT
from tests.sql.helpers import (
    ALICE,
    BOB,
    as_user,
    create_task,
    create_user,
    fails_with,
    rows,
    scalar,
    task_row,
    wait_until_blocked,
)
from tests.utils.context import user_context


def stamps(conn: Connection, task_id: int) -> tuple[int, datetime, datetime]:
    """(version, created_at, updated_at) of a task, as the owner sees it."""
    row = conn.execute(
        "select version, created_at, updated_at from app.tasks where id = %s", (task_id,)
    ).fetchone()
    assert row is not None
    return row


def update_as(
    conn: Connection, user_id: str, task_id: int, assignments: LiteralString, *params: object
) -> int:
    """Commits `update app.tasks set <assignments>` in user_id's request; returns the new
    version."""
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(user_id))
        version: int = scalar(
            conn,
            "update app.tasks set " + assignments + " where id = %s returning version",
            (*params, task_id),
        )
    return version


def count_updated(
    conn: Connection,
    user_id: str,
    task_id: int,
    assignments: LiteralString,
    condition: LiteralString,
) -> int:
    """Commits `update app.tasks set <assignments> where id = ... and <condition>` in user_id's
    request; returns how many rows it updated."""
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(user_id))
        cur = conn.execute(
            "update app.tasks set " + assignments + " where id = %s and " + condition, (task_id,)
        )
    return cur.rowcount


# tasks: version and updated_at


def test_every_update_bumps_version_by_one_and_moves_updated_at(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "v1")
    version, created_at, updated_at = stamps(conn, task_id)
    assert version == 1
    assert updated_at == created_at

    assert update_as(conn, ALICE, task_id, "title = %s", "v2") == 2
    version, created, second_update = stamps(conn, task_id)
    assert (version, created) == (2, created_at)
    assert second_update > updated_at

    assert update_as(conn, ALICE, task_id, "completed = true") == 3
    version, created, third_update = stamps(conn, task_id)
    assert (version, created) == (3, created_at)
    assert third_update > second_update


def test_each_update_in_one_transaction_bumps_version(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    with as_user(conn, ALICE):
        for expected in (2, 3, 4):
            version = scalar(
                conn,
                "update app.tasks set completed = not completed where id = %s returning version",
                (task_id,),
            )
            assert version == expected


@pytest.mark.parametrize("assigned", [1, 2, 3, 4, 100])
def test_the_owner_cannot_choose_a_version_either(conn: Connection, assigned: int) -> None:
    """The request role may not name version at all (tests/sql/test_tasks_policies.py); the
    owner may, and whatever it sets, the row gets the old version plus one."""
    task_id = create_task(conn, ALICE, "v1")
    update_as(conn, ALICE, task_id, "title = %s", "v2")
    before = stamps(conn, task_id)  # version 2

    cur = conn.execute(
        "update app.tasks set title = 'by the owner', version = %s where id = %s returning version",
        (assigned, task_id),
    )
    assert cur.fetchall() == [(3,)]
    version, created_at, updated_at = stamps(conn, task_id)
    assert (version, created_at) == (3, before[1])
    assert updated_at > before[2]
    assert task_row(conn, task_id) == (ALICE, "by the owner", None, False, 3)


def test_the_owner_cannot_choose_updated_at(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    row = conn.execute(
        "update app.tasks set updated_at = '2000-01-01' where id = %s"
        " returning version, updated_at = now()",
        (task_id,),
    ).fetchone()
    assert row == (2, True)


def test_an_update_that_changes_nothing_still_bumps(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    assert update_as(conn, ALICE, task_id, "title = title") == 2
    assert update_as(conn, ALICE, task_id, "completed = completed") == 3


def test_a_where_clause_on_version_is_the_lock(conn: Connection) -> None:
    """The form the request functions use: an update naming the version it read finds no row
    once the task has moved on, and changes nothing."""
    task_id = create_task(conn, ALICE, "v1")
    update_as(conn, ALICE, task_id, "title = %s", "v2")
    before = stamps(conn, task_id)
    with as_user(conn, ALICE):
        cur = conn.execute(
            "update app.tasks set title = 'lost' where id = %s and version = 1", (task_id,)
        )
        assert cur.rowcount == 0
    assert stamps(conn, task_id) == before
    assert task_row(conn, task_id) == (ALICE, "v2", None, False, 2)


@pytest.mark.parametrize(
    "assignment",
    ["id = default", "user_id = 'bob'", "created_at = created_at - interval '1 day'"],
)
def test_the_owner_cannot_change_id_user_id_or_created_at(
    conn: Connection, assignment: LiteralString
) -> None:
    create_user(conn, BOB)
    task_id = create_task(conn, ALICE, "pinned")
    before = stamps(conn, task_id)

    with fails_with(conn, "PT422"):
        conn.execute("update app.tasks set " + assignment + " where id = %s", (task_id,))
    assert task_row(conn, task_id) == (ALICE, "pinned", None, False, 1)
    assert stamps(conn, task_id) == before


# users


def test_a_user_update_moves_updated_at_and_keeps_created_at(conn: Connection) -> None:
    create_user(conn, ALICE)
    created_at, updated_at = rows(
        conn, "select created_at, updated_at from app.users where id = %s", (ALICE,)
    )[0]
    assert updated_at == created_at

    conn.execute("update app.users set name = 'Alice' where id = %s", (ALICE,))
    assert rows(
        conn,
        "select name, created_at, updated_at > %s from app.users where id = %s",
        (updated_at, ALICE),
    ) == [("Alice", created_at, True)]


@pytest.mark.parametrize(
    "assignment", ["id = 'alice2'", "created_at = created_at - interval '1 day'"]
)
def test_the_owner_cannot_change_a_users_id_or_created_at(
    conn: Connection, assignment: LiteralString
) -> None:
    create_user(conn, ALICE)
    before = rows(conn, "select * from app.users")

    with fails_with(conn, "PT422"):
        conn.execute("update app.users set " + assignment + " where id = %s", (ALICE,))
    assert rows(conn, "select * from app.users") == before


# tasks: check constraints


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("", None),
        (" ", None),
        ("\t\n", None),
        ("x" * 201, None),
        (" leading", None),
        ("trailing ", None),
        ("trailing tab\t", None),
        ("trailing newline\n", None),
        ("fine", "d" * 2001),
    ],
    ids=[
        "empty",
        "space",
        "whitespace",
        "201-chars",
        "leading-space",
        "trailing-space",
        "trailing-tab",
        "trailing-newline",
        "2001-char-description",
    ],
)
def test_check_constraints_refuse_what_the_api_refuses(
    conn: Connection, title: str, description: str | None
) -> None:
    with as_user(conn, ALICE), fails_with(conn, CheckViolation):
        conn.execute(
            "insert into app.tasks (title, description) values (%s, %s)", (title, description)
        )


def test_check_constraints_apply_to_updates(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "fine")
    with as_user(conn, ALICE):
        with fails_with(conn, CheckViolation):
            conn.execute("update app.tasks set title = '   ' where id = %s", (task_id,))
        with fails_with(conn, CheckViolation):
            conn.execute(
                "update app.tasks set description = %s where id = %s", ("d" * 2001, task_id)
            )
    assert task_row(conn, task_id) == (ALICE, "fine", None, False, 1)


def test_check_constraints_allow_the_limits(conn: Connection) -> None:
    title, description = "x" * 200, "d" * 2000
    task_id = create_task(conn, ALICE, title, description)
    assert task_row(conn, task_id) == (ALICE, title, description, False, 1)
    inner = create_task(conn, ALICE, "inner  spaces\tstay")
    assert task_row(conn, inner) == (ALICE, "inner  spaces\tstay", None, False, 1)


@pytest.mark.parametrize(
    "title",
    ["📝 write tests 🎉", "👩🏽‍💻 ship it", "日本語のタスク", "🙂" * 200],
    ids=["emoji", "zwj-sequence", "cjk", "200-emoji"],
)
def test_unicode_titles_round_trip_exactly(conn: Connection, title: str) -> None:
    task_id = create_task(conn, ALICE, title, f"{title} ✅")
    with as_user(conn, ALICE):
        assert rows(conn, "select title, description from app.tasks where id = %s", (task_id,)) == [
            (title, f"{title} ✅")
        ]


# tasks: foreign key


def test_deleting_a_user_deletes_their_tasks_only(conn: Connection) -> None:
    create_task(conn, ALICE)
    create_task(conn, ALICE)
    bobs = create_task(conn, BOB)

    assert conn.execute("delete from app.users where id = %s", (ALICE,)).rowcount == 1
    assert rows(conn, "select id, user_id from app.tasks") == [(bobs, BOB)]


def test_a_task_needs_an_existing_user(conn: Connection) -> None:
    with fails_with(conn, psycopg.errors.ForeignKeyViolation):
        conn.execute("insert into app.tasks (user_id, title) values ('nobody', 'orphan')")


# two writers, one task


def test_concurrent_writers_each_bump_from_the_committed_row(
    conn: Connection, database_url: str
) -> None:
    """Two updates of one task, the second waiting on the first's row lock: the trigger of the
    second sees the row the first committed, so no bump is lost, and a second writer that
    names the version it read in its WHERE clause finds no row."""
    task_id = create_task(conn, ALICE, "v1")
    bounded = "-c lock_timeout=10s -c statement_timeout=20s"
    with (
        psycopg.connect(database_url, autocommit=True, options=bounded) as first,
        psycopg.connect(database_url, autocommit=True, options=bounded) as second,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        with first.transaction():
            first.execute(REQUEST_CONTEXT, user_context(ALICE))
            version = scalar(
                first,
                "update app.tasks set title = 'first' where id = %s returning version",
                (task_id,),
            )
            assert version == 2
            racing = pool.submit(update_as, second, ALICE, task_id, "completed = true")
            wait_until_blocked(conn, second.info.backend_pid, first.info.backend_pid)
            assert not racing.done()
        assert racing.result(timeout=20) == 3

        with first.transaction():
            first.execute(REQUEST_CONTEXT, user_context(ALICE))
            first.execute("update app.tasks set title = 'third' where id = %s", (task_id,))
            racing = pool.submit(
                count_updated, second, ALICE, task_id, "title = 'lost'", "version = 3"
            )
            wait_until_blocked(conn, second.info.backend_pid, first.info.backend_pid)
        assert racing.result(timeout=20) == 0
    assert task_row(conn, task_id) == (ALICE, "third", None, True, 4)


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2028", "\x1c", "\u0085"])
def test_the_title_check_trims_what_the_api_trims(conn: Connection, space: str) -> None:
    assert f"{space}x{space}".strip() == "x"  # the API would store "x"
    with as_user(conn, "alice"):
        for title in (f"x{space}", f"{space}x", space):
            with fails_with(conn, CheckViolation):
                conn.execute("insert into app.tasks (title) values (%s)", (title,))

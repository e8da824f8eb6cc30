"""The _100_stamp_row triggers on app.tasks and app.users (sql/functions/app_private.tg_*), the
check constraints and foreign key of app.tasks, and two writers racing on one task.

now() is the start of the transaction, so every comparison of timestamps spans transactions."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import LiteralString

import psycopg
import pytest
from psycopg import Connection
from psycopg.errors import CheckViolation

from api.database.requests import REQUEST_CONTEXT, request_params
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
)


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
        conn.execute(REQUEST_CONTEXT, request_params(user_id))
        version: int = scalar(
            conn,
            "update app.tasks set " + assignments + " where id = %s returning version",
            (*params, task_id),
        )
    return version


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


def test_setting_version_to_the_current_one_is_allowed(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "v1")
    assert update_as(conn, ALICE, task_id, "title = %s, version = %s", "v2", 1) == 2
    assert update_as(conn, ALICE, task_id, "title = %s, version = %s", "v3", 2) == 3
    assert task_row(conn, task_id) == (ALICE, "v3", None, False, 3)


@pytest.mark.parametrize("stale", [1, 2, 4, 100])
def test_setting_any_other_version_is_refused(conn: Connection, stale: int) -> None:
    task_id = create_task(conn, ALICE, "v1")
    update_as(conn, ALICE, task_id, "title = %s", "v2")
    update_as(conn, ALICE, task_id, "title = %s", "v3")
    before = stamps(conn, task_id)

    with as_user(conn, ALICE), fails_with(conn, "PT409"):
        conn.execute(
            "update app.tasks set title = 'lost', version = %s where id = %s", (stale, task_id)
        )
    assert task_row(conn, task_id) == (ALICE, "v3", None, False, 3)
    assert stamps(conn, task_id) == before


def test_the_owner_is_held_to_the_version_too(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    with fails_with(conn, "PT409"):
        conn.execute("update app.tasks set version = 5 where id = %s", (task_id,))
    conn.execute(
        "update app.tasks set version = 1, title = 'by the owner' where id = %s", (task_id,)
    )
    assert task_row(conn, task_id) == (ALICE, "by the owner", None, False, 2)


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


def wait_until_blocked(observer: Connection, blocked_pid: int, blocker_pid: int) -> None:
    deadline = time.monotonic() + 10
    while not scalar(observer, "select %s = any(pg_blocking_pids(%s))", (blocker_pid, blocked_pid)):
        assert time.monotonic() < deadline, "the second writer never waited for the first"
        time.sleep(0.005)


def test_concurrent_writers_of_one_version_the_second_gets_pt409(
    conn: Connection, database_url: str
) -> None:
    task_id = create_task(conn, ALICE, "v1")
    bounded = "-c lock_timeout=10s -c statement_timeout=20s"
    with (
        psycopg.connect(database_url, autocommit=True, options=bounded) as first,
        psycopg.connect(database_url, autocommit=True, options=bounded) as second,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        with first.transaction():
            first.execute(REQUEST_CONTEXT, request_params(ALICE))
            version = scalar(
                first,
                "update app.tasks set title = 'first', version = 1 where id = %s returning version",
                (task_id,),
            )
            assert version == 2
            # The same update with the same expected version, from a second request: it waits
            # on the first one's row lock, then sees the row the first one committed.
            racing = pool.submit(
                update_as, second, ALICE, task_id, "title = %s, version = %s", "second", 1
            )
            wait_until_blocked(conn, second.info.backend_pid, first.info.backend_pid)
            assert not racing.done()
        with pytest.raises(psycopg.Error) as excinfo:
            racing.result(timeout=20)
        assert excinfo.value.sqlstate == "PT409"

        # The loser rereads and retries with the version it now sees.
        assert update_as(second, ALICE, task_id, "title = %s, version = %s", "second", 2) == 3
    assert task_row(conn, task_id) == (ALICE, "second", None, False, 3)


@pytest.mark.parametrize("space", ["\u00a0", "\u3000", "\u2028", "\x1c", "\u0085"])
def test_the_title_check_trims_what_the_api_trims(conn: Connection, space: str) -> None:
    assert f"{space}x{space}".strip() == "x"  # the API would store "x"
    with as_user(conn, "alice"):
        for title in (f"x{space}", f"{space}x", space):
            with fails_with(conn, CheckViolation):
                conn.execute("insert into app.tasks (title) values (%s)", (title,))

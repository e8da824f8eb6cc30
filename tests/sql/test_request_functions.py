"""The request functions (sql/functions/app.*_task*.sql), called exactly as the API calls them:
one statement on an autocommit connection, which is the whole transaction. They act only for
the caller, leave nothing of the request behind on the connection, and keep what they refuse.

The four that write answer one row (outcome, version, body): 'done', 'stale' (the task's
version is not the expected one; nothing was written) or 'missing' (the caller has no such
task). Optimistic locking is their WHERE clause, so of two writers holding one version exactly
one is 'done'."""

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import Connection
from psycopg.types.json import Jsonb

from api.routes.tasks import (
    CREATE_TASK,
    DELETE_TASK,
    GET_TASK,
    LIST_TASKS,
    PATCH_TASK,
    REPLACE_TASK,
    TOGGLE_TASK,
)
from tests.sql.helpers import (
    ALICE,
    BOB,
    NO_FIELDS,
    create_task,
    rows,
    scalar,
    task_row,
    wait_until_blocked,
)
from tests.utils.context import user_context


def call(conn: Connection, query: str, user_id: str, **params: Any) -> tuple[Any, ...]:
    row = conn.execute(query, {**user_context(user_id), **NO_FIELDS, **params}).fetchone()
    assert row is not None
    return row


# Each write function, with what it sets besides the version it expects: the statement, its
# parameters, and the (title, description, completed) it leaves on a task created by
# create_task(conn, ALICE, "before", "kept") (None: the task is gone).
WRITES: dict[str, tuple[str, dict[str, Any], tuple[Any, ...] | None]] = {
    "replace": (
        REPLACE_TASK,
        {"title": "after", "description": None, "completed": True},
        ("after", None, True),
    ),
    "patch": (PATCH_TASK, {"changes": Jsonb({"title": "after"})}, ("after", "kept", False)),
    "toggle": (TOGGLE_TASK, {}, ("before", "kept", True)),
    "delete": (DELETE_TASK, {}, None),
}


def write(
    conn: Connection, name: str, user_id: str, task_id: int, version: int | None
) -> tuple[Any, ...]:
    query, params, _ = WRITES[name]
    return call(conn, query, user_id, id=task_id, version=version, **params)


def snapshot(conn: Connection, task_id: int) -> tuple[Any, ...] | None:
    """Everything stored for a task, and the id of the transaction that wrote its current row
    version (xmin): a statement that wrote anything, even the same values, changes it."""
    row: tuple[Any, ...] | None = conn.execute(
        "select xmin::text, t.* from app.tasks as t where t.id = %s", (task_id,)
    ).fetchone()
    return row


def test_a_call_leaves_no_role_or_user_on_the_connection(conn: Connection) -> None:
    assert conn.autocommit
    login = conn.execute("select current_user").fetchone()
    call(conn, LIST_TASKS, ALICE, known=[])
    after = conn.execute(
        "select current_user, current_setting('app.user_id', true), current_setting('TimeZone')"
    ).fetchone()
    assert after is not None
    assert login is not None
    assert after[0] == login[0]
    assert after[1] in (None, "")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_each_function_acts_only_for_its_caller(conn: Connection) -> None:
    alices = create_task(conn, ALICE, "alice's")
    bobs = create_task(conn, BOB, "bob's")
    before = snapshot(conn, bobs)
    _, listed = call(conn, LIST_TASKS, ALICE, known=[])
    assert [task["id"] for task in json.loads(listed)] == [alices]
    assert call(conn, GET_TASK, ALICE, id=bobs) == (None, None)
    version, body = call(conn, GET_TASK, ALICE, id=alices)
    assert version == 1
    assert '"title":"alice\'s"' in body
    for name in WRITES:
        # Bob's task does not exist for alice, whatever version she names: not even 'stale'.
        for expected in (None, 1, 2):
            assert write(conn, name, ALICE, bobs, expected) == ("missing", None, None), name
    assert snapshot(conn, bobs) == before


def test_create_belongs_to_the_caller(conn: Connection) -> None:
    task_id, version, body = call(
        conn, CREATE_TASK, ALICE, title="mine", description=None, completed=False
    )
    assert version == 1
    assert f'"user_id":"{ALICE}"' in body
    assert task_row(conn, task_id) == (ALICE, "mine", None, False, 1)
    assert body == scalar(conn, "select public_json from app.tasks where id = %s", (task_id,))


def test_get_and_list_answer_the_stored_json(conn: Connection) -> None:
    first = create_task(conn, ALICE, "first")
    second = create_task(conn, ALICE, "second", 'with "quotes" and \\ and \n')
    stored = [text for (text,) in rows(conn, "select public_json from app.tasks order by id desc")]
    assert call(conn, GET_TASK, ALICE, id=second) == (1, stored[0])
    marker, listed = call(conn, LIST_TASKS, ALICE, known=[])
    assert marker == scalar(conn, "select change_count from app.task_sync_states")
    assert call(conn, LIST_TASKS, ALICE, known=[1, marker]) == (marker, None)
    assert listed == "[" + ",".join(reversed(stored)) + "]"
    assert [task["id"] for task in json.loads(listed)] == [first, second]
    assert call(conn, LIST_TASKS, BOB, known=[]) == (0, "[]")


def test_patch_sets_only_the_named_fields(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "before", "kept")
    changes = Jsonb({"completed": True})
    assert call(conn, PATCH_TASK, ALICE, id=task_id, changes=changes, version=1)[:2] == ("done", 2)
    assert task_row(conn, task_id) == (ALICE, "before", "kept", True, 2)
    cleared = Jsonb({"description": None, "title": "after"})
    assert call(conn, PATCH_TASK, ALICE, id=task_id, changes=cleared, version=None)[:2] == (
        "done",
        3,
    )
    assert task_row(conn, task_id) == (ALICE, "after", None, True, 3)


# each outcome of each write


@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("expected", [3, None], ids=["at-the-expected-version", "no-precondition"])
def test_a_write_that_happens_is_done(conn: Connection, name: str, expected: int | None) -> None:
    task_id = create_task(conn, ALICE, "before", "kept")
    call(conn, TOGGLE_TASK, ALICE, id=task_id, version=None)
    call(conn, TOGGLE_TASK, ALICE, id=task_id, version=None)  # now at version 3, not completed
    _, _, fields = WRITES[name]
    outcome, version, body = write(conn, name, ALICE, task_id, expected)

    if fields is None:  # delete: the version that was deleted, no body
        assert (outcome, version, body) == ("done", 3, None)
        assert task_row(conn, task_id) is None
        return
    assert (outcome, version) == ("done", 4)
    assert task_row(conn, task_id) == (ALICE, *fields, 4)
    assert body == scalar(conn, "select public_json from app.tasks where id = %s", (task_id,))
    task = json.loads(body)
    assert (task["id"], task["version"]) == (task_id, 4)
    assert (task["title"], task["description"], task["completed"]) == fields
    assert call(conn, GET_TASK, ALICE, id=task_id) == (4, body)


@pytest.mark.parametrize("name", WRITES)
def test_a_stale_version_is_stale_and_writes_nothing(conn: Connection, name: str) -> None:
    task_id = create_task(conn, ALICE, "before", "kept")
    call(conn, TOGGLE_TASK, ALICE, id=task_id, version=None)
    call(conn, TOGGLE_TASK, ALICE, id=task_id, version=None)  # now at version 3
    before = snapshot(conn, task_id)

    for expected in (1, 2, 4, 2**31 - 1):
        assert write(conn, name, ALICE, task_id, expected) == ("stale", 3, None), expected
    assert snapshot(conn, task_id) == before  # not a single column, not even a new row version


@pytest.mark.parametrize("name", WRITES)
def test_a_task_that_does_not_exist_is_missing(conn: Connection, name: str) -> None:
    task_id = create_task(conn, ALICE)
    call(conn, DELETE_TASK, ALICE, id=task_id, version=None)
    for expected in (None, 1):
        assert write(conn, name, ALICE, task_id, expected) == ("missing", None, None)
        assert write(conn, name, ALICE, 2**63 - 1, expected) == ("missing", None, None)
    assert scalar(conn, "select count(*) from app.tasks") == 0


# two writers, one version


@pytest.mark.parametrize("first", WRITES)
def test_two_writers_of_one_version_exactly_one_is_done(
    conn: Connection, database_url: str, first: str
) -> None:
    """The first writer holds the row lock in an open transaction; the second, each write
    function in turn, called as the API calls it, waits for it, then finds the row the first
    committed."""
    bounded = "-c lock_timeout=10s -c statement_timeout=20s"
    with (
        psycopg.connect(database_url, autocommit=True, options=bounded) as one,
        psycopg.connect(database_url, autocommit=True, options=bounded) as two,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        for second in WRITES:
            task_id = create_task(conn, ALICE, "before", "kept")
            with one.transaction():
                won = write(one, first, ALICE, task_id, 1)
                racing = pool.submit(write, two, second, ALICE, task_id, 1)
                wait_until_blocked(conn, two.info.backend_pid, one.info.backend_pid)
                assert not racing.done()
            lost = racing.result(timeout=20)

            assert won[0] == "done", second
            fields = WRITES[first][2]
            if fields is None:  # the first deleted it
                assert lost == ("missing", None, None), second
                assert task_row(conn, task_id) is None
            else:
                assert lost == ("stale", 2, None), second  # the version that beat it
                assert task_row(conn, task_id) == (ALICE, *fields, 2)


def test_two_writers_at_once_many_times_one_is_done_each_time(
    conn: Connection, database_url: str
) -> None:
    """Without choreography: two connections send the same toggle with the same expected
    version at the same moment, forty times over."""
    task_id = create_task(conn, ALICE)
    with (
        psycopg.connect(database_url, autocommit=True) as one,
        psycopg.connect(database_url, autocommit=True) as two,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        for version in range(1, 41):
            answers = [
                pool.submit(write, each, "toggle", ALICE, task_id, version) for each in (one, two)
            ]
            outcomes = sorted(answer.result(timeout=20)[:2] for answer in answers)
            assert outcomes == [("done", version + 1), ("stale", version + 1)]
    assert task_row(conn, task_id) == (ALICE, "a task", None, False, 41)


def test_a_url_naming_another_user_is_refused_before_anything_runs(conn: Connection) -> None:
    with pytest.raises(psycopg.Error) as excinfo:
        call(
            conn, CREATE_TASK, ALICE, path_user_id=BOB, title="x", description=None, completed=False
        )
    assert excinfo.value.sqlstate == "PT403"
    assert conn.execute("select count(*) from app.tasks").fetchone() == (0,)
    assert call(conn, LIST_TASKS, ALICE, path_user_id=ALICE, known=[]) == (0, "[]")

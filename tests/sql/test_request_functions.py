"""The request functions (sql/functions/app.*_task*.sql), called exactly as the API calls them:
one statement on an autocommit connection, which is the whole transaction. They act only for
the caller, leave nothing of the request behind on the connection, and keep what they refuse."""

import json
from typing import Any

import psycopg
import pytest
from psycopg import Connection
from psycopg.types.json import Jsonb

from api.database.requests import request_params
from api.routes.tasks import (
    CREATE_TASK,
    DELETE_TASK,
    GET_TASK,
    LIST_TASKS,
    PATCH_TASK,
    REPLACE_TASK,
    TOGGLE_TASK,
)
from tests.sql.helpers import ALICE, BOB, create_task, task_row


def call(conn: Connection, query: str, user_id: str, **params: Any) -> tuple[Any, ...]:
    row = conn.execute(query, {**request_params(user_id), **params}).fetchone()
    assert row is not None
    return row


def test_a_call_leaves_no_role_or_user_on_the_connection(conn: Connection) -> None:
    assert conn.autocommit
    login = conn.execute("select current_user").fetchone()
    call(conn, LIST_TASKS, ALICE)
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
    (listed,) = call(conn, LIST_TASKS, ALICE)
    assert [task["id"] for task in json.loads(listed)] == [alices]
    assert call(conn, GET_TASK, ALICE, id=bobs) == (None, None)
    version, body = call(conn, GET_TASK, ALICE, id=alices)
    assert version == 1
    assert '"title":"alice\'s"' in body
    nothing = {"title": "taken", "description": None, "completed": True, "version": None}
    assert call(conn, REPLACE_TASK, ALICE, id=bobs, **nothing) == (None, None)
    changes = Jsonb({"title": "taken"})
    assert call(conn, PATCH_TASK, ALICE, id=bobs, changes=changes, version=None) == (None, None)
    assert call(conn, TOGGLE_TASK, ALICE, id=bobs, version=None) == (None, None)
    assert call(conn, DELETE_TASK, ALICE, id=bobs, version=None) == (None,)
    assert task_row(conn, bobs) == (BOB, "bob's", None, False, 1)


def test_create_belongs_to_the_caller(conn: Connection) -> None:
    task_id, version, body = call(
        conn, CREATE_TASK, ALICE, title="mine", description=None, completed=False
    )
    assert version == 1
    assert f'"user_id":"{ALICE}"' in body
    assert task_row(conn, task_id) == (ALICE, "mine", None, False, 1)


def test_patch_sets_only_the_named_fields(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "before", "kept")
    changes = Jsonb({"completed": True})
    assert call(conn, PATCH_TASK, ALICE, id=task_id, changes=changes, version=1)[0] == 2
    assert task_row(conn, task_id) == (ALICE, "before", "kept", True, 2)
    cleared = Jsonb({"description": None, "title": "after"})
    assert call(conn, PATCH_TASK, ALICE, id=task_id, changes=cleared, version=None)[0] == 3
    assert task_row(conn, task_id) == (ALICE, "after", None, True, 3)


def test_a_stale_version_is_refused_and_changes_nothing(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    with pytest.raises(psycopg.Error) as excinfo:
        call(conn, TOGGLE_TASK, ALICE, id=task_id, version=7)
    assert excinfo.value.sqlstate == "PT409"
    assert call(conn, DELETE_TASK, ALICE, id=task_id, version=7) == (False,)
    assert task_row(conn, task_id) == (ALICE, "a task", None, False, 1)
    assert call(conn, DELETE_TASK, ALICE, id=task_id, version=1) == (True,)
    assert task_row(conn, task_id) is None


def test_a_url_naming_another_user_is_refused_before_anything_runs(conn: Connection) -> None:
    with pytest.raises(psycopg.Error) as excinfo:
        call(
            conn, CREATE_TASK, ALICE, path_user_id=BOB, title="x", description=None, completed=False
        )
    assert excinfo.value.sqlstate == "PT403"
    assert conn.execute("select count(*) from app.tasks").fetchone() == (0,)
    assert call(conn, LIST_TASKS, ALICE, path_user_id=ALICE) == ("[]",)

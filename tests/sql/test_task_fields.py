"""The fields of migration 0008: the checks that mirror api/models.py (app.tasks' constraints,
and sql/functions/app_private.tags_are_valid.sql and extra_is_valid.sql) hold for raw SQL as the
request role, and app.query_tasks, called by hand with any query, answers only the
caller's tasks (row-level security decides, not the function)."""

import json
from typing import LiteralString

import pytest
from psycopg import Connection
from psycopg.errors import CheckViolation
from psycopg.types.json import Jsonb

from api.database.requests import REQUEST_CONTEXT
from api.routes.tasks import QUERY_TASKS
from tests.sql.helpers import ALICE, BOB, as_user, create_task, fails_with, scalar
from tests.utils.context import user_context


@pytest.mark.parametrize(
    "values",
    [
        "priority = 0",
        "priority = 4",
        "tags = array['ok', 'ok']",
        "tags = array[' padded']",
        "tags = array['']",
        "tags = array[repeat('x', 51)]",
        "tags = array[null]",
        "tags = array(select 't' || n from generate_series(1, 21) as n)",
        "extra = '[]'",
        """extra = '{"title": "shadow"}'""",
        """extra = '{"user_id": "bob"}'""",
        "extra = (select jsonb_object_agg('k' || n, n) from generate_series(1, 21) as n)",
        "extra = jsonb_build_object('k', repeat('x', 17000))",
        "due_all_day = true, due_at = null",
    ],
)
def test_the_checks_refuse_what_the_models_refuse(conn: Connection, values: LiteralString) -> None:
    task_id = create_task(conn, ALICE)
    with as_user(conn, ALICE), fails_with(conn, CheckViolation):
        conn.execute(f"update app.tasks set {values} where id = %s", (task_id,))


def test_the_checks_take_what_the_models_take(conn: Connection) -> None:
    task_id = create_task(conn, ALICE)
    with as_user(conn, ALICE):
        conn.execute(
            "update app.tasks set priority = 3, tags = array['a', 'B', 'b'], position = -5,"
            """ extra = '{"colour": "red", "n": [1, {"x": null}]}', due_at = '2026-12-24',"""
            " due_all_day = true where id = %s",
            (task_id,),
        )
        body = json.loads(
            scalar(conn, "select public_json from app.tasks where id = %s", (task_id,))
        )
    keys = ("priority", "tags", "position", "due_date", "colour", "n")
    assert {key: body[key] for key in keys} == {
        "priority": "high", "tags": ["a", "B", "b"], "position": -5, "due_date": "2026-12-24",
        "colour": "red", "n": [1, {"x": None}],
    }  # fmt: skip


QUERIES = [
    {"sort": "created"},
    {"sort": "title", "descending": True, "q": "task"},
    {"sort": "priority", "completed": False, "priority": 0},
    {"sort": "due_date", "after": ["-infinity", 0], "limit": 100},
    {"sort": "position", "tag": "shared", "count": True, "limit": 5, "offset": 0},
    {"sort": "updated", "due_after": "2000-01-01T00:00:00+00:00", "q": "%"},
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_tasks_answers_only_the_callers_tasks(
    conn: Connection, query: dict[str, object]
) -> None:
    for user in (ALICE, BOB):
        task_id = create_task(conn, user, f"{user}'s task, 100%")
        with conn.transaction():
            conn.execute(REQUEST_CONTEXT, user_context(user))
            conn.execute(
                "update app.tasks set tags = array['shared'], due_at = now() where id = %s",
                (task_id,),
            )
    for user, other in ((ALICE, BOB), (BOB, ALICE)):
        params = {**user_context(user), "query": Jsonb(query)}
        body, size, total, _ = conn.execute(QUERY_TASKS, params).fetchone()  # type: ignore[misc]
        tasks = json.loads(body)
        assert [task["user_id"] for task in tasks] == [user], query
        assert size == 1
        assert total in (None, 1)
        assert other not in body

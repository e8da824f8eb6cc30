"""app.tasks.public_json (sql/migrations/0006_check_versions_and_store_json.sql): each task's
JSON as the API sends it, stored by PostgreSQL on every write, so that reads only copy it. It
must be exactly the API's TaskPublic (keys, their order, value formats, timestamps in UTC in
PostgreSQL's JSON form) whoever writes, however, and whatever their session's TimeZone; and
nobody may write it directly.

The expected text is built here, in Python, without PostgreSQL's JSON functions."""

import json
from typing import LiteralString

import pytest
from psycopg import Connection
from psycopg.errors import GeneratedAlways

from api.database.requests import REQUEST_CONTEXT
from api.routes.tasks import CREATE_TASK, PATCH_TASK, REPLACE_TASK, TOGGLE_TASK
from tests.sql.helpers import (
    ALICE,
    TASK_KEYS,
    as_app_user,
    as_user,
    create_task,
    create_user,
    expected_json,
    fails_with,
    rows,
    scalar,
)
from tests.utils.context import user_context

ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Kiritimati", "Europe/Berlin"]


def stored_json(conn: Connection, task_id: int) -> str:
    text: str = scalar(conn, "select public_json from app.tasks where id = %s", (task_id,))
    return text


def assert_right(conn: Connection) -> None:
    """Every task's stored JSON is what its columns say, as the owner sees them."""
    ids = [task_id for (task_id,) in rows(conn, "select id from app.tasks order by id")]
    assert ids
    for task_id in ids:
        assert stored_json(conn, task_id) == expected_json(conn, task_id)


def test_the_json_is_the_tasks_public_shape(conn: Connection) -> None:
    task_id = create_task(conn, ALICE, "Buy milk", "2 litres")
    text = stored_json(conn, task_id)
    assert text == expected_json(conn, task_id)
    pairs = json.loads(text, object_pairs_hook=list)
    assert [key for key, _ in pairs] == list(TASK_KEYS)
    assert text.startswith(f'{{"id":{task_id},"title":"Buy milk","description":"2 litres",')
    assert '"completed":false,"user_id":"alice","version":1,"created_at":"' in text


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ('say "hi"', "back\\slash / slash"),
        ("tab\tinside", "lines\nand\r\nreturns, \x01 \x1f \x7f controls"),
        ("📝 emoji 👩🏽‍💻", "日本語 and \u2028 \u2029 separators"),
        ("</script>", None),
        ("x" * 200, "é" * 2000),
    ],
    ids=["quotes", "controls", "unicode", "html-and-null", "longest"],
)
def test_text_is_escaped_as_json(conn: Connection, title: str, description: str | None) -> None:
    task_id = create_task(conn, ALICE, title, description)
    assert stored_json(conn, task_id) == expected_json(conn, task_id)
    task = json.loads(stored_json(conn, task_id))
    assert (task["title"], task["description"]) == (title, description)


@pytest.mark.parametrize(
    ("moment", "utc"),
    [
        ("2026-11-22 05:34:20.8874+00", "2026-11-22T05:34:20.8874+00:00"),
        ("2026-01-01 00:00:00+00", "2026-01-01T00:00:00+00:00"),
        ("2026-06-30 23:59:59.000001+00", "2026-06-30T23:59:59.000001+00:00"),
        ("1999-12-31 23:30:00.5-05:30", "2000-01-01T05:00:00.5+00:00"),
    ],
)
def test_timestamps_are_utc_whatever_the_writers_time_zone(
    conn: Connection, moment: str, utc: str
) -> None:
    create_user(conn, ALICE)
    for zone in ZONES:
        with conn.transaction():
            conn.execute("select set_config('TimeZone', %s, true)", (zone,))
            task_id: int = scalar(
                conn,
                "insert into app.tasks (user_id, title, created_at, updated_at)"
                " values (%s, 'dated', %s, %s) returning id",
                (ALICE, moment, moment),
            )
        text = stored_json(conn, task_id)
        assert text == expected_json(conn, task_id), zone
        assert f'"created_at":"{utc}","updated_at":"{utc}",' in text, zone


def test_the_request_role_writes_utc_whatever_its_time_zone(conn: Connection) -> None:
    """app.begin_request sets TimeZone to UTC; a writer that sets it back still stores UTC."""
    for zone in ZONES:
        with conn.transaction():
            conn.execute(REQUEST_CONTEXT, user_context(ALICE))
            conn.execute("select set_config('TimeZone', %s, true)", (zone,))
            task_id: int = scalar(
                conn, "insert into app.tasks (title) values ('mine') returning id"
            )
            conn.execute("update app.tasks set completed = true where id = %s", (task_id,))
            assert scalar(conn, "select current_setting('TimeZone')") == zone
        text = stored_json(conn, task_id)
        assert text == expected_json(conn, task_id), zone
        assert '"version":2,' in text
        assert text.count("+00:00") == 2


def test_every_request_function_that_writes_keeps_it_right(conn: Connection) -> None:
    params = user_context(ALICE)
    fields = {"priority": 2, "due_at": "2026-12-24", "due_all_day": True, "tags": ["a"],
              "position": 1, "extra": '{"colour": "red"}'}  # fmt: skip
    task_id = conn.execute(
        CREATE_TASK,
        {**params, **fields, "title": "created", "description": "d", "completed": False},
    ).fetchone()[0]  # type: ignore[index]
    assert_right(conn)
    conn.execute(
        REPLACE_TASK,
        {**params, **fields, "id": task_id, "title": "replaced", "description": None,
         "completed": True, "version": 1, "extra": '{"a": [1, {"b": null}], "colour": "blue"}'},
    )  # fmt: skip
    assert_right(conn)
    conn.execute(
        PATCH_TASK,
        {**params, "id": task_id, "version": 2,
         "changes": '{"description": "patched", "tags": ["x", "y"], "due_at": null,'
                    ' "extra": {"z": 1}}'},
    )  # fmt: skip
    assert_right(conn)
    conn.execute(TOGGLE_TASK, {**params, "id": task_id, "version": None})
    assert_right(conn)
    assert json.loads(stored_json(conn, task_id))["version"] == 4


@pytest.mark.parametrize(
    "statement",
    [
        "update app.tasks set title = 'renamed'",
        "update app.tasks set description = null",
        "update app.tasks set description = 'now described', completed = not completed",
        "update app.tasks set version = 42",  # the trigger sets 2; the JSON follows it
        "update app.tasks set updated_at = '2001-02-03 04:05:06.7+00'",
        "update app.tasks as t set title = v.title"
        " from (values ('from a join')) as v (title) where t.title <> v.title",
        "insert into app.tasks (user_id, title, version, created_at)"
        " values ('alice', 'owner''s', 9, '2020-02-29 12:00:00.123+01')",
        "insert into app.tasks (id, user_id, title) overriding system value"
        " select id, user_id, 'upserted' from app.tasks"
        " on conflict (id) do update set title = excluded.title",
    ],
    ids=[
        "title",
        "description-null",
        "two-columns",
        "version",
        "updated-at",
        "update-from",
        "insert",
        "upsert",
    ],
)
def test_raw_sql_by_the_owner_keeps_it_right(conn: Connection, statement: LiteralString) -> None:
    create_task(conn, ALICE, "first", "described")
    create_task(conn, ALICE, "second")
    with conn.transaction():
        conn.execute("set local timezone = 'Asia/Kathmandu'")
        conn.execute(statement)
    assert_right(conn)


def test_copy_by_the_owner_keeps_it_right(conn: Connection) -> None:
    create_user(conn, ALICE)
    with (
        conn.cursor() as cur,
        cur.copy("copy app.tasks (user_id, title, description) from stdin") as copy,
    ):
        copy.write_row((ALICE, "copied", "with\ttab"))
        copy.write_row((ALICE, "copied too", None))
    assert_right(conn)


def test_it_is_right_even_when_triggers_are_skipped(conn: Connection) -> None:
    """session_replication_role = replica skips ordinary triggers (here, the stamping one);
    a generated column is no trigger."""
    task_id = create_task(conn, ALICE, "before")
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute("update app.tasks set title = 'unstamped' where id = %s", (task_id,))
    assert json.loads(stored_json(conn, task_id))["title"] == "unstamped"
    assert_right(conn)


# nobody writes it


@pytest.mark.parametrize(
    "statement",
    [
        "insert into app.tasks (title, public_json) values ('t', '{}')",
        "update app.tasks set public_json = '{}'",
        "update app.tasks set public_json = public_json || ' '",
    ],
)
def test_the_request_role_cannot_write_it(conn: Connection, statement: LiteralString) -> None:
    create_task(conn, ALICE)
    before = rows(conn, "select public_json from app.tasks")
    with as_user(conn, ALICE), fails_with(conn, GeneratedAlways):
        conn.execute(statement)
    assert rows(conn, "select public_json from app.tasks") == before


@pytest.mark.parametrize(
    "statement",
    [
        "insert into app.tasks (user_id, title, public_json) values ('alice', 't', '{}')",
        "update app.tasks set public_json = '{}'",
    ],
)
def test_the_owner_cannot_write_it_either(conn: Connection, statement: LiteralString) -> None:
    create_task(conn, ALICE)
    with fails_with(conn, GeneratedAlways):
        conn.execute(statement)
    assert_right(conn)


def test_the_request_role_holds_no_write_grant_on_it_or_on_version(conn: Connection) -> None:
    assert rows(
        conn,
        "select c.column_name::text,"
        " has_column_privilege('app_user', 'app.tasks', c.column_name, 'insert'),"
        " has_column_privilege('app_user', 'app.tasks', c.column_name, 'update')"
        " from information_schema.columns as c"
        " where c.table_schema = 'app' and c.table_name = 'tasks' order by c.ordinal_position",
    ) == [
        ("id", False, False),
        ("user_id", False, False),
        ("title", True, True),
        ("description", True, True),
        ("completed", True, True),
        ("version", False, False),
        ("created_at", False, False),
        ("updated_at", False, False),
        ("priority", True, True),
        ("due_at", True, True),
        ("due_all_day", True, True),
        ("tags", True, True),
        ("position", True, True),
        ("extra", True, True),
        ("public_json", False, False),
        ("change_seq", False, False),
    ]


def test_reading_it_needs_no_time_zone(conn: Connection) -> None:
    """The request role reads the stored text as it is, whatever TimeZone the reader has."""
    task_id = create_task(conn, ALICE)
    with as_app_user(conn, ALICE):
        conn.execute("select set_config('TimeZone', 'Asia/Kathmandu', true)")
        assert stored_json(conn, task_id) == expected_json(conn, task_id)

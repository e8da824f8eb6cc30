"""api.database.migrate on a database of its own: every migration rolls back cleanly and applies
again, and migrating twice changes nothing."""

from psycopg import Connection, sql

from api.database.migrate import MIGRATIONS_SCHEMA, migrate, rollback
from api.database.requests import REQUEST_CONTEXT, request_params

ALL = [
    "0001_create_schemas_and_roles",
    "0002_create_users",
    "0003_create_tasks",
    "0004_create_identity",
    "0005_request_functions",
]


def applied(conn: Connection) -> list[str]:
    """Migration ids yoyo has recorded as applied."""
    query = sql.SQL("select migration_id from {}._yoyo_migration order by migration_id")
    cur = conn.execute(query.format(sql.Identifier(MIGRATIONS_SCHEMA)))
    return [row[0] for row in cur.fetchall()]


def schemas(conn: Connection) -> list[str]:
    cur = conn.execute(
        "select nspname from pg_catalog.pg_namespace"
        " where nspname in ('app', 'app_private') order by nspname"
    )
    return [row[0] for row in cur.fetchall()]


def relations(conn: Connection) -> list[str | None]:
    cur = conn.execute(
        "select to_regclass('app.users')::text, to_regclass('app.tasks')::text,"
        " to_regclass('app.audit_events')::text, to_regclass('app_private.accounts')::text"
    )
    row = cur.fetchone()
    assert row is not None
    return list(row)


def policies(conn: Connection) -> list[tuple[str, str]]:
    cur = conn.execute(
        "select tablename::text, policyname::text from pg_catalog.pg_policies"
        " where schemaname = 'app' order by tablename, policyname"
    )
    return cur.fetchall()


EXPECTED_POLICIES = [
    ("audit_events", "insert_any"),
    ("tasks", "delete_own"),
    ("tasks", "insert_own"),
    ("tasks", "select_own"),
    ("tasks", "update_own"),
    ("users", "insert_self"),
    ("users", "select_self"),
    ("users", "update_self"),
]


def test_migrating_a_migrated_database_applies_nothing(conn: Connection, database_url: str) -> None:
    assert migrate(database_url) == []
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES


def test_rollback_one_step_removes_only_the_newest_migration(
    conn: Connection, database_url: str
) -> None:
    assert rollback(database_url) == ["0005_request_functions"]

    assert applied(conn) == ALL[:4]
    cur = conn.execute(
        "select proname from pg_catalog.pg_proc"
        " where proname in ('begin_request', 'list_tasks', 'delete_task', 'task_public')"
    )
    assert cur.fetchall() == []
    cur = conn.execute(
        "select to_regtype('app.request_context')::text, to_regtype('app.task_public')::text"
    )
    assert cur.fetchone() == (None, None)
    assert relations(conn) == ["app.users", "app.tasks", "app.audit_events", "app_private.accounts"]

    assert rollback(database_url) == ["0004_create_identity"]

    assert applied(conn) == ALL[:3]
    assert relations(conn) == ["app.users", "app.tasks", None, None]
    assert [name for table, name in policies(conn) if table == "audit_events"] == []
    cur = conn.execute(
        "select proname from pg_catalog.pg_proc"
        " where proname in ('sign_up', 'rotate_refresh_token', 'tg__refuse_change')"
    )
    assert cur.fetchall() == []
    with conn.transaction(force_rollback=True):  # what stays still holds rows
        conn.execute("insert into app.users (id) values ('alice')")
        conn.execute("insert into app.tasks (user_id, title) values ('alice', 'still here')")
        assert conn.execute("select user_id from app.tasks").fetchall() == [("alice",)]
    assert rollback(database_url) == ["0003_create_tasks"]
    assert relations(conn) == ["app.users", None, None, None]


def test_rollback_all_then_migrate_again(conn: Connection, database_url: str) -> None:
    assert migrate(database_url) == []
    assert rollback(database_url) == ["0005_request_functions"]
    assert rollback(database_url, all_steps=True) == ALL[3::-1]

    assert schemas(conn) == []
    assert applied(conn) == []
    assert rollback(database_url, all_steps=True) == []

    assert migrate(database_url) == ALL
    assert schemas(conn) == ["app", "app_private"]
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES

    # The rebuilt schema works end to end, row-level security included.
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, request_params("alice"))
        conn.execute("insert into app.tasks (title) values ('after the rebuild')")
        cur = conn.execute("update app.tasks set completed = true returning user_id, version")
        assert cur.fetchall() == [("alice", 2)]
    with conn.transaction(force_rollback=True):
        conn.execute(REQUEST_CONTEXT, request_params("bob"))
        assert conn.execute("select id from app.tasks").fetchall() == []

    assert migrate(database_url) == []
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES
    assert conn.execute("select count(*) from app.tasks").fetchone() == (1,)

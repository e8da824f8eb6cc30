"""The request role and the way into it (sql/migrations/0001_create_schemas_and_roles.sql,
sql/functions/app.begin_request.sql): app_user can do nothing RLS does not bind, and
app.begin_request lowers privileges for one transaction only."""

import pytest
from psycopg import Connection

from api.database.requests import REQUEST_CONTEXT
from tests.sql.helpers import ALICE, fails_with, rows, scalar
from tests.utils.context import user_context


def test_app_user_is_nologin_not_superuser_and_cannot_bypass_rls(conn: Connection) -> None:
    assert rows(
        conn,
        "select rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb"
        " from pg_catalog.pg_roles where rolname = 'app_user'",
    ) == [(False, False, False, False, False)]


def test_app_user_owns_nothing_in_the_app_schemas(conn: Connection) -> None:
    owned = rows(
        conn,
        "select n.nspname, c.relname from pg_catalog.pg_class c"
        " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname in ('app', 'app_private') and c.relowner = 'app_user'::regrole"
        " union all"
        " select n.nspname, p.proname from pg_catalog.pg_proc p"
        " join pg_catalog.pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('app', 'app_private') and p.proowner = 'app_user'::regrole"
        " union all"
        " select nspname, nspname from pg_catalog.pg_namespace"
        " where nspname in ('app', 'app_private') and nspowner = 'app_user'::regrole",
    )
    assert owned == []


def test_rls_is_enabled_and_forced_on_every_table_in_app(conn: Connection) -> None:
    tables = rows(
        conn,
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_catalog.pg_class c"
        " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'app' and c.relkind in ('r', 'p') order by c.relname",
    )
    # A new table gets checked too.
    assert [name for name, *_ in tables] == [
        "audit_events", "task_sync_states", "task_tombstones", "tasks", "users"
    ]  # fmt: skip
    assert [name for name, enabled, forced in tables if not (enabled and forced)] == []


def test_app_user_may_use_app_but_not_app_private(conn: Connection) -> None:
    assert rows(
        conn,
        "select has_schema_privilege('app_user', 'app', 'usage'),"
        " has_schema_privilege('app_user', 'app_private', 'usage'),"
        " has_schema_privilege('app_user', 'app_migrations', 'usage')",
    ) == [(True, False, False)]


def test_app_user_cannot_call_the_trigger_functions(conn: Connection) -> None:
    assert rows(
        conn,
        "select p.proname, has_function_privilege('app_user', p.oid, 'execute')"
        " from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname = 'app_private' and p.prorettype = 'trigger'::regtype"
        " order by p.proname",
    ) == [
        ("tg__refuse_change", False),
        ("tg_audit_events__guard", False),
        ("tg_tasks__record_change", False),
        ("tg_tasks__stamp_row", False),
        ("tg_users__stamp_row", False),
    ]


def test_begin_request_acts_for_the_user_until_commit(conn: Connection) -> None:
    login = conn.info.user
    assert rows(conn, "select current_user, session_user") == [(login, login)]

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        assert rows(conn, "select current_user, session_user, app.current_user_id()") == [
            ("app_user", login, ALICE)
        ]

    assert rows(conn, "select current_user, app.current_user_id()") == [(login, None)]


def test_begin_request_acts_for_the_user_until_rollback(conn: Connection) -> None:
    login = conn.info.user
    with conn.transaction(force_rollback=True):
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        assert scalar(conn, "select current_user") == "app_user"
    assert rows(conn, "select current_user, app.current_user_id()") == [(login, None)]


@pytest.mark.parametrize("user_id", [None, ""])
def test_begin_request_without_a_user_id_is_refused(conn: Connection, user_id: str | None) -> None:
    with conn.transaction(force_rollback=True):
        with fails_with(conn, "PT401"):
            conn.execute(REQUEST_CONTEXT, user_context(user_id))
        assert rows(conn, "select current_user, app.current_user_id()") == [(conn.info.user, None)]
    assert scalar(conn, "select count(*) from app.users") == 0


def test_begin_request_creates_the_user_once(conn: Connection) -> None:
    assert rows(conn, "select id from app.users") == []

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
    first = rows(conn, "select id, email, name, created_at, updated_at from app.users")
    assert [row[:3] for row in first] == [(ALICE, None, None)]

    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        assert rows(conn, "select id from app.users") == [(ALICE,)]
    assert rows(conn, "select id, email, name, created_at, updated_at from app.users") == first

"""What a caller can put in its own session must not run as the owner inside a security definer
function: not a type in its temporary schema (which PostgreSQL searches first for type and
relation names unless the path lists pg_temp, last), nor a relation it names for
app_private.better_auth_session_user to read. The caller is the request role here; the login
role of a deployment has the same temporary schema."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import Connection, sql

from api.identity import accounts
from tests.sql.helpers import scalar
from tests.sql.test_catalog import REVIEWED_SECURITY_DEFINER

# The types our functions name without a schema (`integer`, `boolean` and `timestamp with time
# zone` are keywords that always mean pg_catalog's).
SEARCHED_TYPES = ("text", "uuid", "timestamptz", "bytea", "jsonb", "regclass", "xid8", "int4")
LATER = "now() + interval '1 hour'"
# One call of each security definer function the request role may execute, with arguments
# that take it past its declarations and into its statements.
CALLS = {
    "app.auth_wait_seconds": "select app.auth_wait_seconds('ada@example.com', '10.0.0.1')",
    "app.password_parameters": "select app.password_parameters('ada@example.com')",
    "app.sign_in_attempt": "select * from app.sign_in_attempt('ada@example.com', '10.0.0.1', %s)",
    "app.sign_in": "select * from app.sign_in(gen_random_uuid(), null, sha256('r'::bytea),"
    f" {LATER}, gen_random_uuid(), {LATER}, 'agent', 'request')",
    "app.sign_up": "select * from app.sign_up('eve@example.com', %s, 'Eve', '10.0.0.1',"
    f" sha256('r'::bytea), {LATER}, gen_random_uuid(), {LATER})",
    "app.rotate_refresh_token": "select * from app.rotate_refresh_token(sha256('r'::bytea),"
    f" sha256('s'::bytea), {LATER}, gen_random_uuid(), {LATER})",
    "app.sign_out": f"select app.sign_out(sha256('r'::bytea), gen_random_uuid(), {LATER})",
    "app.erase_account": "select * from app.erase_account(gen_random_uuid(), gen_random_uuid(),"
    f" {LATER}, '10.0.0.1', 'agent', 'request')",
    "app.own_account": "select * from app.own_account()",
    "app.own_audit_events": "select * from app.own_audit_events()",
    "app.own_sessions": "select * from app.own_sessions()",
    "app_private.access_token_revoked": "select app_private.access_token_revoked("
    "gen_random_uuid())",
    "app_private.better_auth_session_user": "select app_private.better_auth_session_user("
    "'token', 'public.session')",
}


@pytest.fixture
def owner(conn: Connection) -> str:
    name: str = scalar(conn, "select current_user")
    # What how-to/deploy-on-neon.md gives the login role besides app_user's rights.
    conn.execute("grant usage on schema app_private to app_user")
    conn.execute(
        "create table public.session (id text primary key, token text not null unique,"
        ' "userId" text not null, "expiresAt" timestamptz not null)'
    )
    conn.execute(
        "insert into public.session values ('s1', 'live-token', 'ada', now() + interval '1 day')"
    )
    return name


@pytest.fixture
def caller(conn: Connection, owner: str) -> Iterator[Connection]:
    """The request role, acting for Ada, with a session of its own (committing)."""
    conn.execute("set role app_user")
    conn.execute("select set_config('app.user_id', 'ada', false)")
    yield conn
    conn.execute("reset role")


def test_every_function_that_runs_as_its_owner_pins_pg_temp_last(conn: Connection) -> None:
    settings = conn.execute(
        """
        select p.oid::regprocedure::text, coalesce(array_to_string(p.proconfig, ','), '')
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname in ('app', 'app_private')
           and (p.prosecdef or array_to_string(p.proconfig, ',') like '%search_path=%')
        """
    ).fetchall()
    assert [
        name for name, config in settings if "search_path=pg_catalog, pg_temp" not in config
    ] == []


def test_a_type_in_the_callers_temporary_schema_runs_nothing_as_the_owner(
    caller: Connection, owner: str
) -> None:
    """Each type below, made a domain whose check fails whenever it runs as the owner: a
    function that resolved one of these names to the caller's domain would fail with it."""
    assert set(CALLS) == set(REVIEWED_SECURITY_DEFINER)
    for name in SEARCHED_TYPES:
        caller.execute(
            sql.SQL("create domain pg_temp.{} as pg_catalog.{} check (current_user <> {})").format(
                sql.Identifier(name), sql.Identifier(name), sql.Literal(owner)
            )
        )
    password_hash = accounts.hasher.hash("correct horse battery")
    ran_as_owner = []
    for function, call in CALLS.items():
        params = (password_hash,) if "%s" in call else ()
        try:
            with caller.transaction():
                caller.execute(call, params)
        except psycopg.Error as exc:
            if "pg_temp" in str(exc) or "domain" in str(exc):
                ran_as_owner.append((function, str(exc).splitlines()[0]))
    assert ran_as_owner == []


@pytest.mark.parametrize(
    "relation",
    [
        # a view that runs as whoever reads it, naming the owner as the session's user
        "create temporary view s with (security_invoker = true) as select 'x'::text as token,"
        ' current_user::text as "userId", \'infinity\'::timestamptz as "expiresAt"',
        # a temporary table, which could have a policy of the caller's
        'create temporary table s (token text, "userId" text, "expiresAt" timestamptz)',
        # the right columns, one of them of the caller's own type (a cast could call into it)
        "create domain pg_temp.own as pg_catalog.text;"
        ' create table scratch.s (token pg_temp.own, "userId" text, "expiresAt" timestamptz)',
        # a permanent table of the caller's with a policy, which runs as whoever reads
        'create table scratch.s (token text, "userId" text, "expiresAt" timestamptz);'
        " alter table scratch.s enable row level security;"
        " create policy reader on scratch.s using (current_user = 'x')",
    ],
)
def test_a_relation_the_caller_names_is_not_read_as_the_owner(
    conn: Connection, owner: str, relation: str
) -> None:
    conn.execute("create schema scratch")
    conn.execute("grant usage, create on schema scratch to app_user")
    conn.execute("set role app_user")
    for statement in relation.split(";"):
        conn.execute(statement)
    name = "scratch.s" if "scratch.s" in relation else "pg_temp.s"
    refusal = pytest.raises(psycopg.Error, match="is not a session table")
    with refusal as refused, conn.transaction():
        conn.execute("select app_private.better_auth_session_user('x', %s)", (name,))
    assert refused.value.sqlstate == "PT500"
    conn.execute("reset role")


def test_a_callers_table_without_a_policy_or_its_own_types_is_read(
    conn: Connection, owner: str
) -> None:
    """Reading it runs nothing of the caller's; what it names, the caller could have set as
    app.user_id itself."""
    conn.execute("create schema scratch")
    conn.execute("grant usage, create on schema scratch to app_user")
    conn.execute("set role app_user")
    conn.execute('create table scratch.s (token text, "userId" text, "expiresAt" timestamptz)')
    conn.execute("insert into scratch.s values ('x', 'bob', 'infinity')")
    assert scalar(conn, "select app_private.better_auth_session_user('x', 'scratch.s')") == "bob"
    conn.execute("reset role")


def test_better_auth_s_own_table_is_read(caller: Connection) -> None:
    assert (
        scalar(
            caller, "select app_private.better_auth_session_user('live-token', 'public.session')"
        )
        == "ada"
    )
    assert (
        scalar(caller, "select app_private.better_auth_session_user('other', 'public.session')")
        is None
    )

"""Isolation as the catalog shows it, for every table and function, today's and tomorrow's: a
table the request role can reach has forced row-level security and only policies scoped to the
current user; a function that runs with its owner's rights is one that was reviewed, and pins
its search_path. A new table or security definer function fails here until it meets the rule
or is reviewed."""

import psycopg

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
CURRENT_USER = "app.current_user_id()"

# Policies for app_user that are not scoped to the current user, each with why it is safe.
UNSCOPED_POLICIES = {
    # The audit trail is append-only for the request role: it may add events (sign-in failures
    # happen before anyone is known) and has no select grant, so it can read none back.
    ("app", "audit_events", "insert_any"),
    # What the owner acts under, through its app_user membership, in the two functions that may
    # change the trail: app.erase_account (its update writes a pseudonym, not the current user)
    # and app_private.purge_expired (its delete names a cutoff, no user), and the rows those
    # statements must see while they run. The request role has no select, update or delete
    # grant on the table, and the guard trigger allows only those two changes.
    ("app", "audit_events", "erase_own"),
    ("app", "audit_events", "purge_expired"),
    ("app", "audit_events", "select_maintained"),
}

# Security definer functions the request role may call, each reviewed: what it does for whom.
REVIEWED_SECURITY_DEFINER = {
    "app.auth_wait_seconds": "how long an email or address must wait; reads counts only",
    "app.erase_account": "erases the current user's own data, given a counted attempt of their"
    " password; pseudonymises their audit events",
    "app.own_account": "the current user's own email and hash parameters, to confirm erasure",
    "app.own_audit_events": "the current user's own audit events, for the export",
    "app.own_sessions": "the current user's own live refresh families, without hashes",
    "app.password_parameters": "an account's hash parameters and salt, never the hash",
    "app.rotate_refresh_token": "swaps a refresh token the caller holds for a new one",
    "app.sign_in": "issues a refresh token only for a counted attempt that matches the hash",
    "app.sign_in_attempt": "counts and records a hash to compare; compares nothing",
    "app.sign_out": "revokes the caller's own token and refresh family",
    "app.sign_up": "creates an account for a new email, and its first refresh token",
    "app_private.access_token_revoked": "whether one jti was signed out",
    "app_private.better_auth_session_user": "the owner of one unexpired session token",
}


def tables_without_forced_rls(conn: psycopg.Connection) -> tuple[set[str], list[str]]:
    """(every table the request role can reach, those of them without forced RLS)."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname, c.relrowsecurity, c.relforcerowsecurity
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm', 'f')
           and n.nspname <> all (%s)
           and n.nspname not like 'pg_temp%%'
           and (has_table_privilege('app_user', c.oid, 'select, insert, update, delete')
                or has_any_column_privilege('app_user', c.oid, 'select, insert, update'))
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return {name for name, _, _ in rows}, [
        name for name, rls, forced in rows if not (rls and forced)
    ]


def test_every_table_the_request_role_can_reach_has_forced_row_level_security(
    conn: psycopg.Connection,
) -> None:
    reachable, open_tables = tables_without_forced_rls(conn)
    assert {"app.tasks", "app.users", "app.audit_events"} <= reachable  # the query sees them
    assert open_tables == []


def test_a_new_table_without_forced_rls_is_caught(conn: psycopg.Connection) -> None:
    conn.execute("create table app.notes (body text)")
    conn.execute("grant select on app.notes to app_user")
    conn.execute("create table app.drafts (body text)")
    conn.execute("alter table app.drafts enable row level security")  # not forced
    conn.execute("grant insert (body) on app.drafts to app_user")
    assert sorted(tables_without_forced_rls(conn)[1]) == ["app.drafts", "app.notes"]


def test_every_policy_for_the_request_role_is_scoped_to_the_current_user(
    conn: psycopg.Connection,
) -> None:
    policies = conn.execute(
        """
        select schemaname, tablename, policyname, cmd, qual, with_check
          from pg_policies
         where 'app_user' = any (roles) or 'public' = any (roles)
        """
    ).fetchall()
    assert len(policies) >= 8
    unscoped = []
    for schema, table, name, cmd, qual, with_check in policies:
        clauses = [c for c in (qual, with_check) if c is not None]
        if cmd in ("SELECT", "DELETE", "UPDATE", "ALL") and qual is None:
            clauses.append("")  # a command that reads rows needs a using clause
        if cmd in ("INSERT", "UPDATE", "ALL") and with_check is None and cmd != "UPDATE":
            clauses.append("")
        if any(CURRENT_USER not in clause for clause in clauses):
            unscoped.append((schema, table, name))
    assert set(unscoped) == UNSCOPED_POLICIES
    # What keeps the exception safe: the request role cannot read the audit trail back.
    row = conn.execute(
        "select has_any_column_privilege('app_user', 'app.audit_events', 'select, update')"
    ).fetchone()
    assert row == (False,)


def security_definers(conn: psycopg.Connection) -> dict[str, str]:
    """Security definer functions the request role may execute, with their settings."""
    rows = conn.execute(
        """
        select n.nspname || '.' || p.proname, coalesce(array_to_string(p.proconfig, ','), '')
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where p.prosecdef
           and n.nspname <> all (%s)
           and has_function_privilege('app_user', p.oid, 'execute')
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return dict(rows)


def test_security_definer_functions_are_reviewed_and_pin_their_search_path(
    conn: psycopg.Connection,
) -> None:
    found = security_definers(conn)
    assert set(found) == set(REVIEWED_SECURITY_DEFINER)
    assert [name for name, config in found.items() if "search_path=" not in config] == []


def test_a_new_security_definer_function_is_caught(conn: psycopg.Connection) -> None:
    conn.execute(
        "create function app.peek() returns bigint language sql security definer"
        " as $$ select count(*) from app.tasks $$"
    )
    conn.execute("grant execute on function app.peek() to app_user")
    found = security_definers(conn)
    assert set(found) - set(REVIEWED_SECURITY_DEFINER) == {"app.peek"}
    assert "search_path=" not in found["app.peek"]


def test_functions_the_request_role_calls_as_itself_are_not_security_definer(
    conn: psycopg.Connection,
) -> None:
    """The request functions switch role and rely on row-level security: as security definer
    they would run as the owner, who bypasses it."""
    rows = conn.execute(
        """
        select p.proname, p.prosecdef
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'app'
           and p.proname in ('begin_request', 'list_tasks', 'get_task', 'create_task',
                             'replace_task', 'patch_task', 'toggle_task', 'delete_task')
        """
    ).fetchall()
    assert len(rows) == 8
    assert [name for name, definer in rows if definer] == []


# A security definer function the request role can call with a user id of its choosing acts for
# that user, and the database cannot tell the API's call from raw SQL's: none may, unless it
# holds the id to app.current_user_id(). (Sign-in names an account by email, and gets a token
# only with the password's hash: tests/sql/test_passwords.py.)
USER_ID_ARGUMENT = r"(^|_)user_id$|^user$|^owner(_id)?$|^account(_id)?$"


def definers_taking_a_user_id(conn: psycopg.Connection) -> set[str]:
    """Security definer functions the request role may execute that take a user id as input:
    they act for whichever user the caller names, unless they hold it to the current user."""
    rows = conn.execute(
        """
        select n.nspname || '.' || p.proname, p.prosrc
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          cross join lateral unnest(p.proargnames, coalesce(p.proargmodes, array_fill(
                'i'::"char", array[cardinality(p.proargnames)]))) as a(name, mode)
         where p.prosecdef
           and n.nspname <> all (%s)
           and has_function_privilege('app_user', p.oid, 'execute')
           and a.mode in ('i', 'b', 'v')
           and a.name ~ %s
        """,
        (list(SYSTEM_SCHEMAS), USER_ID_ARGUMENT),
    ).fetchall()
    return {name for name, source in rows if CURRENT_USER not in source}


def test_no_function_lets_the_request_role_name_the_user_it_acts_for(
    conn: psycopg.Connection,
) -> None:
    assert definers_taking_a_user_id(conn) == set()


def test_a_new_function_that_acts_for_a_named_user_is_caught(conn: psycopg.Connection) -> None:
    conn.execute(
        "create function app.rename_user(user_id text, name text) returns void language sql"
        " security definer set search_path = '' as"
        " $$ update app.users set name = rename_user.name where id = rename_user.user_id $$"
    )
    conn.execute("grant execute on function app.rename_user(text, text) to app_user")
    conn.execute(
        "create function app.rename_me(user_id text, name text) returns void language sql"
        " security definer set search_path = '' as $$ update app.users set name = rename_me.name"
        " where id = rename_me.user_id and id = app.current_user_id() $$"
    )
    conn.execute("grant execute on function app.rename_me(text, text) to app_user")
    found = definers_taking_a_user_id(conn)
    assert "app.rename_user" in found
    assert "app.rename_me" not in found


def functions_returning_a_hash(conn: psycopg.Connection) -> set[str]:
    """Functions the request role may execute with a result column named for a hash."""
    rows = conn.execute(
        """
        select n.nspname || '.' || p.proname
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          cross join lateral unnest(p.proargnames, p.proargmodes) as a(name, mode)
         where n.nspname <> all (%s)
           and has_function_privilege('app_user', p.oid, 'execute')
           and a.mode in ('o', 't', 'b')
           and a.name ~ 'hash'
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return {name for (name,) in rows}


def test_no_function_hands_the_request_role_a_hash(conn: psycopg.Connection) -> None:
    """Password and token hashes stay in the database, which compares them itself."""
    assert functions_returning_a_hash(conn) == set()
    conn.execute(
        "create function app.leak() returns table (password_hash text) language sql"
        " security definer set search_path = '' as $$ select '' $$"
    )
    conn.execute("grant execute on function app.leak() to app_user")
    assert functions_returning_a_hash(conn) == {"app.leak"}

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
    "app.auth_failed": "counts a failed sign-in for an email and an address",
    "app.auth_succeeded": "clears an email's failure count after a sign-in",
    "app.auth_wait_seconds": "how long an email or address must wait; reads counts only",
    "app.credentials_for": "the password hash of one email, for sign-in to verify",
    "app.erase_account": "erases the current user's own data; pseudonymises their audit events",
    "app.issue_refresh_token": "stores a new refresh token hash for the user sign-in verified",
    "app.own_account": "the current user's own email and password hash, to confirm erasure",
    "app.own_audit_events": "the current user's own audit events, for the export",
    "app.own_sessions": "the current user's own live refresh families, without hashes",
    "app.rotate_refresh_token": "swaps a refresh token the caller holds for a new one",
    "app.set_password_hash": "rehashes the password of the user sign-in verified",
    "app.sign_out": "revokes the caller's own token and refresh family",
    "app.sign_up": "creates an account for a new email",
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

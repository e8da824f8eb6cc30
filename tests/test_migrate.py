"""api.database.migrate on a database of its own: every migration rolls back cleanly and applies
again, and migrating twice changes nothing."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import LiteralString

import psycopg
import pytest
from psycopg import Connection, sql

from api.database.migrate import (
    MIGRATION_LOCK,
    MIGRATIONS_SCHEMA,
    POLICY_TABLES,
    REPEATABLE_TABLE,
    SQL_DIR,
    migrate,
    rollback,
)
from api.database.requests import REQUEST_CONTEXT
from api.identity import accounts
from tests.sql.helpers import expected_json
from tests.utils.context import user_context

ALL = [
    "0001_create_schemas_and_roles",
    "0002_create_users",
    "0003_create_tasks",
    "0004_create_identity",
    "0005_request_functions",
    "0006_check_versions_and_store_json",
    "0007_add_erasure_and_retention",
    "0008_add_task_fields",
    "0009_record_task_changes",
    "0010_check_passwords_in_the_database",
    "0011_bound_password_salts",
]
NEWEST = ALL[-1]
V0006 = "0006_check_versions_and_store_json"
V0007 = "0007_add_erasure_and_retention"
V0008 = "0008_add_task_fields"
V0009 = "0009_record_task_changes"
V0010 = "0010_check_passwords_in_the_database"

# The request functions whose OUT parameters 0006 changed, and those that read public_json: the
# version before creates its own with create or replace, which needs these gone first.
RESHAPED = (
    "app.replace_task(app.request_context, bigint, text, text, boolean, integer)",
    "app.patch_task(app.request_context, bigint, jsonb, integer)",
    "app.toggle_task(app.request_context, bigint, integer)",
    "app.delete_task(app.request_context, bigint, integer)",
    "app.list_tasks(app.request_context)",
    "app.get_task(app.request_context, bigint)",
    "app.create_task(app.request_context, text, text, boolean)",
)
# The request functions that take 0008's fields, which its rollback drops likewise.
RESHAPED_0008 = (
    "app.create_task(app.request_context, text, text, boolean, smallint, timestamptz, boolean,"
    " text[], integer, jsonb)",
    "app.replace_task(app.request_context, bigint, text, text, boolean, smallint, timestamptz,"
    " boolean, text[], integer, jsonb, integer)",
    "app.query_tasks(app.request_context, jsonb)",
)


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
    ("audit_events", "erase_own"),
    ("audit_events", "insert_any"),
    ("audit_events", "purge_expired"),
    ("audit_events", "select_maintained"),
    ("audit_events", "select_own"),
    ("task_sync_states", "insert_own"),
    ("task_sync_states", "mark_purged"),
    ("task_sync_states", "select_own"),
    ("task_sync_states", "select_purging"),
    ("task_sync_states", "update_own"),
    ("task_tombstones", "insert_own"),
    ("task_tombstones", "purge_expired"),
    ("task_tombstones", "select_expired"),
    ("task_tombstones", "select_own"),
    ("tasks", "delete_own"),
    ("tasks", "insert_own"),
    ("tasks", "select_own"),
    ("tasks", "update_own"),
    ("users", "delete_self"),
    ("users", "insert_self"),
    ("users", "select_self"),
    ("users", "update_self"),
]


def test_migrating_a_migrated_database_applies_nothing(conn: Connection, database_url: str) -> None:
    assert migrate(database_url) == []
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES


def forget_repeatable_digest(conn: Connection) -> None:
    """As if a file in sql/functions or sql/policies had changed since the last migrate."""
    conn.execute(sql.SQL("update {} set digest = 'changed'").format(REPEATABLE_TABLE))


def test_migrating_again_with_nothing_changed_locks_no_table(
    conn: Connection, database_url: str
) -> None:
    """What a second worker, a replica or a restart does while others serve: it must not wait
    for their requests (a reader holds app.tasks here), nor make them wait."""
    conn.execute("drop policy select_own on app.tasks")  # left as it is: nothing changed
    with psycopg.connect(database_url) as reader, reader.transaction():
        reader.execute("lock table app.tasks in access share mode")
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(migrate, database_url).result(timeout=10) == []
    assert ("tasks", "select_own") not in policies(conn)
    forget_repeatable_digest(conn)
    assert migrate(database_url) == []
    assert policies(conn) == EXPECTED_POLICIES


def test_the_repeatable_step_locks_every_table_that_has_policies() -> None:
    assert sorted(path.stem for path in (SQL_DIR / "policies").glob("*.sql")) == sorted(
        POLICY_TABLES
    )


def test_the_repeatable_step_gives_way_to_a_request_instead_of_deadlocking_it(
    conn: Connection, database_url: str
) -> None:
    """A request holds app.tasks and then reads app.users, which the step has locked while it
    waits for app.tasks: a deadlock, unless the step gives up its locks first (and before
    PostgreSQL's deadlock detector picks a victim, after deadlock_timeout); it then tries again
    once the request is done."""
    forget_repeatable_digest(conn)
    with psycopg.connect(database_url) as request, ThreadPoolExecutor(1) as pool:
        with request.transaction():
            request.execute("lock table app.tasks in row exclusive mode")
            migrating = pool.submit(migrate, database_url)
            deadline = time.monotonic() + 10
            while not holds(
                conn,
                "select exists (select from pg_catalog.pg_locks where not granted"
                " and relation = 'app.tasks'::regclass and mode = 'AccessExclusiveLock')",
            ):
                assert time.monotonic() < deadline, "the step never waited for app.tasks"
                time.sleep(0.01)
            started = time.monotonic()
            request.execute("select count(*) from app.users")
            waited = time.monotonic() - started
        assert migrating.result(timeout=70) == []
    deadlock_timeout = conn.execute("select current_setting('deadlock_timeout')").fetchone()
    assert waited < 0.9, (waited, deadlock_timeout)
    assert policies(conn) == EXPECTED_POLICIES
    digest = conn.execute(sql.SQL("select digest from {}").format(REPEATABLE_TABLE)).fetchone()
    assert digest is not None
    assert digest != ("changed",)


def columns(conn: Connection) -> list[str]:
    cur = conn.execute(
        "select column_name::text from information_schema.columns"
        " where table_schema = 'app' and table_name = 'tasks' order by ordinal_position"
    )
    return [row[0] for row in cur.fetchall()]


def existing(conn: Connection, signatures: tuple[str, ...]) -> list[str]:
    cur = conn.execute(
        "select s from unnest(%s::text[]) as s where to_regprocedure(s) is not null",
        (list(signatures),),
    )
    return [row[0] for row in cur.fetchall()]


def holds(conn: Connection, query: LiteralString) -> bool:
    """The answer of a query that selects one boolean."""
    row = conn.execute(query).fetchone()
    assert row is not None
    return bool(row[0])


def may_update_version(conn: Connection) -> bool:
    return holds(conn, "select has_column_privilege('app_user', 'app.tasks', 'version', 'update')")


def test_rollback_one_step_removes_only_the_newest_migration(
    conn: Connection, database_url: str
) -> None:
    task = "insert into app.tasks (user_id, title) values ('alice', 'kept') returning id"
    conn.execute("insert into app.users (id) values ('alice')")
    task_id = conn.execute(task).fetchone()[0]  # type: ignore[index]
    assert columns(conn)[-1] == "change_seq"
    # 0008 reshaped create and replace; 0009 gave app.list_tasks its marker.
    current = (*RESHAPED[1:4], RESHAPED[5], *RESHAPED_0008)
    assert existing(conn, current) == list(current)
    assert not may_update_version(conn)
    assert existing(conn, PASSWORD_FUNCTIONS) == list(PASSWORD_FUNCTIONS)

    assert rollback(database_url) == [NEWEST]
    assert holds(
        conn,
        "select app_private.is_password_hash('$argon2id$v=19$m=1,t=1,p=1$'"
        " || repeat('A', 87) || '$' || repeat('A', 43))",
    )  # 0010's check again
    assert rollback(database_url) == [V0010]
    assert existing(conn, PASSWORD_FUNCTIONS) == []
    assert password_hash_checked(conn) is False
    assert rollback(database_url) == [V0009]
    assert columns(conn)[-1] == "public_json"
    cur = conn.execute(
        "select to_regclass('app.task_sync_states')::text,"
        " to_regclass('app.task_tombstones')::text,"
        " to_regprocedure('app.task_changes(app.request_context, bigint, bigint, integer)')::text"
    )
    assert cur.fetchone() == (None, None, None)
    cur = conn.execute(  # the trigger that numbered writes went with the column
        "update app.tasks set completed = true where id = %s returning version", (task_id,)
    )
    assert cur.fetchall() == [(2,)]
    assert rollback(database_url) == [V0008]
    assert rollback(database_url) == [V0007]
    assert rollback(database_url) == [V0006]

    assert applied(conn) == ALL[:5]
    assert columns(conn) == [
        "id", "user_id", "title", "description", "completed", "version", "created_at", "updated_at"
    ]  # fmt: skip
    assert existing(conn, (*RESHAPED, *RESHAPED_0008)) == []
    cur = conn.execute("select to_regproc('app.task_public_json')::text")
    assert cur.fetchone() == (None,)
    assert may_update_version(conn)  # as the version before sets it
    # The tasks stay, and the trigger that stays still stamps them.
    cur = conn.execute(
        "update app.tasks set completed = true where id = %s returning version", (task_id,)
    )
    assert cur.fetchall() == [(3,)]

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
        conn.execute("insert into app.users (id) values ('bob')")
        conn.execute("insert into app.tasks (user_id, title) values ('bob', 'still here')")
        assert conn.execute("select user_id from app.tasks order by id").fetchall() == [
            ("alice",),
            ("bob",),
        ]
    assert rollback(database_url) == ["0003_create_tasks"]
    assert relations(conn) == ["app.users", None, None, None]


def test_rollback_all_then_migrate_again(conn: Connection, database_url: str) -> None:
    assert migrate(database_url) == []
    assert rollback(database_url) == [NEWEST]
    assert rollback(database_url, all_steps=True) == ALL[-2::-1]

    assert schemas(conn) == []
    assert applied(conn) == []
    assert rollback(database_url, all_steps=True) == []

    assert migrate(database_url) == ALL
    assert schemas(conn) == ["app", "app_private"]
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES

    # The rebuilt schema works end to end, row-level security included.
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context("alice"))
        conn.execute("insert into app.tasks (title) values ('after the rebuild')")
        cur = conn.execute(
            "update app.tasks set completed = true returning user_id, version, public_json"
        )
        [(user_id, version, public_json)] = cur.fetchall()
        assert (user_id, version) == ("alice", 2)
        assert '"completed":true,"user_id":"alice","version":2,' in public_json
    with conn.transaction(force_rollback=True):
        conn.execute(REQUEST_CONTEXT, user_context("bob"))
        assert conn.execute("select id from app.tasks").fetchall() == []

    assert migrate(database_url) == []
    assert applied(conn) == ALL
    assert policies(conn) == EXPECTED_POLICIES
    assert conn.execute("select count(*) from app.tasks").fetchone() == (1,)


def test_0006_fills_public_json_for_the_tasks_already_there(
    conn: Connection, database_url: str
) -> None:
    """Tasks written before 0006 (here: after its rollback, by the owner, in a session whose
    TimeZone is not UTC) get their JSON when it applies, as if they had been written after,
    whatever the TimeZone of the session that migrates."""
    assert rollback(database_url) == [NEWEST]
    assert rollback(database_url) == [V0010]
    assert rollback(database_url) == [V0009]
    assert rollback(database_url) == [V0008]
    assert rollback(database_url) == [V0007]
    assert rollback(database_url) == [V0006]
    database = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("alter database {} set timezone = 'Asia/Kathmandu'").format(database))
    conn.execute("insert into app.users (id) values ('alice'), ('bob')")
    with conn.transaction():
        conn.execute("set local timezone = 'America/St_Johns'")
        conn.cursor().executemany(
            "insert into app.tasks (user_id, title, description, completed, created_at)"
            " values (%s, %s, %s, %s, coalesce(%s::timestamptz, now()))",
            [
                ("alice", "plain", None, False, "2026-11-22 05:34:20.8874+00"),
                ("alice", 'say "hi"\tand 📝', "two\nlines \\ ", True, "2026-01-01 00:00+00"),
                ("bob", "bob's", "d", False, None),
            ],
        )
        conn.execute("update app.tasks set completed = not completed where user_id = 'bob'")

    assert migrate(database_url) == [V0006, V0007, V0008, V0009, V0010, NEWEST]

    ids = [row[0] for row in conn.execute("select id from app.tasks order by id").fetchall()]
    assert len(ids) == 3
    for task_id in ids:
        cur = conn.execute("select public_json from app.tasks where id = %s", (task_id,))
        assert cur.fetchone() == (expected_json(conn, task_id),)
    cur = conn.execute("select public_json from app.tasks where user_id = 'bob'")
    assert '"completed":true,"user_id":"bob","version":2,' in cur.fetchone()[0]  # type: ignore[index]


def test_0007_rolls_back_to_an_audit_trail_without_exceptions(
    conn: Connection, database_url: str
) -> None:
    """Erasure and retention go; the events they wrote stay, and the trail is append-only for
    everyone again, the purge's cutoff no longer opening it."""
    conn.execute("insert into app.audit_events (event, user_id) values ('account_erased', 'x')")
    assert rollback(database_url) == [NEWEST]
    assert rollback(database_url) == [V0010]
    assert rollback(database_url) == [V0009]
    assert rollback(database_url) == [V0008]
    assert rollback(database_url) == [V0007]
    assert existing(conn, ERASURE_FUNCTIONS) == []
    assert [name for table, name in policies(conn)] == [
        "insert_any", "delete_own", "insert_own", "select_own", "update_own", "insert_self",
        "select_self", "update_self",
    ]  # fmt: skip
    cur = conn.execute(
        "select column_name::text from information_schema.columns"
        " where table_schema = 'app_private' and table_name = 'refresh_tokens'"
        " and column_name like 'access%%'"
    )
    assert cur.fetchall() == []
    assert conn.execute("select event from app.audit_events").fetchall() == [("account_erased",)]
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('app.audit_purge_before', 'infinity', true)")
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("delete from app.audit_events")
    assert migrate(database_url) == [V0007, V0008, V0009, V0010, NEWEST]


# The functions through which the database checks passwords (0010), which its rollback drops.
PASSWORD_FUNCTIONS = (
    "app.sign_in(uuid, text, bytea, timestamptz, uuid, timestamptz, text, text)",
    "app.sign_in_attempt(text, text, text)",
    "app.sign_up(text, text, text, text, bytea, timestamptz, uuid, timestamptz)",
    "app.password_parameters(text)",
    "app.erase_account(uuid, uuid, timestamptz, text, text, text)",
    "app_private.take_attempt(uuid)",
    "app_private.hash_matches(text, bytea)",
    "app_private.count_attempt(text, text)",
    "app_private.count_failure(text)",
    "app_private.issue_refresh_token(text, bytea, timestamptz, uuid, timestamptz)",
    "app_private.hash_parameters(text)",
)


def password_hash_checked(conn: Connection) -> bool:
    return holds(
        conn,
        "select exists (select from pg_catalog.pg_constraint"
        " where conname = 'accounts_password_hash_check')",
    )


def test_0010_keeps_the_hashes_and_checks_them_when_it_applies_again(
    conn: Connection, database_url: str
) -> None:
    """Accounts made before 0010 keep their hashes through its rollback and its return, and
    sign in after it; a hash of another form stops it from applying, saying how many, with
    nothing changed."""
    password_hash = accounts.hasher.hash("correct horse battery staple")
    conn.execute("insert into app.users (id) values ('ada'), ('eve')")
    conn.execute(
        "insert into app_private.accounts (user_id, email, password_hash)"
        " values ('ada', 'ada@example.com', %s)",
        (password_hash,),
    )
    assert rollback(database_url) == [NEWEST]
    assert rollback(database_url) == [V0010]
    conn.execute(
        "insert into app_private.accounts (user_id, email, password_hash)"
        " values ('eve', 'eve@example.com', 'bcrypt, say')"
    )
    with pytest.raises(psycopg.errors.CheckViolation, match="1 account"):
        migrate(database_url)
    assert applied(conn) == ALL[:-2]
    conn.execute("delete from app_private.accounts where user_id = 'eve'")

    assert migrate(database_url) == [V0010, NEWEST]
    assert password_hash_checked(conn)
    conn.autocommit = True  # the attempt commits before it is compared
    cur = conn.execute(
        "select attempt_id from app.sign_in_attempt('ada@example.com', '192.0.2.1', %s)",
        (password_hash,),
    )
    attempt = cur.fetchone()
    cur = conn.execute(
        "select outcome, user_id from app.sign_in(%s, null, sha256('r'::bytea),"
        " now() + interval '1 day', gen_random_uuid(), now(), null, null)",
        attempt,
    )
    assert cur.fetchone() == ("ok", "ada")


def test_0011_refuses_a_salt_over_64_bytes_and_stops_on_one_already_stored(
    conn: Connection, database_url: str
) -> None:
    made = accounts.hasher.hash("correct horse battery staple")
    long_salt = "$argon2id$v=19$m=19456,t=2,p=1$" + "A" * 87 + "$" + "A" * 43
    conn.execute("insert into app.users (id) values ('ada'), ('eve')")
    add = "insert into app_private.accounts (user_id, email, password_hash) values (%s, %s, %s)"
    conn.execute(add, ("ada", "ada@example.com", made))
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(add, ("eve", "eve@example.com", long_salt))
    assert rollback(database_url) == [NEWEST]
    conn.execute(add, ("eve", "eve@example.com", long_salt))
    with pytest.raises(psycopg.errors.CheckViolation, match="1 account"):
        migrate(database_url)
    assert applied(conn) == ALL[:-1]
    conn.execute("delete from app_private.accounts where user_id = 'eve'")
    assert migrate(database_url) == [NEWEST]
    assert conn.execute("select count(*) from app_private.accounts").fetchone() == (1,)


ERASURE_FUNCTIONS = (
    "app.erase_account(uuid, timestamptz, text, text, text)",
    "app.own_account()",
    "app.own_audit_events()",
    "app.own_sessions()",
    "app_private.purge_expired(interval, interval, interval)",
    "app_private.tg_audit_events__guard()",
    "app.issue_refresh_token(text, uuid, bytea, timestamptz, uuid, timestamptz)",
    "app.rotate_refresh_token(bytea, bytea, timestamptz, uuid, timestamptz)",
)


def test_migrations_at_once_take_turns(conn: Connection, database_url: str) -> None:
    """Two processes' migrate steps on an empty database (the workers of `serve`): one applies
    everything, the other waits for it and finds nothing pending."""
    rollback(database_url, all_steps=True)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(migrate, [database_url] * 2))
    assert sorted(results) == [[], ALL]
    assert applied(conn) == ALL


def test_a_migration_waits_as_long_as_the_one_before_it_takes(database_url: str) -> None:
    """Past yoyo's own 10 s lock timeout, which would leave a worker unready for good."""
    with psycopg.connect(database_url) as holder, holder.transaction():
        holder.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        done = threading.Event()

        def migrate_then_say_so() -> None:
            migrate(database_url)
            done.set()

        waiting = threading.Thread(target=migrate_then_say_so)
        waiting.start()
        assert not done.wait(12)
        with psycopg.connect(database_url) as observer:
            waits = observer.execute(
                "select count(*) from pg_catalog.pg_locks"
                " where locktype = 'advisory' and not granted"
            ).fetchone()
        assert waits == (1,)
    waiting.join(30)
    assert done.is_set()


def test_0009_numbers_the_tasks_already_there_and_keeps_their_versions(
    conn: Connection, database_url: str
) -> None:
    """Tasks written before 0009 get change numbers in the order of their last update, their
    owners a counter at the highest, and nothing else about them changes."""
    assert rollback(database_url) == [NEWEST]
    assert rollback(database_url) == [V0010]
    assert rollback(database_url) == [V0009]
    conn.execute("insert into app.users (id) values ('alice'), ('bob')")
    conn.execute(
        "insert into app.tasks (user_id, title, updated_at) values"
        " ('alice', 'later', now()), ('alice', 'earlier', now() - interval '1 hour'),"
        " ('bob', 'bobs', now())"
    )
    conn.execute("update app.tasks set completed = true where title = 'bobs'")
    before = conn.execute("select id, version, public_json from app.tasks order by id").fetchall()

    assert migrate(database_url) == [V0009, V0010, NEWEST]

    after = conn.execute("select id, version, public_json from app.tasks order by id").fetchall()
    assert after == before
    numbered = conn.execute(
        "select user_id, title, change_seq from app.tasks order by user_id, change_seq"
    ).fetchall()
    assert numbered == [("alice", "earlier", 1), ("alice", "later", 2), ("bob", "bobs", 1)]
    counters = conn.execute(
        "select user_id, change_count from app.task_sync_states order by user_id"
    ).fetchall()
    assert counters == [("alice", 2), ("bob", 1)]
    with conn.transaction(force_rollback=True):  # the next write takes the next number
        conn.execute(REQUEST_CONTEXT, user_context("alice"))
        cur = conn.execute("insert into app.tasks (title) values ('new') returning change_seq")
        assert cur.fetchone() == (3,)

"""Brings a database to the current schema, the same way for deploys, `serve` and tests.

1. yoyo applies the versioned migrations in sql/migrations (once each, under yoyo's lock);
2. every file in sql/functions, then every file in sql/policies, is applied in name order in
   one transaction: they describe the current state and are written to run any number of times.
   They are applied when a migration was, or when one of them changed since they last were
   (their digest is kept in REPEATABLE_TABLE), and not otherwise: the step takes an
   ACCESS EXCLUSIVE lock on every table with policies, which would stall, or deadlock with,
   the requests of the processes already serving each time another one starts (a second
   worker, a replica, a restart).
yoyo's bookkeeping tables live in their own schema, so the public schema stays free for Better
Auth's tables when both share a Neon database.
"""

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations
from yoyo.backends.base import DatabaseBackend

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MIGRATIONS_SCHEMA = "app_migrations"
# Processes that migrate one database at once (the workers of `serve --workers 2`, replicas
# started together) queue on this transaction-level advisory lock before yoyo's: a process
# waits its turn, however long the one before takes, instead of giving up after yoyo's 10 s
# lock timeout (which would leave it unready until restarted), and the lock ends with its
# session, so it cannot outlive a killed process. Being transaction-level, it holds through a
# pooler in transaction mode too. Any bigint does; this one reads "todo-api" in ASCII.
MIGRATION_LOCK = 0x746F646F2D617069
# The digest of the repeatable files as last applied: one row, none before the first migrate. A
# rollback leaves it: the migrate after one has a migration to apply, and so applies them too.
REPEATABLE_TABLE = sql.Identifier(MIGRATIONS_SCHEMA, "repeatable_files")
# The tables the policy files lock, in the order a request takes them (app.begin_request reads
# app.users first; a task write then reaches its change counter, tombstones, the audit trail).
# The step locks them all in this order before it changes them, and waits for each at most
# LOCK_TIMEOUT, below PostgreSQL's deadlock_timeout (1 s unless changed): when a request holds
# one and waits for another, the step gives way (its transaction rolls back and tries again)
# before the deadlock detector could choose the request as its victim.
POLICY_TABLES = ("users", "tasks", "task_sync_states", "task_tombstones", "audit_events")
LOCK_TIMEOUT = "200ms"
GIVE_WAY_FOR_SECONDS = 60.0

log = logging.getLogger(__name__)


def repeatable_files() -> list[Path]:
    return [
        *sorted((SQL_DIR / "functions").glob("*.sql")),
        *sorted((SQL_DIR / "policies").glob("*.sql")),
    ]


def repeatable_digest(files: list[Path]) -> str:
    """Changes when a file is added, removed, renamed or edited."""
    digest = hashlib.sha256()
    for path in files:
        for part in (path.relative_to(SQL_DIR).as_posix().encode(), path.read_bytes()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the scheme, and keeps its tables in MIGRATIONS_SCHEMA."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError("the database URL must start with postgresql://")
    joiner = "&" if "?" in rest else "?"
    return f"postgresql+psycopg://{rest}{joiner}schema={MIGRATIONS_SCHEMA}"


@contextmanager
def connect_backend(database_url: str) -> Iterator[DatabaseBackend]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(MIGRATIONS_SCHEMA))
        )
        conn.execute(
            sql.SQL(
                "create table if not exists {} (only_row boolean primary key default true"
                " check (only_row), digest text not null,"
                " applied_at timestamptz not null default pg_catalog.now())"
            ).format(REPEATABLE_TABLE)
        )
    backend = get_backend(yoyo_url(database_url))
    try:
        yield backend
    finally:
        backend.connection.close()


@contextmanager
def turn(database_url: str) -> Iterator[None]:
    """Waits until no other process migrates this database, and keeps it so until the block
    ends."""
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        yield


def apply_repeatable(database_url: str, *, always: bool) -> bool:
    """Applies the repeatable files, if `always` or if they changed since they last were;
    whether it did. Gives way to requests that hold a table it must lock, for at most
    GIVE_WAY_FOR_SECONDS, then raises psycopg.errors.LockNotAvailable."""
    deadline = time.monotonic() + GIVE_WAY_FOR_SECONDS
    pause = 0.05
    while True:
        try:
            return apply_repeatable_once(database_url, always=always)
        except psycopg.errors.LockNotAvailable:
            if time.monotonic() + pause > deadline:
                raise
            log.info("repeatable files: a table is in use, trying again in %.2f s", pause)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def apply_repeatable_once(database_url: str, *, always: bool) -> bool:
    files = repeatable_files()
    digest = repeatable_digest(files)
    with psycopg.connect(database_url) as conn, conn.transaction():
        row = conn.execute(sql.SQL("select digest from {}").format(REPEATABLE_TABLE)).fetchone()
        if not always and row == (digest,):
            return False
        conn.execute("set local check_function_bodies = off")
        conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        locked = False
        for path in files:
            if path.parent.name == "policies" and not locked:
                tables = sql.SQL(", ").join(sql.Identifier("app", t) for t in POLICY_TABLES)
                conn.execute(sql.SQL("lock table {} in access exclusive mode").format(tables))
                locked = True
            conn.execute(path.read_text())  # our own files, no parameters
        conn.execute(
            sql.SQL(
                "insert into {} as r (digest) values (%s) on conflict (only_row)"
                " do update set digest = excluded.digest, applied_at = pg_catalog.now()"
            ).format(REPEATABLE_TABLE),
            (digest,),
        )
    return True


def migrate(database_url: str) -> list[str]:
    """Applies what is missing; returns the ids of the migrations it applied."""
    migrations = read_migrations(str(SQL_DIR / "migrations"))
    with turn(database_url), connect_backend(database_url) as backend, backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        apply_repeatable(database_url, always=bool(pending))
    return [migration.id for migration in pending]


def rollback(database_url: str, *, all_steps: bool = False) -> list[str]:
    """Rolls back the newest applied migration, or all of them; returns their ids."""
    migrations = read_migrations(str(SQL_DIR / "migrations"))
    with turn(database_url), connect_backend(database_url) as backend, backend.lock():
        applied = backend.to_rollback(migrations)
        steps = applied if all_steps else applied[:1]
        backend.rollback_migrations(steps)
    return [migration.id for migration in steps]

"""Brings a database to the current schema, the same way for deploys, `serve` and tests.

1. yoyo applies the versioned migrations in sql/migrations (once each, under yoyo's lock);
2. every file in sql/functions, then every file in sql/policies, is re-applied in name order in
   one transaction: they describe the current state and are written to run any number of times.
yoyo's bookkeeping tables live in their own schema, so the public schema stays free for Better
Auth's tables when both share a Neon database.
"""

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


def repeatable_files() -> list[Path]:
    return [
        *sorted((SQL_DIR / "functions").glob("*.sql")),
        *sorted((SQL_DIR / "policies").glob("*.sql")),
    ]


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


def apply_repeatable(database_url: str) -> None:
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("set local check_function_bodies = off")
        for path in repeatable_files():
            conn.execute(path.read_text())  # our own files, no parameters


def migrate(database_url: str) -> list[str]:
    """Applies what is missing; returns the ids of the migrations it applied."""
    migrations = read_migrations(str(SQL_DIR / "migrations"))
    with turn(database_url), connect_backend(database_url) as backend, backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
        apply_repeatable(database_url)
    return [migration.id for migration in pending]


def rollback(database_url: str, *, all_steps: bool = False) -> list[str]:
    """Rolls back the newest applied migration, or all of them; returns their ids."""
    migrations = read_migrations(str(SQL_DIR / "migrations"))
    with turn(database_url), connect_backend(database_url) as backend, backend.lock():
        applied = backend.to_rollback(migrations)
        steps = applied if all_steps else applied[:1]
        backend.rollback_migrations(steps)
    return [migration.id for migration in steps]

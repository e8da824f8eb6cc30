"""Two URLs, two roles, as on Neon: DDL (`migrate`, `rollback`, `serve`'s migrate step) goes
through MIGRATION_DATABASE_URL, a role that owns the schema; requests through DATABASE_URL, a
login role that owns nothing and may only become app_user."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.conftest import janitor
from tests.test_cli import run, serving
from tests.utils.server import Server, unique_name
from tests.utils.tokens import SECRET, auth


@dataclass(frozen=True)
class Urls:
    service: str  # DATABASE_URL: logs in as the service role
    migration: str  # MIGRATION_DATABASE_URL: logs in as the owner
    owner: str
    service_role: str
    superuser: str  # to look past row-level security, which binds the owner too


def admin(server: Server, statement: sql.Composed) -> None:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def urls(pg_server: Server, template_db: str) -> Iterator[Urls]:
    """An empty database owned by a createrole, non-superuser role (Neon's neondb_owner), and a
    service role made as how-to/deploy-on-neon.md says: login, a member of app_user, and
    (after_migration) usage on app_private. app_user already exists in this cluster (the
    template made it), so the superuser grants it to both first, as a DBA would."""
    owner, service = unique_name("todo_owner"), unique_name("todo_service")
    for role in (owner, service):
        admin(pg_server, sql.SQL("create role {} login").format(sql.Identifier(role)))
        admin(pg_server, sql.SQL("grant app_user to {}").format(sql.Identifier(role)))
    admin(pg_server, sql.SQL("alter role {} createrole").format(sql.Identifier(owner)))
    database = janitor(pg_server, unique_name("todo_two_roles"))
    database.init()
    try:
        for kind, name in (("database", database.dbname), ("schema", "public")):
            statement = sql.SQL("alter {} {} owner to {}")
            with psycopg.connect(pg_server.url(database.dbname), autocommit=True) as conn:
                conn.execute(
                    statement.format(sql.SQL(kind), sql.Identifier(name), sql.Identifier(owner))
                )
        yield Urls(
            service=replace(pg_server, user=service).url(database.dbname),
            migration=replace(pg_server, user=owner).url(database.dbname),
            owner=owner,
            service_role=service,
            superuser=pg_server.url(database.dbname),
        )
    finally:
        database.drop()
        for role in (service, owner):
            admin(pg_server, sql.SQL("drop role {}").format(sql.Identifier(role)))


def after_migration(urls: Urls) -> None:
    """The one grant a separate service role needs once the schema exists: app.begin_request
    runs as the login role until it switches to app_user, and calls the revocation and session
    checks in app_private (security definer functions)."""
    with psycopg.connect(urls.migration, autocommit=True) as conn:
        conn.execute(
            sql.SQL("grant usage on schema app_private to {}").format(
                sql.Identifier(urls.service_role)
            )
        )


def table_owners(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tableowner from pg_tables where schemaname = 'app'")
        return {owner for (owner,) in rows.fetchall()}


def test_the_service_role_alone_cannot_migrate(tmp_path: Path, urls: Urls) -> None:
    result = run("migrate", cwd=tmp_path, DATABASE_URL=urls.service)
    assert result.returncode != 0
    assert "permission denied" in result.stderr


def test_migrate_and_rollback_use_the_migration_url(tmp_path: Path, urls: Urls) -> None:
    both = {"DATABASE_URL": urls.service, "MIGRATION_DATABASE_URL": urls.migration}
    applied = run("migrate", cwd=tmp_path, **both)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("applied: 0001_create_schemas_and_roles")
    assert table_owners(urls.migration) == {urls.owner}
    rolled_back = run("rollback", cwd=tmp_path, **both)
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert rolled_back.stdout.startswith("rolled back: 00")  # the newest migration


def test_serve_migrates_as_the_owner_and_serves_as_the_service_role(
    tmp_path: Path, urls: Urls
) -> None:
    with serving(
        tmp_path,
        DATABASE_URL=urls.service,
        MIGRATION_DATABASE_URL=urls.migration,
        BETTER_AUTH_SECRET=SECRET,
    ) as base:
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}  # migrated
        assert table_owners(urls.migration) == {urls.owner}
        after_migration(urls)
        created = httpx.post(f"{base}/api/tasks", json={"title": "two roles"}, headers=auth())
        assert created.status_code == 201
        with psycopg.connect(urls.migration) as conn:
            logins = conn.execute(
                "select distinct usename from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
            ).fetchall()
    assert logins == [(urls.service_role,)]
    with psycopg.connect(urls.superuser) as conn:
        assert conn.execute("select title from app.tasks").fetchall() == [("two roles",)]


def test_serve_refuses_a_migration_url_without_database_url(tmp_path: Path) -> None:
    """It would otherwise migrate and serve the embedded development server, and ignore it."""
    result = run("serve", cwd=tmp_path, MIGRATION_DATABASE_URL="postgresql://owner@127.0.0.1:1/x")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "todo-api: MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set both, or neither"
        " for the embedded PostgreSQL"
    )
    assert not (tmp_path / ".data").exists()

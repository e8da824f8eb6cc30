"""Test databases: one template per test process, built by the real migration path, and a fresh
clone of it for every test, so tests may commit and never see each other's rows.

TEST_POOLER=pgbouncer sends the service's own connections (app_settings) through a PgBouncer in
transaction mode in front of the test server, as Neon's pooled endpoint does; migrations and
the tests' own SQL still go to the server directly."""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from pytest_postgresql.janitor import DatabaseJanitor

from api.database.migrate import migrate
from api.main import create_app
from api.settings import Settings
from tests.utils.pgbouncer import Pooler, pgbouncer
from tests.utils.server import Server, server_for_tests, unique_name
from tests.utils.tokens import SECRET


def janitor(server: Server, dbname: str, **kwargs: object) -> DatabaseJanitor:
    return DatabaseJanitor(
        user=server.user,
        host=server.host,
        port=server.port,
        password=server.password,
        dbname=dbname,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    with server_for_tests() as server:
        yield server


_pooler: list[Pooler] = []  # the one TEST_POOLER started, for app_settings


def suite_pooler() -> Pooler | None:
    """The PgBouncer the service's connections go through in this run (TEST_POOLER), if any."""
    return _pooler[0] if _pooler else None


@pytest.fixture(scope="session", autouse=True)
def service_pooler(request: pytest.FixtureRequest) -> Iterator[None]:
    if os.environ.get("TEST_POOLER", "") not in ("", "pgbouncer"):
        raise pytest.UsageError("TEST_POOLER must be pgbouncer, or unset")
    if not os.environ.get("TEST_POOLER"):
        yield
        return
    with pgbouncer(request.getfixturevalue("pg_server")) as pooler:
        _pooler.append(pooler)
        yield
        _pooler.clear()


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> Iterator[str]:
    name = unique_name("todo_template")
    template = janitor(pg_server, name, as_template=True)
    template.init()
    try:
        migrate(pg_server.url(name))
        yield name
    finally:
        template.drop()


@contextmanager
def fresh_database(server: Server, template: str) -> Iterator[str]:
    """A new database cloned from the migrated template, dropped afterwards; its owner's URL."""
    name = unique_name("todo_test")
    db = janitor(server, name, template_dbname=template)
    db.init()
    try:
        yield server.url(name)
    finally:
        db.drop()


@pytest.fixture
def database_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A database of its own for this test, migrated, as its owner (a superuser)."""
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A direct connection to the test database, as the login role, autocommit."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def app_settings(database_url: str, **overrides: object) -> Settings:
    """The service's settings for the test database at `database_url`; under TEST_POOLER its
    connections go through PgBouncer, without prepared statements, as on Neon's pooler."""
    pooled: dict[str, object] = {}
    pooler = suite_pooler()
    if pooler is not None and (routed := pooler.route(database_url)) != database_url:
        pooled = {
            "database_url": routed,
            "migration_database_url": database_url,
            "database_prepared_statements": "off",
        }
    values: dict[str, object] = {
        "database_url": database_url,
        **pooled,
        "better_auth_secret": SecretStr(SECRET),
        "pool_min_size": 1,
        "pool_max_size": 4,
        "pool_timeout": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@asynccontextmanager
async def http_client(app: FastAPI, root_path: str = "") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with its lifespan (pool open) for as long as it is used;
    `root_path` as a proxy that mounts the app under a prefix would set it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(app_settings(database_url))) as http:
        yield http

"""Behind a transaction-mode pooler (Debian's PgBouncer 1.18, as Neon's pooled endpoint behaves):
with server-side prepared statements off every request works; with them on, requests fail as
they did in production; a direct connection still prepares."""

import asyncio
import logging
import os
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.database.conninfo import PSYCOPG_PREPARE_THRESHOLD, PreparedStatements
from api.main import create_app
from tests.conftest import app_settings, http_client, suite_pooler
from tests.utils.pgbouncer import Pooler, available, pgbouncer
from tests.utils.server import Server
from tests.utils.tokens import auth

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's pgbouncer")

ROUNDS = 12  # psycopg prepares a statement on its sixth run on a connection
ALICE = auth("alice")


@pytest.fixture
def one_server_connection(pg_server: Server) -> Iterator[Pooler]:
    """Every client connection shares one server connection: the second client to prepare a
    statement then always meets the first one's statement of the same name."""
    with pgbouncer(pg_server, server_connections=1) as pooler:
        yield pooler


def pooled_app(pooler: Pooler, database_url: str, prepared: PreparedStatements) -> FastAPI:
    settings = app_settings(
        database_url, database_prepared_statements=prepared, pool_min_size=2, pool_max_size=2
    )
    return create_app(settings, pooler.route(database_url))


async def rounds(client: httpx.AsyncClient) -> list[int]:
    """ROUNDS times, two requests at once (so both of the pool's connections serve requests);
    the statuses."""
    assert (await client.post("/api/tasks", json={"title": "t"}, headers=ALICE)).status_code == 201
    statuses = []
    for _ in range(ROUNDS):
        pair = await asyncio.gather(*(client.get("/api/tasks", headers=ALICE) for _ in range(2)))
        statuses += [response.status_code for response in pair]
    return statuses


async def pool_thresholds(app: FastAPI) -> set[int | None]:
    """psycopg's prepare_threshold on each of the app's two pooled connections."""
    pool = app.state.pool
    async with pool.connection() as one, pool.connection() as other:
        return {one.prepare_threshold, other.prepare_threshold}


async def test_without_prepared_statements_every_request_works_through_pgbouncer(
    one_server_connection: Pooler, database_url: str
) -> None:
    app = pooled_app(one_server_connection, database_url, "off")
    async with http_client(app) as client:
        statuses = await rounds(client)
        assert await pool_thresholds(app) == {None}
    assert statuses == [200] * 2 * ROUNDS


async def test_with_prepared_statements_pgbouncer_breaks_requests(
    one_server_connection: Pooler, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The reason for the setting: the failure seen in production, reproduced."""
    app = pooled_app(one_server_connection, database_url, "on")
    with caplog.at_level(logging.ERROR, logger="api.web.errors"):
        async with http_client(app) as client:
            statuses = await rounds(client)
    assert 500 in statuses
    assert set(statuses) == {200, 500}
    assert 'prepared statement "_pg3_0" already exists' in caplog.text


async def test_a_direct_connection_keeps_preparing(database_url: str) -> None:
    """On the test server itself, whether or not the suite runs through PgBouncer."""
    settings = app_settings(database_url, pool_min_size=1, pool_max_size=1)
    app = create_app(
        settings.model_copy(update={"database_prepared_statements": "auto"}), database_url
    )
    async with http_client(app) as client:
        assert await rounds(client) == [200] * 2 * ROUNDS
        async with app.state.pool.connection() as conn:
            cur = await conn.execute("select statement from pg_prepared_statements")
            prepared = [statement for (statement,) in await cur.fetchall()]
            threshold = conn.prepare_threshold
    assert threshold == PSYCOPG_PREPARE_THRESHOLD
    assert any("app.list_tasks" in statement for statement in prepared), prepared


def test_the_suite_goes_through_pgbouncer_when_told(database_url: str) -> None:
    settings = app_settings(database_url)
    if os.environ.get("TEST_POOLER"):
        pooler = suite_pooler()
        assert pooler is not None
        assert settings.database_url == pooler.route(database_url) != database_url
        assert settings.migration_database_url == database_url
        assert settings.database_prepared_statements == "off"
    else:
        assert settings.database_url == database_url

"""When PostgreSQL goes away: 503 with Retry-After, never a hang or a 500, and recovery on its
own once it is back."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.proxy import Proxy
from tests.utils.server import Server
from tests.utils.tokens import auth

ALICE = auth("alice")


@pytest.fixture
async def proxy(pg_server: Server) -> AsyncIterator[Proxy]:
    proxy = Proxy(pg_server)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
async def proxied_client(database_url: str, proxy: Proxy) -> AsyncIterator[httpx.AsyncClient]:
    dbname = database_url.split("/")[3].split("?")[0]
    through_proxy = Server("127.0.0.1", proxy.port, proxy.target.user, proxy.target.password)
    settings = app_settings(database_url, pool_timeout=1.0)
    async with http_client(create_app(settings, through_proxy.url(dbname))) as client:
        yield client


async def eventually_ok(client: httpx.AsyncClient, url: str, seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while (await client.get(url, headers=ALICE)).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def test_an_outage_is_503_then_the_service_recovers(
    proxied_client: httpx.AsyncClient, proxy: Proxy
) -> None:
    client = proxied_client
    created = await client.post("/api/tasks", json={"title": "survives"}, headers=ALICE)
    assert created.status_code == 201

    await proxy.cut()
    async with asyncio.timeout(10):
        answers = [await client.get("/api/tasks", headers=ALICE) for _ in range(3)]
        write = await client.post("/api/tasks", json={"title": "lost?"}, headers=ALICE)
        ready = await client.get("/readyz")
    for response in [*answers, write, ready]:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        assert "detail" in response.json()
    assert (await client.get("/healthz")).status_code == 200  # alive, just not ready

    await proxy.start()
    await eventually_ok(client, "/readyz")
    await eventually_ok(client, "/api/tasks")
    titles = [t["title"] for t in (await client.get("/api/tasks", headers=ALICE)).json()]
    assert titles == ["survives"]

"""Admission control in the assembled app (api.main): with every place taken, a request waits
its turn and then gets a 503 that still carries the CORS and request-id headers, while the
health checks answer at once. The place is held by a real request, blocked on a row lock."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import psycopg
import pytest

from api.main import MAX_BODY_BYTES, create_app
from tests.conftest import app_settings, http_client
from tests.utils.tokens import auth

ALICE = auth("alice")
ORIGIN = "http://localhost:3000"  # FRONTEND_URL's default


@pytest.fixture
async def one_place(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = app_settings(database_url, max_active_requests=1, pool_timeout=0.5)
    async with http_client(create_app(settings)) as client:
        yield client


@asynccontextmanager
async def place_held(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> AsyncIterator["asyncio.Task[httpx.Response]"]:
    """The one place, held by a toggle waiting on a row lock until the block ends; yields the
    toggle's request."""
    created = await client.post("/api/tasks", json={"title": "locked"}, headers=ALICE)
    task_id = created.json()["id"]
    with conn.transaction():
        conn.execute("select 1 from app.tasks where id = %s for update", (task_id,))
        holder = asyncio.create_task(client.patch(f"/api/tasks/{task_id}/toggle", headers=ALICE))
        await asyncio.sleep(0.3)  # the toggle is inside, waiting for the row lock
        assert not holder.done()
        yield holder


async def test_a_request_past_the_limit_gets_a_503_with_the_usual_headers(
    one_place: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    async with place_held(one_place, conn) as holder:
        assert (await asyncio.wait_for(one_place.get("/healthz"), 0.3)).status_code == 200
        busy = await one_place.get(
            "/api/tasks", headers={**ALICE, "Origin": ORIGIN, "X-Request-ID": "overload-1"}
        )
        assert busy.status_code == 503
        assert busy.json() == {"detail": "Too busy, retry later"}
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["access-control-allow-origin"] == ORIGIN
        assert busy.headers["x-request-id"] == "overload-1"
        assert not holder.done()
    toggled = await asyncio.wait_for(holder, 5)
    assert toggled.status_code == 200
    assert toggled.json()["completed"] is True
    # The place is free again.
    assert (await one_place.get("/api/tasks", headers=ALICE)).status_code == 200


async def test_a_body_over_the_limit_is_refused_before_it_queues(
    one_place: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    async with place_held(one_place, conn):
        too_large = b'{"title": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
        refused = await asyncio.wait_for(
            one_place.post(
                "/api/tasks",
                content=too_large,
                headers={**ALICE, "Content-Type": "application/json"},
            ),
            0.3,  # well before the queue's 0.5 s deadline
        )
        assert refused.status_code == 413

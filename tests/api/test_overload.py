"""Admission control in the assembled app (api.main): with every place taken, a request waits
its turn and then gets a 503 that still carries the CORS and request-id headers, while the
health checks answer at once. The place is held by a real request, blocked on a row lock. A
sign-in waiting for a hashing thread lends its place meanwhile."""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import psycopg
import pytest

from api.identity import accounts
from api.main import MAX_BODY_BYTES, create_app
from tests.conftest import app_settings, http_client
from tests.utils.errors import error_json
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
        assert busy.json() == error_json("Too busy, retry later")
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["access-control-allow-origin"] == ORIGIN
        assert busy.headers["x-request-id"] == "overload-1"
        assert not holder.done()
    toggled = await asyncio.wait_for(holder, 5)
    assert toggled.status_code == 200
    assert toggled.json()["completed"] is True
    # The place is free again.
    assert (await one_place.get("/api/tasks", headers=ALICE)).status_code == 200


async def test_by_default_a_process_admits_as_many_requests_as_it_has_connections(
    database_url: str, conn: psycopg.Connection
) -> None:
    # One connection and no MAX_ACTIVE_REQUESTS: the second request waits in admission's queue
    # and gets its 503 (Retry-After: 1), not the pool's (Retry-After: 5) after being let in.
    settings = app_settings(database_url, pool_min_size=1, pool_max_size=1, pool_timeout=0.5)
    assert settings.max_active_requests is None
    async with http_client(create_app(settings)) as client:
        async with place_held(client, conn) as holder:
            busy = await client.get("/api/tasks", headers=ALICE)
            assert busy.status_code == 503
            assert busy.json() == error_json("Too busy, retry later")
            assert busy.headers["retry-after"] == "1"
        assert (await asyncio.wait_for(holder, 5)).status_code == 200


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


@contextmanager
def hashing_threads_busy() -> Iterator[None]:
    """Every password-hashing thread blocked until the block ends: hashes queue meanwhile."""
    release = threading.Event()
    blockers = [accounts._hashing.submit(release.wait) for _ in range(accounts.HASHING_THREADS)]
    try:
        yield
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=5)


async def test_a_sign_in_waiting_for_a_hash_lends_its_place(one_place: httpx.AsyncClient) -> None:
    account = {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}
    assert (await one_place.post("/api/auth/signup", json=account)).status_code == 201
    credentials = {"email": account["email"], "password": account["password"]}
    with hashing_threads_busy():
        sign_in = asyncio.create_task(one_place.post("/api/auth/signin", json=credentials))
        await asyncio.sleep(0.2)  # inside, and waiting for a hashing thread
        assert not sign_in.done()
        listed = await asyncio.wait_for(one_place.get("/api/tasks", headers=ALICE), 0.4)
        assert listed.status_code == 200  # before the queue's 0.5 s deadline
    signed_in = await asyncio.wait_for(sign_in, 5)
    assert signed_in.status_code == 200
    assert (await one_place.get("/api/tasks", headers=ALICE)).status_code == 200


async def test_a_sign_in_past_the_hashing_queue_gets_a_503(
    one_place: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}
    assert (await one_place.post("/api/auth/signup", json=account)).status_code == 201
    monkeypatch.setattr(accounts.queue, "limit", 1)
    wrong = {"email": account["email"], "password": "wrong horse battery"}
    with hashing_threads_busy():
        first = asyncio.create_task(one_place.post("/api/auth/signin", json=wrong))
        await asyncio.sleep(0.2)  # waiting for a hashing thread: the queue is full
        refused = await asyncio.wait_for(one_place.post("/api/auth/signin", json=wrong), 0.4)
        assert refused.status_code == 503
        assert refused.json() == error_json("Too busy, retry later")
        assert refused.headers["retry-after"] == "1"
    assert (await asyncio.wait_for(first, 5)).status_code == 401
    assert accounts.queue.size == 0

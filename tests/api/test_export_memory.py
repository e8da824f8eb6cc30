"""The export streams: for a user with 100,000 tasks, the memory the process takes on while the
whole document goes out is a small fraction of the document's size. Two measures: the Python
heap's peak (tracemalloc), and the process's peak resident size (Linux's VmHWM, reset first),
which also counts what libpq holds in C. The app is called as ASGI directly, with a `send` that
counts and drops each chunk, so that the only memory measured is the service's own (an HTTP
client would hold the body it reads)."""

import asyncio
import contextlib
import tracemalloc
from pathlib import Path
from typing import Any

import psycopg

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.tokens import make_token

TASKS = 100_000


def export_scope(token: str) -> dict[str, Any]:
    """The ASGI scope of `GET /api/account/export` with this bearer token."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/account/export", "raw_path": b"/api/account/export",
        "root_path": "", "query_string": b"", "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000), "headers": [(b"authorization", f"Bearer {token}".encode())],
    }  # fmt: skip


async def test_exporting_100k_tasks_never_holds_them_in_memory(
    database_url: str, conn: psycopg.Connection
) -> None:
    conn.execute("insert into app.users (id) values ('alice')")
    conn.execute(
        "insert into app.tasks (user_id, title, description)"
        " select 'alice', 'task number ' || i, repeat('a description ', 10)"
        "   from generate_series(1, %s) as i",
        (TASKS,),
    )
    app = create_app(app_settings(database_url))
    scope = export_scope(make_token("alice"))
    sent = {"status": 0, "bytes": 0, "tasks": 0, "chunks": 0}
    requested = False
    client_gone = asyncio.Event()  # never set: the client reads to the end

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await client_gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            sent["bytes"] += len(chunk)
            sent["tasks"] += chunk.count(b',"title":"task number ')
            sent["chunks"] += 1

    async with app.router.lifespan_context(app):
        resident_before = reset_peak_resident()
        await app(scope, receive, send)  # type: ignore[arg-type]
        resident_growth = peak_resident() - resident_before
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            await app(scope, receive, send)  # type: ignore[arg-type]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert sent["status"] == 200
    document = sent["bytes"] // 2  # the export ran twice
    assert sent["tasks"] == 2 * TASKS
    assert sent["chunks"] > TASKS // 1000  # a chunk per fetch, not one body
    growth = peak - before
    print(
        f"export of {TASKS} tasks: {document} bytes; peak heap growth {growth} bytes,"
        f" peak resident growth {resident_growth} bytes"
    )
    assert document > 20_000_000
    assert growth < document / 10
    assert resident_growth < document / 4


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def reset_peak_resident() -> int:
    """Resets VmHWM to the current resident size (Linux 4.0+), and returns that size."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_kib("VmRSS")


def peak_resident() -> int:
    return status_kib("VmHWM")


async def test_a_client_that_goes_away_mid_export_gives_its_connection_back(
    database_url: str, conn: psycopg.Connection
) -> None:
    """One pool connection only: if the aborted export kept it, the next request would wait for
    it and get a 503."""
    conn.execute("insert into app.users (id) values ('alice')")
    conn.execute(
        "insert into app.tasks (user_id, title) select 'alice', 'task ' || i"
        " from generate_series(1, 5000) as i"
    )
    settings = app_settings(database_url, pool_min_size=1, pool_max_size=1, pool_timeout=1.0)
    app = create_app(settings)
    token = make_token("alice")
    scope = export_scope(token)
    chunks = 0

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal chunks
        if message["type"] == "http.response.body":
            chunks += 1
            if chunks == 2:
                raise OSError("the client hung up")

    async with http_client(app) as client:
        with contextlib.suppress(OSError):
            await app(scope, receive, send)  # type: ignore[arg-type]
        assert chunks == 2
        for _ in range(3):
            listed = await client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200
    cur = conn.execute("select count(*) from app.audit_events where event = 'account_exported'")
    assert cur.fetchone() == (0,)  # the export's transaction rolled back

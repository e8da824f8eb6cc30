"""The export streams: for a user with 100,000 tasks, the Python heap's peak while the whole
document goes out is a small fraction of the document's size. The app is called as ASGI
directly, with a `send` that counts and drops each chunk, so that the only memory measured is
the service's own (an HTTP client would hold the body it reads)."""

import asyncio
import tracemalloc
from typing import Any

import psycopg

from api.main import create_app
from tests.conftest import app_settings
from tests.utils.tokens import make_token

TASKS = 100_000


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
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/account/export", "raw_path": b"/api/account/export",
        "root_path": "", "query_string": b"", "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"authorization", f"Bearer {make_token('alice')}".encode())],
    }  # fmt: skip
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
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            await app(scope, receive, send)  # type: ignore[arg-type]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert sent["status"] == 200
    assert sent["tasks"] == TASKS
    assert sent["chunks"] > TASKS // 1000  # a chunk per fetch, not one body
    growth = peak - before
    print(f"export of {TASKS} tasks: {sent['bytes']} bytes, peak heap growth {growth} bytes")
    assert sent["bytes"] > 20_000_000
    assert growth < sent["bytes"] / 10

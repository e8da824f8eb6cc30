"""CPU time the application itself spends on one request, without a server, a network or a
database: the ASGI app is called directly with a prepared request, and a stand-in pool answers
every statement at once with a row of the right shape. What is left is our middleware,
FastAPI's routing, dependency solving, validation and the response: the part of a request that
changes when the request path changes (how-to/benchmark.md).

    uv run python bench/inprocess.py                 # every scenario, 5 rounds of 20,000
    uv run python bench/inprocess.py get list --rounds 7

It reports, per scenario, the median over rounds of microseconds per request. The numbers are
for comparing two builds on one machine, not absolute: run both, alternately, with the same
arguments.
"""

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from pydantic import SecretStr

from api.main import create_app
from api.settings import Settings

SECRET = "bench-secret-bench-secret-bench-secret!"
TASK = {
    "id": 1,
    "title": "a task",
    "description": None,
    "completed": False,
    "user_id": "bench-user",
    "version": 1,
    "created_at": "2026-12-01T00:00:00+00:00",
    "updated_at": "2026-12-01T00:00:00+00:00",
}
TASK_JSON = json.dumps(TASK)
LIST_JSON = json.dumps([TASK] * 100)


class Cursor:
    def __init__(self, row: tuple[Any, ...]) -> None:
        self.row = row

    async def fetchone(self) -> tuple[Any, ...]:
        return self.row


class Connection:
    async def execute(self, query: str, params: dict[str, Any] | None = None) -> Cursor:
        return Cursor(row_for(query, params))


def row_for(query: str, params: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """A row of the shape the statement's request function returns."""
    if "list_tasks" in query:  # (the change marker, the list; None when the marker was known)
        return (7, None if params and params.get("known") == [7] else LIST_JSON)
    if "create_task" in query:
        return (1, 1, TASK_JSON)
    if "get_task" in query:
        return (1, TASK_JSON)
    if "delete_task" in query:
        return ("done", 1, None)
    return ("done", 2, TASK_JSON)


class Pool:
    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        yield Connection()


def token() -> str:
    import jwt

    claims = {"sub": "bench-user", "exp": int(time.time()) + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def scenarios(bearer: str) -> dict[str, tuple[str, str, list[tuple[bytes, bytes]], bytes]]:
    auth = (b"authorization", f"Bearer {bearer}".encode())
    json_body = (b"content-type", b"application/json")
    body = b'{"title": "a task"}'
    length = (b"content-length", str(len(body)).encode())
    return {
        "get": ("GET", "/api/tasks/1", [auth], b""),
        "list": ("GET", "/api/tasks", [auth], b""),
        "list_unchanged": ("GET", "/api/tasks", [auth, (b"if-none-match", b'"list-7"')], b""),
        "create": ("POST", "/api/tasks", [auth, json_body, length], body),
        "patch": ("PATCH", "/api/tasks/1", [auth, json_body, length], b'{"completed": true}'),
        "toggle": ("PATCH", "/api/tasks/1/toggle", [auth], b""),
        "per_user_get": ("GET", "/api/bench-user/tasks/1", [auth], b""),
        "healthz": ("GET", "/healthz", [], b""),
    }


def make_call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[Callable[[], Awaitable[None]], list[int]]:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def call() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        await app(scope, receive, send)

    return call, statuses


async def measure(call: Callable[[], Any], requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        await call()
    return (time.process_time() - started) / requests * 1e6


async def main() -> None:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    top.add_argument("scenario", nargs="*", help="default: all")
    top.add_argument("--rounds", type=int, default=5)
    top.add_argument("--requests", type=int, default=20_000)
    args = top.parse_args()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="postgresql://bench@127.0.0.1/bench",
        better_auth_secret=SecretStr(SECRET),
    )
    app = create_app(settings)
    app.state.pool = Pool()
    app.state.jwks = None
    table = scenarios(token())
    wanted = args.scenario or list(table)
    gc.collect()
    gc.freeze()
    for name in wanted:
        call, statuses = make_call(app, *table[name])
        await measure(call, 2_000)  # warm-up: caches, first-call paths
        if not statuses or statuses[-1] >= 400:
            raise SystemExit(f"{name}: answered {statuses[-1] if statuses else 'nothing'}")
        rounds = [await measure(call, args.requests) for _ in range(args.rounds)]
        print(
            f"{name:>13}: {statistics.median(rounds):6.1f} µs/request "
            f"(rounds {min(rounds):.1f} to {max(rounds):.1f})",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())

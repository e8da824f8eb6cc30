"""The task routes' shortcut (api/shortcut.py) answers exactly as FastAPI's routes do.

The same script of requests, good and bad, runs against the app and against the same app without
the shortcut, each on a database of its own cloned from the same template; every answer must be
the same. A second test shows that the shortcut does take the good requests, and leaves the bad
ones to FastAPI."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from api.deps import request_database
from api.main import create_app
from api.shortcut import TaskShortcut
from tests.conftest import app_settings, fresh_database, http_client
from tests.utils.server import Server
from tests.utils.tokens import auth, make_token

ALICE = auth("alice")
BOB = auth("bob")
JSON = {"Content-Type": "application/json"}
COMPARED_HEADERS = ("content-type", "etag", "location", "allow", "www-authenticate", "retry-after")

# (method, path, headers, body): run in this order, so that later requests see earlier writes.
SCRIPT: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", "/api/tasks", ALICE, None),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": " first ", "description": "d"}'),
    ("POST", "/tasks", {**ALICE, **JSON}, b'{"title": "second", "completed": true}'),
    ("POST", "/api/alice/tasks", {**ALICE, **JSON}, b'{"title": "third"}'),
    ("POST", "/api/tasks", {**BOB, **JSON}, b'{"title": "bob\'s"}'),
    ("GET", "/api/tasks", ALICE, None),
    ("GET", "/tasks", ALICE, None),
    ("GET", "/api/alice/tasks", ALICE, None),
    ("GET", "/api/bob/tasks", ALICE, None),
    ("GET", "/api/tasks/1", ALICE, None),
    ("GET", "/api/tasks/4", ALICE, None),
    ("GET", "/api/tasks/007", ALICE, None),
    ("GET", "/api/tasks/0", ALICE, None),
    ("GET", "/api/tasks/-1", ALICE, None),
    ("GET", "/api/tasks/9223372036854775807", ALICE, None),
    ("GET", "/api/tasks/9223372036854775808", ALICE, None),
    ("GET", "/api/tasks/99999999999999999999", ALICE, None),
    ("GET", "/api/tasks/1x", ALICE, None),
    ("GET", "/api/tasks/\u0661", ALICE, None),
    ("GET", "/api/tasks/", ALICE, None),
    ("GET", "/api/tasks/tasks", ALICE, None),
    ("GET", "/api/tasks/tasks/1", ALICE, None),
    ("GET", "/api/tasks2/tasks", ALICE, None),
    ("GET", "/api/tasks/1/complete", ALICE, None),
    ("PATCH", "/api/tasks/1/complete", ALICE, None),
    ("PATCH", "/api/tasks/tasks/1/complete", ALICE, None),
    ("HEAD", "/api/tasks", ALICE, None),
    ("OPTIONS", "/api/tasks", ALICE, None),
    ("POST", "/api/tasks/1", {**ALICE, **JSON}, b'{"title": "x"}'),
    ("GET", "/api/tasks", {}, None),
    ("GET", "/api/tasks", {"Authorization": "Basic YWxpY2U6eA=="}, None),
    ("GET", "/api/tasks", {"Authorization": "bearer " + make_token("alice")}, None),
    ("GET", "/api/tasks", {"Authorization": "Bearer "}, None),
    ("GET", "/api/tasks", {"Authorization": "Bearer not-a-jwt"}, None),
    ("GET", "/api/tasks", {"Authorization": "Bearer a.b.c"}, None),
    ("GET", "/api/tasks", auth("alice", expires_in=-60), None),
    ("GET", "/api/tasks", auth("alice", secret="another-secret-" * 4), None),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "text/plain"}, b'{"title": "x"}'),
    ("POST", "/api/tasks", ALICE, b'{"title": "x"}'),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "application/x+json"}, b'{"title": "y"}'),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "text/plain+json"}, b'{"title": "y"}'),
    ("POST", "/api/tasks", {**ALICE, "Content-Type": "+json"}, b'{"title": "y"}'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x"'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b""),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b"\xff\xfe"),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b"[]"),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": ""}'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x", "completed": "true"}'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "x", "owner": "bob"}'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "a\\u0000b"}'),
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "' + b"t" * 201 + b'"}'),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": '"1"'}, b'{"title": "put"}'),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": '"1"'}, b'{"title": "again"}'),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON}, b'{"title": "v", "version": 1}'),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": "nonsense"}, b'{"title": "x"}'),
    ("PUT", "/api/tasks/1", {**ALICE, **JSON, "If-Match": 'W/"2"'}, b'{"title": "x"}'),
    ("PUT", "/api/tasks/4", {**ALICE, **JSON}, b'{"title": "not mine"}'),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b'{"description": null}'),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b'{"title": null}'),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON, "If-Match": "*"}, b'{"completed": false}'),
    ("PATCH", "/api/tasks/2", {**ALICE, **JSON}, b"{}"),
    ("PATCH", "/api/tasks/2/toggle", ALICE, None),
    ("PATCH", "/api/tasks/2/toggle", {**ALICE, "If-Match": '"1"'}, None),
    ("PATCH", "/tasks/2/toggle", {**ALICE, "If-Match": '"99999999999"'}, None),
    ("PATCH", "/api/alice/tasks/3/complete", ALICE, None),
    ("PATCH", "/api/bob/tasks/3/complete", ALICE, None),
    ("PATCH", "/api/alice/tasks/3/toggle", ALICE, None),
    ("GET", "/api/tasks/2", ALICE, None),
    ("DELETE", "/api/tasks/3", {**ALICE, "If-Match": '"1"'}, None),
    ("DELETE", "/api/tasks/3", ALICE, None),
    ("DELETE", "/api/tasks/3", ALICE, None),
    ("DELETE", "/api/tasks/4", ALICE, None),
    ("GET", "/api/tasks", [("Authorization", ALICE["Authorization"])] * 2, None),  # type: ignore[list-item]
    ("GET", "/api/tasks", ALICE, None),
    ("GET", "/api/tasks", BOB, None),
]


def without_shortcut(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls != TaskShortcut]  # type: ignore[comparison-overlap]
    return app


# Under a root path (a proxy mounting the app at /api), routing strips it first.
UNDER_ROOT_PATH = [
    ("POST", "/api/tasks", {**ALICE, **JSON}, b'{"title": "mounted"}'),
    ("GET", "/api/tasks", ALICE, None),
    ("GET", "/api/api/tasks", ALICE, None),
    ("GET", "/api/alice/tasks", ALICE, None),
    ("GET", "/api/tasks/1", ALICE, None),
]


async def answers(app: FastAPI, script: list[Any] = SCRIPT, root_path: str = "") -> list[Any]:
    results = []
    async with http_client(app, root_path) as client:
        for method, path, headers, body in script:
            response = await client.request(method, path, headers=headers, content=body)
            kept = tuple(response.headers.get(name) for name in COMPARED_HEADERS)
            results.append((method, path, response.status_code, kept, comparable(response)))
    return results


def comparable(response: httpx.Response) -> Any:
    """The body without the timestamps, which differ between the two runs."""
    if not response.content or response.headers.get("content-type") != "application/json":
        return response.content
    body = response.json()
    for task in body if isinstance(body, list) else [body]:
        if isinstance(task, dict):
            task.pop("created_at", None)
            task.pop("updated_at", None)
    return body


async def both_answers(
    server: Server, template: str, script: list[Any], root_path: str = ""
) -> list[Any]:
    """The script's answers with the shortcut; asserts that they match those without it."""
    with (
        fresh_database(server, template) as with_url,
        fresh_database(server, template) as without_url,
    ):
        fast = await answers(create_app(app_settings(with_url)), script, root_path)
        app = without_shortcut(create_app(app_settings(without_url)))
        slow = await answers(app, script, root_path)
    assert len(fast) == len(script)
    for fast_answer, slow_answer in zip(fast, slow, strict=True):
        assert fast_answer == slow_answer
    return fast


async def test_the_shortcut_answers_as_fastapi_does(pg_server: Server, template_db: str) -> None:
    fast = await both_answers(pg_server, template_db, SCRIPT)
    statuses = {answer[2] for answer in fast}
    assert {200, 201, 204, 400, 401, 403, 404, 405, 409, 412, 415, 422} <= statuses


async def test_under_a_root_path_too(pg_server: Server, template_db: str) -> None:
    fast = await both_answers(pg_server, template_db, UNDER_ROOT_PATH, root_path="/api")
    assert [answer[2] for answer in fast] == [201, 200, 200, 404, 200]


@pytest.fixture
async def fastapi_marked(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app, with FastAPI's own path for task requests answering 418."""
    app = create_app(app_settings(database_url))

    def fastapi_path() -> None:
        raise HTTPException(418, "FastAPI's path")

    app.dependency_overrides[request_database] = fastapi_path
    async with http_client(app) as client:
        yield client


async def test_good_requests_take_the_shortcut_and_bad_ones_do_not(
    fastapi_marked: httpx.AsyncClient,
) -> None:
    created = await fastapi_marked.post("/api/tasks", json={"title": "fast"}, headers=ALICE)
    assert created.status_code == 201
    path = created.headers["location"]
    assert (await fastapi_marked.get(path, headers=ALICE)).status_code == 200
    assert (await fastapi_marked.patch(f"{path}/toggle", headers=ALICE)).status_code == 200
    assert (await fastapi_marked.get("/api/alice/tasks", headers=ALICE)).status_code == 200

    for bad in (b'{"title": ""}', b'{"title": "x", "extra": 1}', b"[]"):
        response = await fastapi_marked.post("/api/tasks", content=bad, headers={**ALICE, **JSON})
        assert response.status_code == 418
    assert (await fastapi_marked.get("/api/tasks", headers={})).status_code == 418
    assert (await fastapi_marked.get("/api/tasks/0", headers=ALICE)).status_code == 418

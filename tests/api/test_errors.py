"""Every bad input gets a clear JSON error with the right status, and changes nothing."""

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from tests.utils.errors import error_json
from tests.utils.tokens import auth

ALICE = auth("alice")


async def tasks_of(client: httpx.AsyncClient) -> list[dict]:
    return (await client.get("/api/tasks", headers=ALICE)).json()


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks",
        content=b'{"title": "x",',
        headers={**ALICE, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == error_json("Malformed JSON body")
    assert await tasks_of(client) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    headers = {**ALICE, "Content-Type": content_type} if content_type else ALICE
    response = await client.post("/api/tasks", content=b'{"title": "x"}', headers=headers)
    assert response.status_code == 415
    assert response.json() == error_json("Request body must be application/json")
    assert await tasks_of(client) == []


async def test_json_with_a_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks",
        content=b'{"title": "x"}',
        headers={**ALICE, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   \t\n "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": 5}, "title"),
        ({"title": None}, "title"),
        ({"title": "ok", "description": "d" * 2001}, "description"),
        ({"title": "ok", "description": "\x00"}, "description"),
        ({"title": "ok", "completed": "maybe"}, "completed"),
        ({"title": "ok", "priority": 9}, "priority"),
        ({"title": "ok", "tags": "a,b"}, "tags"),
        ({"title": "ok", "due_date": "soon"}, "due_date"),
    ],
)
async def test_invalid_bodies_are_422_and_name_the_field(
    client: httpx.AsyncClient, body: dict, field: str
) -> None:
    response = await client.post("/api/tasks", json=body, headers=ALICE)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(field in error["loc"] for error in errors), errors
    assert await tasks_of(client) == []


async def test_a_json_array_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tasks", json=[{"title": "x"}], headers=ALICE)
    assert response.status_code == 422


async def test_the_limits_are_inclusive(client: httpx.AsyncClient) -> None:
    body = {"title": "t" * 200, "description": "d" * 2000}
    response = await client.post("/api/tasks", json=body, headers=ALICE)
    assert response.status_code == 201
    assert response.json()["title"] == "t" * 200
    emoji = await client.post("/api/tasks", json={"title": "🙂" * 200}, headers=ALICE)
    assert emoji.status_code == 201
    assert emoji.json()["title"] == "🙂" * 200


async def test_422_does_not_echo_what_was_sent(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tasks", json={"title": "s3cr3t" * 50}, headers=ALICE)
    assert response.status_code == 422
    assert "s3cr3t" not in response.text


async def test_a_failed_update_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/tasks", json={"title": "keep"}, headers=ALICE)
    task = created.json()
    url = f"/api/tasks/{task['id']}"
    for body in ({"title": ""}, {"title": "x" * 201}, {"title": "ok", "description": "d" * 2001}):
        assert (await client.put(url, json=body, headers=ALICE)).status_code == 422
        assert (await client.patch(url, json=body, headers=ALICE)).status_code == 422
    assert (await client.get(url, headers=ALICE)).json() == task


async def test_a_body_too_large_is_413(client: httpx.AsyncClient) -> None:
    body = b'{"title": "x", "description": "' + b"d" * 70_000 + b'"}'
    response = await client.post(
        "/api/tasks", content=body, headers={**ALICE, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "detail" in response.json()
    assert await tasks_of(client) == []


async def test_an_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here", headers=ALICE)
    assert response.status_code == 404
    assert response.json() == error_json("Not Found")


async def test_a_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/tasks/1", json={"title": "x"}, headers=ALICE)
    assert response.status_code == 405
    assert response.json() == error_json("Method Not Allowed")
    assert "allow" in response.headers


async def test_an_unexpected_database_error_is_a_bare_500(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    # app.list_tasks calls app.begin_request, which is gone: an error no status names (42883).
    conn.execute("drop function app.begin_request(app.request_context) cascade")
    response = await client.get("/api/tasks", headers=ALICE)
    assert response.status_code == 500
    assert response.json() == error_json("Internal server error")
    for leak in ("begin_request", "select", "Traceback", "psycopg", "app."):
        assert leak not in response.text


async def test_a_refusal_by_the_database_is_403_with_its_message(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    conn.execute("revoke insert on app.tasks from app_user")
    response = await client.post("/api/tasks", json={"title": "x"}, headers=ALICE)
    assert response.status_code == 403
    assert response.json() == error_json("permission denied for table tasks")


async def test_a_streamed_body_too_large_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "x", "description": "'
        for _ in range(10):
            yield b"d" * 8000
        yield b'"}'

    response = await client.post(
        "/api/tasks", content=chunks(), headers={**ALICE, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == error_json("Request body is larger than 65536 bytes")
    assert await tasks_of(client) == []


async def test_413_carries_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks",
        content=b"x" * 70_000,
        headers={**ALICE, "Content-Type": "application/json", "Origin": "http://localhost:3000"},
    )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "ok", "completed": "true"},
        {"title": "ok", "completed": 1},
        {"title": "ok", "description": 5},
    ],
)
async def test_values_are_not_coerced(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.post("/api/tasks", json=body, headers=ALICE)
    assert response.status_code == 422


async def test_control_whitespace_is_trimmed_like_the_database_does(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/tasks", json={"title": "\x1fabc\x1c"}, headers=ALICE)
    assert response.status_code == 201
    assert response.json()["title"] == "abc"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32

"""Crafted input gets a clean 4xx with a `detail`, stores nothing, and leaves no traceback in the
log: deep nesting, lone surrogates, NUL, invalid UTF-8, injection strings, huge and negative
ids, duplicate keys, oversized tokens, on the routes that take input."""

import json
from typing import Any

import httpx
import psycopg
import pytest

from tests.utils.errors import error_json
from tests.utils.tokens import auth

ALICE = auth("alice")
JSON = {"Content-Type": "application/json"}
NESTED = b'{"title":' + b"[" * 30_000 + b"]" * 30_000 + b"}"  # under the 64 KiB limit
SURROGATE_TITLE = b'{"title": "a\\ud800b"}'
CESU8_TITLE = b'{"title": "a\xed\xa0\x80b"}'  # a surrogate encoded as if it were a character


def rows(database_url: str, query: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])


async def answer(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> int:
    response = await client.request(method, path, **kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert detail, response.text
        assert "Traceback" not in response.text
        assert "psycopg" not in response.text
    return response.status_code


@pytest.fixture
async def task_id(client: httpx.AsyncClient) -> int:
    created = await client.post("/api/tasks", json={"title": "kept"}, headers=ALICE)
    return int(created.json()["id"])


BODIES = {
    "deep nesting": NESTED,
    "lone surrogate": SURROGATE_TITLE,
    "CESU-8 surrogate": CESU8_TITLE,
    "surrogate in description": b'{"title": "t", "description": "\\udfff"}',
    "NUL": b'{"title": "a\\u0000b"}',
    "invalid UTF-8": b'{"title": "\xff\xfe"}',
    "not JSON": b"title=x",
    "a JSON string": b'"title"',
    "a number as title": b'{"title": 5}',
    "duplicate keys with a bad last value": b'{"title": "ok", "title": ""}',
}


@pytest.mark.parametrize("name", list(BODIES))
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/tasks"), ("PUT", "/api/tasks/{id}"), ("PATCH", "/api/tasks/{id}")],
)
async def test_bad_task_bodies_are_4xx_and_write_nothing(
    client: httpx.AsyncClient, database_url: str, task_id: int, method: str, path: str, name: str
) -> None:
    code = await answer(
        client, method, path.format(id=task_id), content=BODIES[name], headers={**ALICE, **JSON}
    )
    assert code in (400, 422), name
    assert rows(database_url, "select count(*) from app.tasks") == 1
    assert rows(database_url, "select version from app.tasks") == 1


async def test_invalid_utf8_is_malformed_json(client: httpx.AsyncClient) -> None:
    body = BODIES["invalid UTF-8"]
    response = await client.post("/api/tasks", content=body, headers={**ALICE, **JSON})
    assert (response.status_code, response.json()) == (400, error_json("Malformed JSON body"))


@pytest.mark.parametrize("credential", ["junk", "a.b.c", "x" * 100_000])
async def test_deep_nesting_with_any_credential_is_a_4xx(
    client: httpx.AsyncClient, credential: str
) -> None:
    headers = {"Authorization": f"Bearer {credential}", **JSON}
    assert await answer(client, "POST", "/api/tasks", content=NESTED, headers=headers) in (400, 401)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "zz1@example.com", "password": "password123", "name": "a\ud800"},
        {"email": "zz2@example.com", "password": "pass\udfffword123", "name": "n"},
        {"email": "zz3@example.com", "password": "password123", "name": "a\u0000"},
    ],
)
async def test_sign_up_refuses_unstorable_text_before_hashing(
    client: httpx.AsyncClient, database_url: str, body: dict[str, str]
) -> None:
    content = json.dumps(body).encode()  # json.dumps writes a lone surrogate as \\udxxx
    assert await answer(client, "POST", "/api/auth/signup", content=content, headers=JSON) == 422
    assert rows(database_url, "select count(*) from app.users") == 0


@pytest.mark.parametrize(
    "title",
    [
        "'; drop table app.tasks; --",
        '" or 1=1 --',
        "$$; select pg_sleep(10); $$",
        "%(user_id)s",
        "{user_id}",
        "\\x00",
    ],
)
async def test_injection_strings_are_stored_as_text(client: httpx.AsyncClient, title: str) -> None:
    created = await client.post("/api/tasks", json={"title": title}, headers=ALICE)
    assert created.status_code == 201
    got = await client.get(f"/api/tasks/{created.json()['id']}", headers=ALICE)
    assert got.json()["title"] == title


@pytest.mark.parametrize(
    "task",
    ["-1", "0", "9223372036854775808", "1" * 400, "1;select", "1%00", "%2e%2e", "+5", "5.0"],
)
async def test_bad_task_ids_are_422_or_404(client: httpx.AsyncClient, task: str) -> None:
    assert await answer(client, "GET", f"/api/tasks/{task}", headers=ALICE) in (404, 422)


async def test_a_100_kb_token_is_a_401(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer " + "A" * 100_000}
    assert await answer(client, "GET", "/api/tasks", headers=headers) == 401


async def test_a_bad_refresh_token_is_a_401_whatever_it_holds(
    client: httpx.AsyncClient,
) -> None:
    for token in ["x", "x" * 5000]:
        content = json.dumps({"refresh_token": token}).encode()
        code = await answer(client, "POST", "/api/auth/refresh", content=content, headers=JSON)
        assert code == 401, token[:20]
    # Not text at all (a lone surrogate): a malformed body, refused before any lookup.
    content = json.dumps({"refresh_token": "a\ud800b"}).encode()
    assert await answer(client, "POST", "/api/auth/refresh", content=content, headers=JSON) == 422


async def test_sign_in_refuses_an_unstorable_password(client: httpx.AsyncClient) -> None:
    content = json.dumps({"email": "zz@example.com", "password": "pass\udfffword"}).encode()
    assert await answer(client, "POST", "/api/auth/signin", content=content, headers=JSON) == 422


async def test_a_body_over_the_limit_is_refused_with_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    headers = {**ALICE, **JSON, "X-Request-ID": "too-big-1"}
    response = await client.post("/api/tasks", content=b"x" * 70_000, headers=headers)
    assert response.status_code == 413
    assert response.headers["x-request-id"] == "too-big-1"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/tasks", b'{"title": "a", "title": "b"}'),
        ("/api/tasks", b'{"title": "a", "completed": false, "completed": true}'),
        ("/api/auth/signup", b'{"email": "d@example.com", "email": "e@example.com",'
         b' "password": "password123", "name": "n"}'),
        ("/api/auth/signin", b'{"email": "d@example.com", "password": "x", "password": "y"}'),
        ("/api/auth/refresh", b'{"refresh_token": "a", "refresh_token": "b"}'),
        ("/api/auth/signout", b'{"refresh_token": "a", "refresh_token": "b"}'),
    ],
)  # fmt: skip
async def test_a_key_given_twice_is_malformed_json(
    client: httpx.AsyncClient, database_url: str, path: str, body: bytes
) -> None:
    """Which of two values wins differs between parsers: the service takes neither."""
    response = await client.post(path, content=body, headers={**ALICE, **JSON})
    assert (response.status_code, response.json()) == (400, error_json("Malformed JSON body"))
    assert rows(database_url, "select count(*) from app.tasks") == 0
    assert rows(database_url, "select count(*) from app.users") == 0


async def test_a_key_given_twice_in_a_write_changes_nothing(
    client: httpx.AsyncClient, database_url: str, task_id: int
) -> None:
    body = b'{"title": "x", "description": "a", "description": "b"}'
    for method in ("PUT", "PATCH"):
        response = await client.request(
            method, f"/api/tasks/{task_id}", content=body, headers={**ALICE, **JSON}
        )
        assert (response.status_code, response.json()) == (400, error_json("Malformed JSON body"))
    assert rows(database_url, "select version from app.tasks") == 1

"""Bearer tokens: what is accepted, and that everything else is a 401 that says why."""

import base64
import json
import time

import httpx
import jwt
import psycopg
import pytest

from tests.utils.errors import error_json
from tests.utils.tokens import SECRET, auth, make_token


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(payload: dict) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def assert_401(response: httpx.Response, detail: str = "Invalid token") -> None:
    assert response.status_code == 401, response.text
    assert response.json() == error_json(detail)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_no_authorization_header_is_401(client: httpx.AsyncClient) -> None:
    assert_401(await client.get("/api/tasks"))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Basic YWxpY2U6c2VjcmV0",
        f"Token {make_token()}",
        f"Bearer {make_token(secret='another-secret-that-is-also-long-enough!!')}",
        f"Bearer {make_token()[:-3]}",
        f"Bearer {unsigned({'sub': 'alice', 'exp': int(time.time()) + 600})}",
        f"Bearer {make_token(algorithm='HS512')}",
        f"Bearer {jwt.encode({'sub': 'alice'}, SECRET, algorithm='HS256')}",
        f"Bearer {make_token(None)}",
        f"Bearer {make_token('')}",
        f"Bearer {make_token('x' * 256)}",
        f"Bearer {make_token(None, sub_=1)}",
    ],
    ids=[
        "empty", "blank", "garbage", "three-parts", "basic", "other-scheme", "wrong-secret",
        "tampered-signature", "alg-none", "hs512", "no-exp", "no-user-id", "empty-sub",
        "sub-too-long", "unknown-claim-only",
    ],
)  # fmt: skip
async def test_bad_tokens_are_401(client: httpx.AsyncClient, header: str) -> None:
    assert_401(await client.get("/api/tasks", headers={"Authorization": header}))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "", "id": "bob"},
        {"sub": "\ud800"},
        {"sub": "alice", "exp": "9999999999"},
        {"sub": "alice", "exp": 1e20},
    ],
    ids=["unusable-sub-no-fallback", "lone-surrogate", "string-exp", "huge-exp"],
)
async def test_odd_claims_are_401_not_500(client: httpx.AsyncClient, claims: dict) -> None:
    payload = {"exp": int(time.time()) + 600, **claims}
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    response = await client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert_401(response)


async def test_a_tampered_payload_is_401(client: httpx.AsyncClient) -> None:
    header, _, signature = make_token("alice").split(".")
    forged = f"{header}.{b64({'sub': 'bob', 'exp': int(time.time()) + 600})}.{signature}"
    assert_401(await client.get("/api/tasks", headers={"Authorization": f"Bearer {forged}"}))


async def test_an_expired_token_says_so(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks", headers=auth(expires_in=-5))
    assert_401(response, "Token has expired")


@pytest.mark.parametrize("claim", ["userId", "user_id", "id"])
async def test_the_user_id_may_come_from_other_claims(
    client: httpx.AsyncClient, claim: str
) -> None:
    token = make_token(None, **{claim: "carol"})  # type: ignore[arg-type]
    created = await client.post(
        "/api/tasks", json={"title": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201
    assert created.json()["user_id"] == "carol"


async def test_sub_wins_over_other_claims(client: httpx.AsyncClient) -> None:
    token = make_token("dave", userId="mallory")
    created = await client.post(
        "/api/tasks", json={"title": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.json()["user_id"] == "dave"


async def test_an_unseen_user_is_created_on_first_use(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    user_id = "Xq7pL2mN9vR4sT6wY8zA1bC3dE5fG7hJ"  # Better Auth's 32-character shape
    assert conn.execute("select from app.users where id = %s", (user_id,)).fetchone() is None
    response = await client.get("/api/tasks", headers=auth(user_id))
    assert response.status_code == 200
    assert response.json() == []
    assert conn.execute("select from app.users where id = %s", (user_id,)).fetchone() == ()
    await client.get("/api/tasks", headers=auth(user_id))
    assert conn.execute("select count(*) from app.users").fetchone() == (1,)


async def test_email_and_name_follow_the_newest_token(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    first = auth("erin", email="erin@old.example", name="Erin")
    assert (await client.get("/api/tasks", headers=first)).status_code == 200
    newer = auth("erin", email="erin@new.example")  # no name: the stored one stays
    assert (await client.get("/api/tasks", headers=newer)).status_code == 200
    row = conn.execute("select email, name from app.users where id = 'erin'").fetchone()
    assert row == ("erin@new.example", "Erin")
    me = (await client.get("/api/auth/me", headers=auth("erin"))).json()
    assert (me["email"], me["name"]) == ("erin@new.example", "Erin")

"""A real Better Auth server (the better-auth npm package on Node, with its JWT and bearer
plugins, on the test database) signs users up; our API accepts its JWTs and its session tokens,
creates the users on first sight, and keeps them apart."""

from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import httpx
import psycopg
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.better_auth import BetterAuth, better_auth_server
from tests.utils.tokens import SECRET


@pytest.fixture
def better_auth(database_url: str) -> Iterator[BetterAuth]:
    with better_auth_server(database_url, SECRET) as server:
        yield server


@pytest.fixture
async def ba_client_trailing_slash(
    database_url: str, better_auth: BetterAuth
) -> AsyncIterator[httpx.AsyncClient]:
    settings = app_settings(database_url, better_auth_url=f"{better_auth.base_url}/")
    async with http_client(create_app(settings)) as client:
        yield client


@pytest.fixture
async def ba_client(database_url: str, better_auth: BetterAuth) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(
        create_app(app_settings(database_url, better_auth_url=better_auth.base_url))
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_better_auth_jwt_is_accepted_and_creates_the_user(
    ba_client: httpx.AsyncClient, better_auth: BetterAuth, conn: psycopg.Connection
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada Lovelace")
    created = await ba_client.post("/api/tasks", json={"title": "analyse"}, headers=bearer(ada.jwt))
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == ada.user_id
    me = (await ba_client.get("/api/auth/me", headers=bearer(ada.jwt))).json()
    assert (me["id"], me["email"], me["name"]) == (ada.user_id, "ada@example.com", "Ada Lovelace")
    row = conn.execute("select email, name from app.users where id = %s", (ada.user_id,))
    assert row.fetchone() == ("ada@example.com", "Ada Lovelace")


async def test_a_better_auth_session_token_is_accepted_in_every_form(
    ba_client: httpx.AsyncClient, better_auth: BetterAuth
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
    await ba_client.post("/api/tasks", json={"title": "mine"}, headers=bearer(ada.jwt))
    for form in (ada.session_token, quote(ada.session_token, safe=""), ada.stored_token):
        listed = await ba_client.get("/api/tasks", headers=bearer(form))
        assert listed.status_code == 200, (form, listed.text)
        assert [t["title"] for t in listed.json()] == ["mine"]


async def test_users_of_better_auth_stay_apart(
    ba_client: httpx.AsyncClient, better_auth: BetterAuth
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
    bob = better_auth.sign_up("bob@example.com", "another good password", "Bob")
    task = (await ba_client.post("/api/tasks", json={"title": "x"}, headers=bearer(ada.jwt))).json()
    for token in (bob.jwt, bob.session_token):
        assert (
            await ba_client.get(f"/api/tasks/{task['id']}", headers=bearer(token))
        ).status_code == 404
        assert (await ba_client.get("/api/tasks", headers=bearer(token))).json() == []


async def test_bad_session_tokens_are_401(
    ba_client: httpx.AsyncClient, better_auth: BetterAuth, conn: psycopg.Connection
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
    token, signature = ada.session_token.split(".", 1)
    forged_signature = f"{token}.{'A' * len(signature)}"
    unknown = f"{'x' * len(token)}"
    for bad in (forged_signature, unknown):
        response = await ba_client.get("/api/tasks", headers=bearer(bad))
        assert response.status_code == 401, bad
        assert response.headers["www-authenticate"] == "Bearer"
    conn.execute(
        """update public.session set "expiresAt" = now() - interval '1 second' where token = %s""",
        (token,),
    )
    expired = await ba_client.get("/api/tasks", headers=bearer(ada.session_token))
    assert expired.status_code == 401
    assert (await ba_client.get("/api/tasks", headers=bearer(ada.jwt))).status_code == 200


async def test_better_auth_url_with_a_trailing_slash_still_matches_the_issuer(
    ba_client_trailing_slash: httpx.AsyncClient, better_auth: BetterAuth
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
    response = await ba_client_trailing_slash.get("/api/tasks", headers=bearer(ada.jwt))
    assert response.status_code == 200, response.text

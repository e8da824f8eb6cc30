"""Forged and broken Better Auth JWTs over HTTP, against a JWKS server of the test's own: every
one is a 401 with WWW-Authenticate, and a genuine token of each algorithm is accepted."""

from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.test_better_auth_jwks import (  # the key set and the forgeries are shared
    FORGERIES,
    JwksServer,
    SigningKey,
    claims_for,
    keys,
    mint,
    server,
)
from tests.utils.errors import error_json

__all__ = ["keys", "server"]  # fixtures, used by name


@pytest.fixture
async def jwks_client(database_url: str, server: JwksServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = app_settings(database_url, better_auth_url=server.base_url)
    async with http_client(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256", "PS256", "ES512"])
async def test_a_genuine_token_of_each_algorithm_is_accepted(
    jwks_client: httpx.AsyncClient, server: JwksServer, keys: dict[str, SigningKey], alg: str
) -> None:
    token = mint(keys[alg], claims_for(server.base_url, sub=f"user-{alg}"))
    response = await jwks_client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == f"user-{alg}"
    assert response.json()["email"] == "alice@example.com"


@pytest.mark.parametrize("name", list(FORGERIES))
async def test_forged_tokens_are_401(
    jwks_client: httpx.AsyncClient, server: JwksServer, keys: dict[str, SigningKey], name: str
) -> None:
    token = FORGERIES[name](keys, server.base_url)
    response = await jwks_client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, (name, response.text)
    assert response.json()["detail"] in {"Invalid token", "Token has expired"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_says_so_over_http(
    jwks_client: httpx.AsyncClient, server: JwksServer, keys: dict[str, SigningKey]
) -> None:
    token = mint(keys["EdDSA"], claims_for(server.base_url, exp=1_000_000_000))
    response = await jwks_client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == error_json("Token has expired")

"""A real Better Auth server (Node, tests/better_auth) on the test database: a user signs up, the
session lands in public.session, and the JWT it trades for verifies with
api.identity.better_auth."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from api.identity.better_auth import Jwks, verify_jwt
from api.identity.tokens import InvalidTokenError
from tests.utils.better_auth import BetterAuth, better_auth_server

PASSWORD = "correct horse battery staple"


@pytest.fixture
def better_auth(database_url: str) -> Iterator[BetterAuth]:
    with better_auth_server(database_url, secrets.token_urlsafe(48)) as server:
        yield server


@pytest.fixture
async def jwks(better_auth: BetterAuth) -> AsyncIterator[Jwks]:
    cache = Jwks(better_auth.jwks_url)
    try:
        yield cache
    finally:
        await cache.aclose()


async def test_sign_up_stores_a_session_and_yields_a_verifiable_jwt(
    better_auth: BetterAuth, database_url: str, jwks: Jwks
) -> None:
    user = better_auth.sign_up("alice@example.com", PASSWORD, "Alice")

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            'select "userId", "expiresAt" from public.session where token = %s',
            (user.stored_token,),
        ).fetchone()
    assert row is not None, "the session token is not in public.session"
    assert row[0] == user.user_id
    assert row[1] > datetime.now(UTC)

    # set-auth-token is "<token>.<base64 HMAC-SHA256 of token under the secret>", not URL-encoded
    mac = hmac.new(better_auth.secret.encode(), user.stored_token.encode(), hashlib.sha256)
    assert user.session_token == f"{user.stored_token}.{base64.b64encode(mac.digest()).decode()}"

    claims = await verify_jwt(
        user.jwt, jwks, issuer=better_auth.base_url, audience=better_auth.base_url
    )
    assert claims["sub"] == user.user_id
    assert claims["email"] == "alice@example.com"
    assert claims["name"] == "Alice"
    assert claims["iss"] == claims["aud"] == better_auth.base_url


async def test_jwts_of_two_users_and_their_forgeries(better_auth: BetterAuth, jwks: Jwks) -> None:
    alice = better_auth.sign_up("alice@example.com", PASSWORD, "Alice")
    bob = better_auth.sign_up("bob@example.com", PASSWORD, "Bob")
    base = better_auth.base_url

    subs = {
        (await verify_jwt(u.jwt, jwks, issuer=base, audience=base))["sub"] for u in (alice, bob)
    }
    assert subs == {alice.user_id, bob.user_id}

    head, payload, signature = alice.jwt.split(".")
    _, bob_payload, _ = bob.jwt.split(".")
    for forged in (f"{head}.{bob_payload}.{signature}", f"{head}.{payload}.{signature[:-4]}AAAA"):
        with pytest.raises(InvalidTokenError):
            await verify_jwt(forged, jwks, issuer=base, audience=base)
    with pytest.raises(InvalidTokenError):
        await verify_jwt(alice.jwt, jwks, issuer="https://elsewhere.example", audience=base)

"""api.identity.credentials.authenticate: which checks each kind of credential gets, with the
settings and caches alone (no request, no server)."""

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import SecretStr

from api.identity.credentials import authenticate
from api.identity.tokens import Caller, InvalidTokenError, VerifiedTokens
from api.settings import Settings
from tests.utils.tokens import SECRET, make_token


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"better_auth_secret": SecretStr(SECRET), **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


async def caller(
    credential: str, verified: VerifiedTokens | None = None, **overrides: object
) -> Caller:
    return await authenticate(
        credential, settings(**overrides), verified=verified or VerifiedTokens(), jwks=None
    )


async def test_an_hs256_token_gives_its_subject_and_is_remembered() -> None:
    verified = VerifiedTokens()
    token = make_token("alice", email="a@example.com", jti="6f1c7d1e-4a8b-4c56-9a3e-1d2c3b4a5f60")
    found = await caller(token, verified)
    assert (found.user_id, found.email, str(found.token_id)) == (
        "alice", "a@example.com", "6f1c7d1e-4a8b-4c56-9a3e-1d2c3b4a5f60"
    )  # fmt: skip
    assert verified.get(token) == found


@pytest.mark.parametrize(
    "credential",
    [
        make_token("alice", secret="another-secret-" * 4),
        make_token("alice", expires_in=-60),
        make_token(None),
        make_token(""),
        make_token("a\u0000b"),
        make_token("x" * 256),
        "a.b.c",
        "not-a-jwt",  # a session token, but BETTER_AUTH_URL is not set
        make_token("alice", algorithm="HS512"),
    ],
)
async def test_what_cannot_be_trusted_is_refused(credential: str) -> None:
    with pytest.raises(InvalidTokenError):
        await caller(credential)


async def test_an_expired_token_says_so() -> None:
    with pytest.raises(InvalidTokenError, match="expired"):
        await caller(make_token("alice", expires_in=-60))


async def test_an_asymmetric_jwt_without_a_jwks_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode({"sub": "alice", "exp": 9_999_999_999}, key, algorithm="EdDSA")
    with pytest.raises(InvalidTokenError):
        await caller(token, better_auth_url=None)


async def test_anything_else_is_a_session_token_when_better_auth_is_set() -> None:
    found = await caller("AbCdEf0123456789", better_auth_url="http://localhost:3000")
    assert found == Caller(user_id=None, session_token="AbCdEf0123456789")
    with pytest.raises(InvalidTokenError):
        await caller("AbCdEf.not-the-signature", better_auth_url="http://localhost:3000")


async def test_a_remembered_caller_skips_the_checks() -> None:
    verified = VerifiedTokens()
    token = make_token("alice")
    first = await caller(token, verified)
    # Verified once: the cache answers even with settings that could not verify it again.
    again = await authenticate(
        token,
        settings(better_auth_secret=SecretStr("z" * 40)),
        verified=verified,
        jwks=None,
    )
    assert again is first

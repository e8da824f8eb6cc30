"""Bearer credentials: turns what a caller presents into whom the request acts for.

Three forms, told apart by their shape:
- an HS256 JWT signed with BETTER_AUTH_SECRET: ours (built-in accounts, with a `jti` the database
  checks for revocation) or minted by a frontend with the shared secret;
- an asymmetric JWT from Better Auth's JWT plugin, checked against its JWKS
  (api.identity.better_auth);
- anything else is taken for a Better Auth session token (bearer plugin, or the session cookie's
  value with its `.signature`), which the database looks up in Better Auth's session table.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote
from uuid import UUID

import jwt

USER_ID_CLAIMS = ("sub", "userId", "user_id", "id")
NESTED_USER_ID_CLAIMS = (("user", "id"), ("session", "userId"))
MAX_USER_ID_LENGTH = 255  # mirrors app.users.id's check constraint
MAX_SESSION_TOKEN_LENGTH = 255


class InvalidTokenError(Exception):
    """The token cannot be trusted; `detail` is safe to show the caller."""

    def __init__(self, detail: str = "Invalid token") -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Caller:
    """Whom a request acts for, as far as Python can tell before the database has its say."""

    user_id: str | None  # None for a session token: the database resolves it
    token_id: UUID | None = None  # our access tokens' jti, checked against revocations
    expires_at: datetime | None = None
    session_token: str | None = None
    email: str | None = None
    name: str | None = None


def _usable_text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= limit or "\x00" in value:
        return None
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON allows it, PostgreSQL does not
        return None
    return value


def usable_user_id(value: object) -> str | None:
    """`value` as a user id the database can store (app.users.id), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _usable_text(value, MAX_USER_ID_LENGTH)


def user_id_from_claims(claims: dict[str, Any]) -> str:
    """`sub` when present (and then it must be usable), else the first other claim that names
    the user: userId, user_id, id, user.id, session.userId."""
    if "sub" in claims:
        if (found := usable_user_id(claims["sub"])) is not None:
            return found
        raise InvalidTokenError()
    for claim in USER_ID_CLAIMS[1:]:
        if (found := usable_user_id(claims.get(claim))) is not None:
            return found
    for outer, inner in NESTED_USER_ID_CLAIMS:
        nested = claims.get(outer)
        if isinstance(nested, dict) and (found := usable_user_id(nested.get(inner))) is not None:
            return found
    raise InvalidTokenError()


def _expiry(claims: dict[str, Any]) -> datetime:
    exp = claims.get("exp")
    try:
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise TypeError
        return datetime.fromtimestamp(exp, UTC)
    except (TypeError, OverflowError, ValueError, OSError):
        raise InvalidTokenError() from None


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    token_id = None
    if isinstance(jti := claims.get("jti"), str):
        try:
            token_id = UUID(jti)
        except ValueError:
            token_id = None
    return Caller(
        user_id=user_id_from_claims(claims),
        token_id=token_id,
        expires_at=_expiry(claims),
        email=_usable_text(claims.get("email"), 320),
        name=_usable_text(claims.get("name"), 200),
    )


def verify_hs256(token: str, secret: str) -> dict[str, Any]:
    """The claims of an HS256 token signed with `secret`; raises InvalidTokenError."""
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("Token has expired") from None
    except jwt.PyJWTError:
        raise InvalidTokenError() from None


def jwt_algorithm(token: str) -> str | None:
    """The `alg` of a token shaped like a JWT, else None."""
    if token.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidTokenError() from None
    algorithm = header.get("alg")
    return algorithm if isinstance(algorithm, str) else ""


def _signature_matches(value: str, signature: str, secret: str) -> bool:
    digest = hmac.new(secret.encode(), value.encode(), hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    candidates = {expected, expected.rstrip("="), base64.urlsafe_b64encode(digest).decode()}
    candidates.add(base64.urlsafe_b64encode(digest).decode().rstrip("="))
    return any(hmac.compare_digest(signature, candidate) for candidate in candidates)


def session_token(presented: str, secret: str) -> str:
    """The session token inside a Better Auth bearer value: as is, or `token.signature` (the
    signed cookie's value, perhaps URL-encoded), whose signature must then be right."""
    value = unquote(presented)
    if "." in value:
        value, signature = value.split(".", 1)
        if not _signature_matches(value, signature, secret):
            raise InvalidTokenError()
    if not 0 < len(value) <= MAX_SESSION_TOKEN_LENGTH or not value.isascii() or not value.isalnum():
        raise InvalidTokenError()
    return value


class VerifiedTokens:
    """Callers of JWTs verified recently, by the exact token string: a client sends the same
    token on every request, and checking its signature again is the costliest thing Python does
    for a request. An entry is used only until the token's exp; revocation is still checked by
    the database on every request. A Better Auth key withdrawn from its JWKS stops new tokens at
    once, and the ones already seen at their exp (15 minutes at most)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._callers: dict[str, Caller] = {}

    def get(self, token: str) -> Caller | None:
        caller = self._callers.get(token)
        if caller is None:
            return None
        if caller.expires_at is None or caller.expires_at <= datetime.now(UTC):
            self._callers.pop(token, None)
            return None
        return caller

    def put(self, token: str, caller: Caller) -> None:
        if len(self._callers) >= self.max_entries:
            self._callers.pop(next(iter(self._callers)))  # the oldest entry
        self._callers[token] = caller

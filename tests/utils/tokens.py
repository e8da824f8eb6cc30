"""Tokens as a frontend would mint them."""

import time
from typing import Any

import jwt

SECRET = "test-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"


def make_token(
    sub: str | None = "alice",
    *,
    secret: str = SECRET,
    expires_in: int = 6 * 3600,  # modules make tokens at import; a loaded run takes long
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    payload: dict[str, Any] = {"exp": int(time.time()) + expires_in, **claims}
    if sub is not None:
        payload["sub"] = sub
    return jwt.encode(payload, secret, algorithm=algorithm)


def auth(sub: str = "alice", **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub, **kwargs)}"}

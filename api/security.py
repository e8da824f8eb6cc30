"""Bearer token verification: turns a JWT into the id of the user it speaks for."""

from typing import Any

import jwt

USER_ID_CLAIMS = ("sub", "userId", "user_id", "id")
MAX_USER_ID_LENGTH = 255  # mirrors app.users.id's check constraint


class InvalidTokenError(Exception):
    """The token cannot be trusted; `detail` is safe to show the caller."""

    def __init__(self, detail: str = "Invalid token") -> None:
        super().__init__(detail)
        self.detail = detail


def user_id_from_claims(claims: dict[str, Any]) -> str:
    for claim in USER_ID_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and 0 < len(value) <= MAX_USER_ID_LENGTH and "\x00" not in value:
            return value
    raise InvalidTokenError()


def verify_hs256(token: str, secret: str) -> str:
    """Returns the user id of an HS256 token signed with `secret`; raises InvalidTokenError."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("Token has expired") from None
    except jwt.PyJWTError:
        raise InvalidTokenError() from None
    return user_id_from_claims(claims)

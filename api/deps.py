"""What a handler may ask for, as named types: the caller's id and the request's transaction."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection

from api.db import request_transaction
from api.security import InvalidTokenError, verify_hs256

bearer = HTTPBearer(
    auto_error=False,
    description="A JWT: HS256 signed with BETTER_AUTH_SECRET, user id in `sub`, `exp` required.",
)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None:
        raise unauthorized("Invalid token")
    try:
        return verify_hs256(credentials.credentials, request.app.state.settings.secret)
    except InvalidTokenError as exc:
        raise unauthorized(exc.detail) from None


CurrentUserId = Annotated[str, Depends(current_user_id)]


async def transaction(request: Request, user_id: CurrentUserId) -> AsyncIterator[AsyncConnection]:
    async with request_transaction(request.app.state.pool, user_id) as conn:
        yield conn


# scope="function": the transaction commits before the response is sent, so a client that has
# its 2xx can rely on the write.
Tx = Annotated[AsyncConnection, Depends(transaction, scope="function")]

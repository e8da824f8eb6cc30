"""What a handler may ask for, as named types: the caller, the database as the caller sees it
(one statement per request), and a transaction for handlers that need several statements."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection

from api.database.requests import RequestDatabase, request_params
from api.identity import audit
from api.identity.tokens import (
    ASYMMETRIC_ALGORITHMS,
    Caller,
    InvalidTokenError,
    VerifiedTokens,
    caller_from_claims,
    jwt_algorithm,
    session_token,
    verify_hs256,
)
from api.settings import Settings

CLOCK_SKEW_SECONDS = 5  # Better Auth runs on another host, with its own clock

bearer = HTTPBearer(
    auto_error=False,
    description="Our access token, a Better Auth JWT (JWKS-verified, or HS256 with "
    "BETTER_AUTH_SECRET), or a Better Auth session token.",
)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def authenticate(request: Request, token: str) -> Caller:
    verified: VerifiedTokens = request.app.state.verified_tokens
    if (known := verified.get(token)) is not None:
        return known
    settings: Settings = request.app.state.settings
    algorithm = jwt_algorithm(token)
    if algorithm == "HS256":
        caller = caller_from_claims(verify_hs256(token, settings.secret))
        verified.put(token, caller)
        return caller
    if algorithm in ASYMMETRIC_ALGORITHMS and request.app.state.jwks is not None:
        from api.identity.better_auth import verify_jwt

        claims = await verify_jwt(
            token,
            request.app.state.jwks,
            issuer=str(settings.jwt_issuer),
            audience=str(settings.jwt_audience),
            leeway=CLOCK_SKEW_SECONDS,
        )
        caller = caller_from_claims(claims)
        verified.put(token, caller)
        return caller
    if algorithm is None and settings.better_auth_url is not None:
        return Caller(user_id=None, session_token=session_token(token, settings.secret))
    raise InvalidTokenError()


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_caller(request: Request, credentials: Credentials) -> Caller:
    try:
        if credentials is None:
            raise InvalidTokenError()
        return await authenticate(request, credentials.credentials)
    except InvalidTokenError as exc:
        await audit.record_outside(request, "token_rejected")
        raise unauthorized(exc.detail) from None


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def database_for(request: Request, caller: Caller) -> RequestDatabase:
    """The caller's view of the database; when the URL names a user (/api/{user_id}/tasks),
    app.begin_request holds that user to the caller."""
    settings: Settings = request.app.state.settings
    context = request_params(
        caller, settings.better_auth_session_table, request.path_params.get("user_id")
    )
    return RequestDatabase(request.app.state.pool, context)


async def request_database(request: Request, credentials: Credentials) -> RequestDatabase:
    """The hot path's one dependency below the bearer scheme: current_caller's work is done
    here rather than in a dependency layer of its own."""
    return database_for(request, await current_caller(request, credentials))


Db = Annotated[RequestDatabase, Depends(request_database)]


async def transaction(request: Request, caller: CurrentCaller) -> AsyncIterator[AsyncConnection]:
    async with database_for(request, caller).transaction() as (conn, user_id):
        request.state.user_id = user_id
        yield conn


# scope="function": the transaction commits before the response is sent, so a client that has
# its 2xx can rely on the write.
Tx = Annotated[AsyncConnection, Depends(transaction, scope="function")]

"""What a handler may ask for, as named types: `Db`, the database as the request's caller sees
it, and `JSON_BODY`, the check that a body is JSON.

`Db` is the only dependency of a task route, and it is flat: one call that reads the bearer
credential from the request, authenticates it (api.identity.credentials) and binds the caller
to the pool. FastAPI spends CPU on every dependency it solves, on every request
(how-to/benchmark.md). It is also the bearer security scheme that OpenAPI documents.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from api.database.requests import RequestDatabase, request_params
from api.identity import audit
from api.identity.credentials import authenticate
from api.identity.tokens import Caller, InvalidTokenError, usable_user_id
from api.settings import Settings

JSON = "application/json"


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def bearer_credential(headers: list[tuple[bytes, bytes]]) -> str:
    """The credential of the one `Authorization: Bearer ...` header; 400 when there are
    several (which one a proxy or a framework reads differs), InvalidTokenError when there is
    none or it is of another scheme."""
    found = None
    for name, value in headers:
        if name == b"authorization":
            if found is not None:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST, detail="Send one Authorization header, not several"
                )
            found = value
    if found is None:
        raise InvalidTokenError()
    scheme, _, credential = found.decode("latin-1").partition(" ")
    credential = credential.strip(" \t")
    if scheme.lower() != "bearer" or not credential:
        raise InvalidTokenError()
    return credential


async def caller_of(request: Request) -> Caller:
    """The request's caller; 401 (and an audit event) when its credential cannot be trusted."""
    state = request.app.state
    try:
        credential = bearer_credential(request.scope["headers"])
        caller = await authenticate(
            credential, state.settings, verified=state.verified_tokens, jwks=state.jwks
        )
        request.scope["state"]["user_id"] = caller.user_id  # the request's log line
        return caller
    except InvalidTokenError as exc:
        await audit.record_refusal(request, "token_rejected")
        raise unauthorized(exc.detail) from None


def database_for(request: Request, caller: Caller) -> RequestDatabase:
    """The caller's view of the database. When the URL names a user (/api/{user_id}/tasks,
    api.web.paths), app.begin_request holds that user to the caller: 403 otherwise."""
    state = request.app.state
    settings: Settings = state.settings
    path_user_id = request.scope["state"].get("path_user_id")
    if path_user_id is not None and usable_user_id(path_user_id) is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not your tasks")
    context = request_params(
        caller,
        session_table=settings.better_auth_session_table,
        path_user_id=path_user_id,
    )
    return RequestDatabase(state.pool, context, caller)


class BearerDatabase(SecurityBase):
    """The dependency behind `Db`; an instance is OpenAPI's bearer scheme too."""

    def __init__(self, description: str) -> None:
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> RequestDatabase:
        return database_for(request, await caller_of(request))


request_database = BearerDatabase(
    "Our access token, a Better Auth JWT (JWKS-verified, or HS256 with BETTER_AUTH_SECRET), "
    "or a Better Auth session token."
)
Db = Annotated[RequestDatabase, Depends(request_database)]


def is_json(content_type: str) -> bool:
    """application/json, or an application/...+json type: what FastAPI parses as JSON."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_json(request: Request) -> None:
    """415 for a body that is not JSON (FastAPI would try to validate its bytes)."""
    if not is_json(request.headers.get("content-type", "")):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="Request body must be application/json",
        )


JSON_BODY = [Depends(require_json)]  # a route's `dependencies` when it reads a JSON body

"""Every error leaves as JSON with a `detail` (and the `message` and `error` that
api.web.error_body adds), with the status that names the caller's mistake.

Errors raised by PostgreSQL carry their HTTP meaning in the SQLSTATE: `PTxyz` is HTTP xyz (as in
PostgREST), and a few standard codes map to the statuses below. Anything else is a 500 whose body
says nothing about the internals; the log keeps the details.
"""

import logging

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.database.availability import DatabaseUnavailableError
from api.database.pool import recheck_soon
from api.identity import accounts, audit
from api.observability import metrics
from api.observability.logs import LOGGED
from api.web.error_body import error_response, readable
from api.web.unavailable import database_unavailable, too_busy

log = logging.getLogger(__name__)

# For standard codes the body names the problem, not the table or constraint behind it.
DETAIL_BY_SQLSTATE = {
    "23505": "Already exists",
    "23503": "Refers to something that does not exist",
    "23502": "A required value is missing",
    "23514": "A value is outside its allowed range",
    "22001": "A value is too long",
    "22003": "A number is out of range",
    "22008": "A date or time is out of range",
}
HTTP_BY_SQLSTATE = {
    "42501": status.HTTP_403_FORBIDDEN,  # insufficient_privilege: a grant or policy said no
    "23505": status.HTTP_409_CONFLICT,  # unique_violation
    "23503": status.HTTP_422_UNPROCESSABLE_CONTENT,  # foreign_key_violation
    "23502": status.HTTP_422_UNPROCESSABLE_CONTENT,  # not_null_violation
    "23514": status.HTTP_422_UNPROCESSABLE_CONTENT,  # check_violation
    "22001": status.HTTP_422_UNPROCESSABLE_CONTENT,  # string_data_right_truncation
    "22003": status.HTTP_422_UNPROCESSABLE_CONTENT,  # numeric_value_out_of_range
    "22008": status.HTTP_422_UNPROCESSABLE_CONTENT,  # datetime_field_overflow
}


def status_for_sqlstate(sqlstate: str | None) -> int:
    code = sqlstate or ""
    if code.startswith("PT") and code[2:].isdigit():
        return int(code[2:])
    return HTTP_BY_SQLSTATE.get(code, status.HTTP_500_INTERNAL_SERVER_ERROR)


def internal_error() -> JSONResponse:
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, psycopg.Error)
    metrics.database_error(exc.sqlstate)
    if isinstance(exc, psycopg.OperationalError):  # a lost connection, a cancelled statement
        log.warning("database unreachable: %s", exc)
        recheck_soon(request.app.state)
        return database_unavailable()
    code = status_for_sqlstate(exc.sqlstate)
    if code >= 500:
        log.error(
            "database error %s on %s %s",
            exc.sqlstate,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return internal_error()
    detail = DETAIL_BY_SQLSTATE.get(exc.sqlstate or "") or exc.diag.message_primary or "Refused"
    if code == status.HTTP_401_UNAUTHORIZED:  # app.begin_request refused the credentials
        await audit.record_refusal(request, "token_rejected")
        return error_response(code, detail, headers={"WWW-Authenticate": "Bearer"})
    return error_response(code, detail)


async def pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("no database connection within the pool timeout: %s", exc)
    metrics.POOL_TIMEOUTS.inc()
    request.app.state.availability.suspect()
    return database_unavailable()


async def known_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is known to be down: answered at once, and not logged per request (the
    availability probe logs each of its attempts)."""
    return database_unavailable()


async def hashing_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("password hashing queue full: %s %s refused", request.method, request.url.path)
    metrics.HASH_BUSY.inc()
    return too_busy()


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(status.HTTP_400_BAD_REQUEST, "Malformed JSON body")
    # The submitted values are not echoed back: they may be large, or secret.
    detail = [{"type": e["type"], "loc": e["loc"], "msg": e["msg"]} for e in errors]
    if request.app.state.settings.validation_detail == "message":  # for frontends that show it
        return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, readable(detail))
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, jsonable_encoder(detail))


def allowed_methods(request: Request, allow: str) -> str:
    """Every method some route takes at the path template that answered. FastAPI makes a
    route per method, and Starlette's 405 names only the methods of the first of the app's
    routes whose path matched (`allow`). The routes of the same template count, not those of
    another template that happens to match too (/api/tasks/changes is not /{task_id}), nor a
    route that only answers 405 (its endpoint's `refusal`)."""
    methods = {method.strip() for method in allow.split(",") if method.strip()}
    template: str | None = None
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})  # no route takes it
        refusal = getattr(getattr(route, "endpoint", None), "refusal", False)
        if match is not Match.PARTIAL or refusal:
            continue
        path = getattr(route, "path", None)  # an included router has none: it answers itself
        template = template or path
        if path is not None and path == template:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers = dict(exc.headers or {})
        headers["Allow"] = allowed_methods(request, headers.pop("Allow", headers.pop("allow", "")))
        return error_response(exc.status_code, exc.detail, headers=headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI's own answer to a body its JSON parser could not read at all (invalid UTF-8,
        # nesting past the parser's depth): the same words as for any malformed JSON.
        return error_response(status.HTTP_400_BAD_REQUEST, "Malformed JSON body")
    return error_response(exc.status_code, exc.detail, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # Starlette raises it again after this answer, for the server to log: uvicorn's own line
    # would be the same traceback again (api.observability.logs.LoggedOnce drops it).
    exc.add_note(LOGGED)
    return internal_error()


def install(app: FastAPI) -> None:
    app.add_exception_handler(psycopg.Error, database_error)
    app.add_exception_handler(PoolTimeout, pool_timeout)
    app.add_exception_handler(DatabaseUnavailableError, known_unavailable)
    app.add_exception_handler(accounts.HashingBusyError, hashing_busy)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)

"""Every 503 the service answers, with one Retry-After rule: one second.

A 503 here means "not now": the admission queue was full for POOL_TIMEOUT, the password-hashing
queue was full, or the database did not answer. Each of these clears in about a second or
lasts until an operator acts, and a client cannot tell which; one second lets the first kind
retry at once, and clients back off from repeated 503s on their own (README, "Errors").
"""

from starlette.responses import JSONResponse

from api.web.error_body import error_response

RETRY_AFTER_SECONDS = 1


def service_unavailable(detail: str) -> JSONResponse:
    return error_response(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def too_busy() -> JSONResponse:
    """No room for the request now (admission, the hashing queue)."""
    return service_unavailable("Too busy, retry later")


def database_unavailable() -> JSONResponse:
    return service_unavailable("Database unavailable, retry later")

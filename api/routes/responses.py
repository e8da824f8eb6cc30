"""The error answers routes document in OpenAPI, shared by the resources: each status a route
can answer, with the ErrorResponse body every error has."""

from typing import Any

from fastapi import status

from api.models import ErrorResponse, ValidationErrorResponse

Responses = dict[int | str, dict[str, Any]]


def error(code: int, description: str, detail: str | None = None) -> Responses:
    """One status's answer: ErrorResponse, with an example whose words are `detail` (by default
    the description)."""
    words = detail or description
    example = {"detail": words, "message": words, "error": words}
    return {
        code: {
            "model": ErrorResponse,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
    }


INVALID: Responses = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ValidationErrorResponse,
        "description": "A value is missing, of the wrong type or out of range",
        "content": {
            "application/json": {
                "example": {
                    "detail": [
                        {
                            "type": "missing",
                            "loc": ["body", "title"],
                            "msg": "Field required",
                        }
                    ],
                    "message": "title: Field required",
                    "error": "title: Field required",
                }
            }
        },
    }
}
UNAUTHORIZED = error(status.HTTP_401_UNAUTHORIZED, "Missing or bad credential", "Invalid token")
BAD_AUTHORIZATION = error(
    status.HTTP_400_BAD_REQUEST, "Several Authorization headers, or a malformed request"
)
UNAVAILABLE = error(
    status.HTTP_503_SERVICE_UNAVAILABLE,
    "Too busy, or the database is unreachable; see Retry-After",
    "Database unavailable, retry later",
)
# Every route that takes a body can answer this, before it reads any of it (api/web/edge.py).
BODY_TOO_LARGE = error(status.HTTP_413_CONTENT_TOO_LARGE, "Body over 64 KiB")
BODY_ERRORS: Responses = {
    **INVALID,
    **error(status.HTTP_400_BAD_REQUEST, "Malformed JSON"),
    **BODY_TOO_LARGE,
    **error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "The body is not application/json"),
}

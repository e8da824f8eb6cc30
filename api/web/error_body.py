"""The body of every error the service answers: the one place that shapes it.

`detail` is what FastAPI clients read: a sentence, or for a 422 the list of validation issues.
Frontends written for other backends read other keys, so the same answer also carries
`message`, always one readable sentence (a 422's issues joined, never a list a browser would
show as "[object Object]"), and `error`, the same sentence, for the clients that show that one.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse

# Where FastAPI says a value came from: the first part of a validation issue's `loc`.
SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def error_body(detail: str | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    message = detail if isinstance(detail, str) else readable(detail)
    return {"detail": detail, "message": message, "error": message}


def error_response(
    status_code: int,
    detail: str | Sequence[Mapping[str, Any]],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(detail), status_code, headers=headers)


def readable(issues: Sequence[Mapping[str, Any]]) -> str:
    """One sentence for a list of validation issues: `title: String should have at least 1
    character; completed: Input should be a valid boolean`."""
    parts = []
    for issue in issues:
        where = location(issue.get("loc", ()))
        what = str(issue.get("msg", "is invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {what}" if where else what)
    return "; ".join(parts) or "Invalid request"


def location(loc: Sequence[object]) -> str:
    """`("body", "tags", 0)` as `tags[0]`; the source alone when nothing follows it."""
    parts = list(loc)
    if len(parts) > 1 and parts[0] in SOURCES:
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text

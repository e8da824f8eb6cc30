"""The tasks resource. Each handler runs one statement, a request function of PostgreSQL's that
opens the request and does the work; row-level security decides which rows exist for the caller,
so there is no ownership check here, and a task of someone else's is simply not found.
PostgreSQL renders the JSON (app.task_public), which passes through untouched."""

import base64
import binascii
import json
import re
from typing import Annotated, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.types.json import Jsonb
from pydantic import BeforeValidator

from api.database.requests import request_call
from api.deps import JSON, JSON_BODY, Db
from api.models import (
    VERSION_MAX,
    TaskChanges,
    TaskCreate,
    TaskDeleted,
    TaskFields,
    TaskList,
    TaskPatch,
    TaskPublic,
    TaskReplace,
    TaskToggle,
)
from api.routes.responses import (
    BAD_AUTHORIZATION,
    BODY_ERRORS,
    BODY_TOO_LARGE,
    INVALID,
    UNAUTHORIZED,
    UNAVAILABLE,
    Responses,
    error,
)
from api.routes.task_lists import PARAMETERS, TaskQuery, encode_cursor, task_query
from api.web.error_body import error_response
from api.web.json_body import StrictJsonRoute

MAX_ID = 2**63 - 1


def plain_digits(value: object) -> object:
    """A task id in the URL is ASCII digits only: int() alone would also take "+5", " 5",
    "5_1" and other digits of Unicode."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("must be a whole number written in digits 0-9")
    return value


# The bounds in Path, before the validator: after it, FastAPI writes them into OpenAPI as the
# unknown keywords ge and le rather than as minimum and maximum.
TaskId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="The task's id."), BeforeValidator(plain_digits)
]
# What precondition() takes; anything else is a 400. In OpenAPI only, so that the refusal stays
# the 400 it is documented as, not a 422.
IF_MATCH = r'^(\*|"[0-9]+"|W/".*)$'
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        json_schema_extra={"type": "string", "pattern": IF_MATCH},
        description='The ETag of the version the client last read, e.g. "3", or *; '
        "412 when the task has changed since.",
    ),
]

# One request function each (sql/functions/app.<name>.sql): one statement, one round trip.
LIST_TASKS = request_call("list_tasks", "known")
TASK_CHANGES = request_call("task_changes", "after", "horizon", "limit")
GET_TASK = request_call("get_task", "id")
QUERY_TASKS = request_call("query_tasks", "query")
TASK_COLUMNS = ("title", "description", "completed", "priority", "due_at", "due_all_day", "tags")
CREATE_TASK = request_call("create_task", *TASK_COLUMNS, "position", "extra")
# The writes answer (outcome, version, body): 'done', 'stale' (the task's version is not the
# expected one; nothing was written) or 'missing' (the caller has no such task).
REPLACE_TASK = request_call("replace_task", "id", *TASK_COLUMNS, "position", "extra", "version")
PATCH_TASK = request_call("patch_task", "id", "changes", "version")
TOGGLE_TASK = request_call("toggle_task", "id", "version")
DELETE_TASK = request_call("delete_task", "id", "version")

PRECONDITION_FAILED = "Precondition failed: the task has changed"
VERSION_CONFLICT = "Version conflict: the task has changed, read it again"
NOT_FOUND = error(status.HTTP_404_NOT_FOUND, "No such task")
PRECONDITION_ERRORS: Responses = {
    **NOT_FOUND,
    **error(
        status.HTTP_400_BAD_REQUEST,
        "Malformed JSON, an If-Match that is not one ETag or *, or several Authorization headers",
    ),
    **error(status.HTTP_412_PRECONDITION_FAILED, "If-Match does not match the task's ETag"),
}
STALE_BODY = error(status.HTTP_409_CONFLICT, "The body's version is stale")
WRITE_ERRORS: Responses = {**BODY_ERRORS, **PRECONDITION_ERRORS, **STALE_BODY}
ETAG_HEADER = {"ETag": {"description": "The task's version, quoted", "schema": {"type": "string"}}}


# Read from the request rather than declared as a Header parameter, which cost the list about
# 12 µs a request in FastAPI's parameter handling (bench/inprocess.py list, how-to/benchmark.md);
# documented by hand instead.
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": 'The list\'s ETag from an earlier answer, e.g. "list-12" (several may be '
    "given, comma-separated, or *): 304 with no body while the list is still the same.",
    "schema": {"type": "string"},
    "example": '"list-12"',
}
LIST_TAG = re.compile(r'\s*(?:W/)?"list-(\d{1,18})"\s*')
LIST_ETAG_HEADER = {
    "ETag": {
        "description": "The caller's whole list, as of this answer: any write of theirs, from "
        "any device, changes it",
        "schema": {"type": "string", "example": '"list-12"'},
    }
}


def known_markers(if_none_match: str | None) -> list[int] | None:
    """The change markers an If-None-Match names (list_tasks answers `*` itself)."""
    if if_none_match is None:
        return None
    if if_none_match.strip() == "*":
        return []
    markers = []
    for tag in if_none_match.split(","):
        found = LIST_TAG.fullmatch(tag)
        if found is not None:
            markers.append(int(found[1]))
    return markers


def not_found() -> NoReturn:
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Task not found")


def precondition(if_match: str | None, body_version: int | None) -> tuple[int | None, int]:
    """The version a write must find, and the status to answer when it does not: If-Match
    (412) wins over a `version` in the body (409). `*` asks only that the task exists."""
    if if_match is None:
        return body_version, status.HTTP_409_CONFLICT
    tag = if_match.strip()
    if tag == "*":
        return None, status.HTTP_412_PRECONDITION_FAILED
    inner = tag[1:-1]
    if len(tag) >= 3 and tag[0] == tag[-1] == '"' and inner.isascii() and inner.isdigit():
        if int(inner) > VERSION_MAX:  # no task has it
            raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, detail=PRECONDITION_FAILED)
        return int(inner), status.HTTP_412_PRECONDITION_FAILED
    if tag.startswith('W/"'):  # a weak tag never matches under If-Match's strong comparison
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, detail=PRECONDITION_FAILED)
    raise HTTPException(
        status.HTTP_400_BAD_REQUEST, detail='If-Match must be one ETag such as "3", or *'
    )


def known_fields(request: Request, task: TaskFields) -> None:
    """With UNKNOWN_TASK_FIELDS=refuse, a field the API does not model is a 422, as pydantic
    words it for a model that forbids extra fields."""
    if request.app.state.settings.unknown_task_fields == "refuse" and task.model_extra:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("body", key), "msg": "Extra inputs are not "
                 "permitted", "input": value}
                for key, value in task.model_extra.items()
            ]
        )  # fmt: skip


def columns(task: TaskCreate) -> dict[str, object]:
    return {**task.columns(), "extra": Jsonb(task.unknown())}


def task_response(version: int, body: str, code: int = status.HTTP_200_OK) -> Response:
    return Response(body, code, media_type=JSON, headers={"ETag": f'"{version}"'})


async def write(db: Db, query: str, params: dict[str, object], stale_code: int) -> Response:
    """Runs a write request function and answers its outcome: the task, 404, or `stale_code`
    (412 for If-Match, 409 for a version in the body)."""
    outcome, version, body = await db.one(query, params)
    if outcome == "done":
        if body is None:  # a delete
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return task_response(version, body)
    if outcome == "stale":
        detail = PRECONDITION_FAILED if stale_code == 412 else VERSION_CONFLICT
        raise HTTPException(stale_code, detail=detail)
    not_found()


router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/api/tasks",
    tags=["tasks"],
    responses={**UNAUTHORIZED, **BAD_AUTHORIZATION, **UNAVAILABLE, **INVALID},
)


@router.get(
    "",
    response_model=list[TaskPublic] | TaskList,
    responses={
        200: {
            "description": "A bare array, or with TASK_LIST_SHAPE=object the object; when a "
            "page follows, Link names it",
            "headers": {
                **LIST_ETAG_HEADER,
                "Link": {
                    "description": 'The next page: <url>; rel="next"',
                    "schema": {"type": "string"},
                },
                "X-Total-Count": {
                    "description": "Tasks matching, with page",
                    "schema": {"type": "integer"},
                },
            },
        },
        304: {
            "description": "Not modified: If-None-Match names the current ETag; no body",
            "headers": LIST_ETAG_HEADER,
        },
        **error(
            status.HTTP_400_BAD_REQUEST, "A cursor that is not one of ours, or page with cursor"
        ),
    },
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER, *PARAMETERS]},
    summary="List the caller's tasks",
)
async def list_tasks(request: Request, db: Db) -> Response:
    """All of the caller's tasks, oldest first; an empty array when there are none. Filters,
    an order and pages narrow it (how-to/use-the-tasks-api.md, "Filters, orders and pages").
    The whole list, as a bare array, carries an `ETag` that changes with every write of the
    caller's; send it back as `If-None-Match` to get 304 while nothing has changed."""
    query = task_query(request)
    shape = request.app.state.settings.task_list_shape
    if query.plain and shape == "array":
        if_none_match = request.headers.get("if-none-match")
        any_list = if_none_match is not None and if_none_match.strip() == "*"
        marker, body = await db.read(LIST_TASKS, {"known": known_markers(if_none_match)})
        etag = {"ETag": f'"list-{marker}"'}
        if body is None or any_list:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=etag)
        return Response(body, media_type=JSON, headers=etag)
    document = query.document()
    if shape == "object":
        document["count"] = True
    body, size, total, after = await db.read(QUERY_TASKS, {"query": Jsonb(document)})
    headers: dict[str, str] = {}
    next_cursor = None if after is None else encode_cursor(query.sort, query.descending, after)
    if query.paged:
        headers["X-Total-Count"] = str(total)
    if link := next_page(request, query, next_cursor, total):
        headers["Link"] = f'<{link}>; rel="next"'
    if shape == "object":
        page = query.page or 1 if query.paged else None
        envelope = {"count": size, "total": total, "page": page, "page_size": query.page_size}
        fields = ",".join(f'"{key}":{json.dumps(value)}' for key, value in envelope.items())
        body = f'{{"tasks":{body},{fields},"next_cursor":{json.dumps(next_cursor)}}}'
    return Response(body, media_type=JSON, headers=headers)


def next_page(
    request: Request, query: TaskQuery, cursor: str | None, total: int | None
) -> str | None:
    """The next page's URL: the same query with the next cursor, or the next page number."""
    params = dict(request.query_params)
    if query.paged:
        page, size = query.page or 1, query.page_size or 20
        if total is None or page * size >= total:
            return None
        params["page"] = str(page + 1)
    elif cursor is not None:
        params["cursor"] = cursor
    else:
        return None
    return f"{request.url.path}?{urlencode(params)}"


CURSOR_VERSION = "1"
CURSOR_MAX = 2**63 - 1
MALFORMED_CURSOR = (
    "Malformed cursor: pass `since` exactly as a previous answer's `cursor`, "
    "or leave it out to fetch everything"
)
GONE_CURSOR = (
    "This cursor is too old (deletions since then are no longer kept) or not from this "
    "account: fetch /api/tasks/changes without `since`, replace the local copy with the "
    "answer, and continue from its cursor"
)
Since = Annotated[
    str | None,
    Query(
        max_length=100,
        description="The `cursor` of the previous answer; leave out to fetch every task.",
        examples=["MS4xMi4w"],
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=1000, description="Most items (tasks and deletions) in one answer.")
]


def encode_since(seq: int, horizon: int) -> str:
    raw = f"{CURSOR_VERSION}.{seq}.{horizon}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_since(cursor: str) -> tuple[int, int]:
    """(after_seq, horizon) of a cursor encode_since made; 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=MALFORMED_CURSOR) from None
    parts = raw.split(".")
    if (
        len(parts) != 3
        or parts[0] != CURSOR_VERSION
        or not all(p.isascii() and p.isdigit() and len(p) <= 19 for p in parts[1:])
        or encode_since(int(parts[1]), int(parts[2])) != cursor
        or max(int(parts[1]), int(parts[2])) > CURSOR_MAX
    ):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=MALFORMED_CURSOR)
    return int(parts[1]), int(parts[2])


@router.get(
    "/changes",
    response_model=TaskChanges,
    responses={
        **error(
            status.HTTP_400_BAD_REQUEST, "A malformed cursor, or several Authorization headers"
        ),
        **error(status.HTTP_410_GONE, "The cursor is too old or not the caller's: resync in full"),
    },
    summary="What changed in the caller's tasks since a cursor",
)
async def task_changes(db: Db, since: Since = None, limit: Limit = 100) -> Response:
    """The tasks created or changed after `since`, the ids of those deleted after it, and the
    cursor to pass next; without `since`, every task. At most `limit` items a call: while
    `has_more` is true, call again with the new cursor. Never skips a write committed
    concurrently, and never sends the same write twice (how-to/sync-a-frontend.md)."""
    after, horizon = (0, None) if since is None else decode_since(since)
    outcome, seq, next_horizon, has_more, tasks, deleted = await db.read(
        TASK_CHANGES, {"after": after, "horizon": horizon, "limit": limit}
    )
    if outcome == "gone":
        raise HTTPException(status.HTTP_410_GONE, detail=GONE_CURSOR)
    cursor = encode_since(seq, next_horizon)
    more = "true" if has_more else "false"
    body = f'{{"tasks":{tasks},"deleted":{deleted},"cursor":"{cursor}","has_more":{more}}}'
    return Response(body, media_type=JSON)


@router.api_route("/changes", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def changes_other_methods() -> Response:
    """The feed is read-only. Without this route, PUT, PATCH and DELETE of /changes would reach
    /{task_id} and answer its 415 or 422 instead of 405."""
    return error_response(
        status.HTTP_405_METHOD_NOT_ALLOWED, "Method Not Allowed", headers={"Allow": "GET"}
    )


changes_other_methods.refusal = True  # type: ignore[attr-defined]  # api.web.errors.allowed_methods


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskPublic,
    dependencies=JSON_BODY,
    responses={
        status.HTTP_201_CREATED: {
            "headers": {
                **ETAG_HEADER,
                "Location": {
                    "description": "The new task's URL",
                    "schema": {"type": "string"},
                },
            }
        },
        **BODY_ERRORS,
    },
    summary="Create a task",
)
async def create_task(request: Request, db: Db, task: TaskCreate) -> Response:
    known_fields(request, task)
    task_id, version, body = await db.one(CREATE_TASK, columns(task))
    response = task_response(version, body, status.HTTP_201_CREATED)
    response.headers["Location"] = f"/api/tasks/{task_id}"
    return response


@router.get(
    "/{task_id}",
    response_model=TaskPublic,
    responses={200: {"headers": ETAG_HEADER}, **NOT_FOUND},
    summary="Get a task",
)
async def get_task(db: Db, task_id: TaskId) -> Response:
    version, body = await db.read(GET_TASK, {"id": task_id})
    if version is None:
        not_found()
    return task_response(version, body)


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    dependencies=JSON_BODY,
    responses={200: {"headers": ETAG_HEADER}, **WRITE_ERRORS},
    summary="Replace a task",
)
async def replace_task(
    request: Request, db: Db, task_id: TaskId, task: TaskReplace, if_match: IfMatch = None
) -> Response:
    known_fields(request, task)
    version, code = precondition(if_match, task.version)
    params = {**columns(task), "id": task_id, "version": version}
    return await write(db, REPLACE_TASK, params, code)


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    dependencies=JSON_BODY,
    responses={200: {"headers": ETAG_HEADER}, **WRITE_ERRORS},
    summary="Change some fields of a task",
)
async def patch_task(
    request: Request, db: Db, task_id: TaskId, patch: TaskPatch, if_match: IfMatch = None
) -> Response:
    known_fields(request, patch)
    version, code = precondition(if_match, patch.version)
    params = {"id": task_id, "changes": Jsonb(patch.changes()), "version": version}
    return await write(db, PATCH_TASK, params, code)


@router.patch(
    "/{task_id}/toggle",
    response_model=TaskPublic,
    responses={
        200: {"headers": ETAG_HEADER},
        **PRECONDITION_ERRORS,
        **STALE_BODY,
        **BODY_TOO_LARGE,
    },
    summary="Flip a task's completed flag, or set it",
)
async def toggle_task(
    db: Db, task_id: TaskId, body: TaskToggle | None = None, if_match: IfMatch = None
) -> Response:
    """Without a body (or with `{}`), flips `completed`, atomically in the database: two
    toggles never read the same value. With `{"completed": true}` or `false`, sets it."""
    version, code = precondition(if_match, body.version if body else None)
    if body is None or body.completed is None:
        return await write(db, TOGGLE_TASK, {"id": task_id, "version": version}, code)
    params = {"id": task_id, "changes": Jsonb({"completed": body.completed}), "version": version}
    return await write(db, PATCH_TASK, params, code)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        200: {"model": TaskDeleted, "description": "Deleted, when DELETE_RESPONSE=json"},
        **PRECONDITION_ERRORS,
    },
    summary="Delete a task",
)
async def delete_task(
    request: Request, db: Db, task_id: TaskId, if_match: IfMatch = None
) -> Response:
    """204 with no body; 200 with `{"deleted": id, "message": ...}` when the service runs
    with DELETE_RESPONSE=json, for frontends that parse every answer as JSON."""
    version, code = precondition(if_match, None)
    response = await write(db, DELETE_TASK, {"id": task_id, "version": version}, code)
    if request.app.state.settings.delete_response == "json":
        return JSONResponse({"deleted": task_id, "message": "Task deleted"})
    return response

"""The tasks resource. Each handler runs one statement, a request function of PostgreSQL's that
opens the request and does the work; row-level security decides which rows exist for the caller,
so there is no ownership check here, and a task of someone else's is simply not found.
PostgreSQL renders the JSON (app.task_public), which passes through untouched."""

import json
from typing import Annotated, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.types.json import Jsonb
from pydantic import BeforeValidator

from api.database.requests import request_call
from api.deps import JSON, JSON_BODY, Db
from api.models import (
    VERSION_MAX,
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
LIST_TASKS = request_call("list_tasks")
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
        **error(
            status.HTTP_400_BAD_REQUEST, "A cursor that is not one of ours, or page with cursor"
        ),
    },
    openapi_extra={"parameters": PARAMETERS},
    summary="List the caller's tasks",
)
async def list_tasks(request: Request, db: Db) -> Response:
    """All of the caller's tasks, oldest first; an empty array when there are none. Filters,
    an order and pages narrow it (how-to/use-the-tasks-api.md, "Lists")."""
    query = task_query(request)
    shape = request.app.state.settings.task_list_shape
    if query.plain and shape == "array":
        (body,) = await db.read(LIST_TASKS)
        return Response(body, media_type=JSON)
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

"""The tasks resource. Each handler runs one statement, a request function of PostgreSQL's that
opens the request and does the work; row-level security decides which rows exist for the caller,
so there is no ownership check here, and a task of someone else's is simply not found.
PostgreSQL renders the JSON (app.task_public), which passes through untouched."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import psycopg
from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Request,
    Response,
    status,
)
from psycopg.types.json import Jsonb

from api.database.requests import request_call
from api.deps import Db
from api.models import (
    VERSION_MAX,
    ErrorResponse,
    TaskCreate,
    TaskPatch,
    TaskPublic,
    TaskReplace,
)

MAX_ID = 2**63 - 1
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's id.")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag of the version the client last read, e.g. "3", or *; '
        "412 when the task has changed since.",
    ),
]

# One request function each (sql/functions/app.<name>.sql): one statement, one round trip.
LIST_TASKS = request_call("list_tasks")
GET_TASK = request_call("get_task", "id")
CREATE_TASK = request_call("create_task", "title", "description", "completed")
REPLACE_TASK = request_call("replace_task", "id", "title", "description", "completed", "version")
PATCH_TASK = request_call("patch_task", "id", "changes", "version")
TOGGLE_TASK = request_call("toggle_task", "id", "version")
DELETE_TASK = request_call("delete_task", "id", "version")

JSON = "application/json"
PRECONDITION_FAILED = "Precondition failed: the task has changed"
ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {
        "model": ErrorResponse,
        "description": "Missing or bad token",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorResponse,
        "description": "Database unreachable; retry after Retry-After seconds",
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": "No such task"}
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {"model": ErrorResponse, "description": "Malformed JSON"},
    status.HTTP_413_CONTENT_TOO_LARGE: {"model": ErrorResponse, "description": "Body over 64 KiB"},
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: {
        "model": ErrorResponse,
        "description": "The body is not application/json",
    },
}
PRECONDITION_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorResponse,
        "description": "Malformed JSON, or an If-Match that is not one ETag or *",
    },
    status.HTTP_412_PRECONDITION_FAILED: {
        "model": ErrorResponse,
        "description": "If-Match does not match the task's current ETag",
    },
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **BODY_ERRORS,
    **PRECONDITION_ERRORS,
    status.HTTP_409_CONFLICT: {
        "model": ErrorResponse,
        "description": "The body's version is stale",
    },
}
ETAG_HEADER = {"ETag": {"description": "The task's version, quoted", "schema": {"type": "string"}}}


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


@contextmanager
def stale_answers(code: int) -> Iterator[None]:
    """Turns the trigger's stale-version refusal (PT409) into `code`."""
    try:
        yield
    except psycopg.Error as exc:
        if exc.sqlstate == "PT409":
            detail = (
                PRECONDITION_FAILED
                if code == status.HTTP_412_PRECONDITION_FAILED
                else "Version conflict: the task has changed, read it again"
            )
            raise HTTPException(code, detail=detail) from None
        raise


def task_response(version: int, body: str, code: int = status.HTTP_200_OK) -> Response:
    return Response(body, code, media_type=JSON, headers={"ETag": f'"{version}"'})


async def write_one(db: Db, query: str, params: dict[str, Any], code: int) -> Response:
    with stale_answers(code):
        version, body = await db.one(query, params)
    if version is None:
        not_found()
    return task_response(version, body)


router = APIRouter(responses=ERRORS)
Body = [Depends(require_json)]


@router.get("", response_model=list[TaskPublic], summary="List the caller's tasks")
async def list_tasks(db: Db) -> Response:
    """All of the caller's tasks, oldest first; an empty array when there are none."""
    (body,) = await db.one(LIST_TASKS)
    return Response(body, media_type=JSON)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskPublic,
    dependencies=Body,
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
async def create_task(db: Db, task: TaskCreate) -> Response:
    task_id, version, body = await db.one(CREATE_TASK, task.model_dump())
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
    version, body = await db.one(GET_TASK, {"id": task_id})
    if version is None:
        not_found()
    return task_response(version, body)


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    dependencies=Body,
    responses={200: {"headers": ETAG_HEADER}, **WRITE_ERRORS},
    summary="Replace a task",
)
async def replace_task(
    db: Db, task_id: TaskId, task: TaskReplace, if_match: IfMatch = None
) -> Response:
    version, code = precondition(if_match, task.version)
    params = {**task.model_dump(), "id": task_id, "version": version}
    return await write_one(db, REPLACE_TASK, params, code)


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    dependencies=Body,
    responses={200: {"headers": ETAG_HEADER}, **WRITE_ERRORS},
    summary="Change some fields of a task",
)
async def patch_task(
    db: Db, task_id: TaskId, patch: TaskPatch, if_match: IfMatch = None
) -> Response:
    version, code = precondition(if_match, patch.version)
    params = {"id": task_id, "changes": Jsonb(patch.changes()), "version": version}
    return await write_one(db, PATCH_TASK, params, code)


@router.patch(
    "/{task_id}/toggle",
    response_model=TaskPublic,
    responses={200: {"headers": ETAG_HEADER}, **PRECONDITION_ERRORS},
    summary="Flip a task's completed flag",
)
async def toggle_task(db: Db, task_id: TaskId, if_match: IfMatch = None) -> Response:
    """Atomic in the database: two toggles never read the same value."""
    version, code = precondition(if_match, None)
    return await write_one(db, TOGGLE_TASK, {"id": task_id, "version": version}, code)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=PRECONDITION_ERRORS,
    summary="Delete a task",
)
async def delete_task(db: Db, task_id: TaskId, if_match: IfMatch = None) -> Response:
    version, code = precondition(if_match, None)
    (deleted,) = await db.one(DELETE_TASK, {"id": task_id, "version": version})
    if deleted is None:
        not_found()
    if not deleted:
        raise HTTPException(code, detail=PRECONDITION_FAILED)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The hackathon form: /api/{user_id}/tasks[...] runs the same handlers (app.begin_request answers
# 403 when the URL names someone else; see deps.request_database), and names toggle /complete.
complete_router = APIRouter()
complete_router.add_api_route(
    "/{task_id}/complete", toggle_task, methods=["PATCH"], response_model=TaskPublic
)

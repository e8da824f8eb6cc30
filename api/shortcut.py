"""The task routes' shortcut past FastAPI's per-request machinery.

Routing through the included routers, dependency solving, parameter validation and the Request
and response wrapping cost each task request more CPU than its database work
(how-to/benchmark.md). This middleware calls the very handlers of api/routes/tasks.py with the
arguments FastAPI would give them, but only when it can read the request without doubt: a known
path and method, a bearer token that verifies, a task id of plain digits within range, a JSON
body that the handler's model accepts, at most one of each header it reads.

Anything else goes on to FastAPI untouched (a body already read is replayed), and FastAPI answers
as it always has: a missing or bad token, a malformed id or body, an unknown method, so every
error keeps one source. Nothing reaches the database before that decision. Exceptions the handlers
raise (404, 409, 412, a database error) get the app's own exception handlers; anything without
one goes on to the server-error handler, as from a route.
"""

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import authenticate, database_for
from api.identity.tokens import InvalidTokenError
from api.models import TaskCreate, TaskPatch, TaskReplace
from api.routes import tasks
from api.web.middleware import replaying

# The forms FastAPI serves the task routes under (api/main.py): /api/tasks, /tasks, and
# /api/{user_id}/tasks, which alone has /complete. A path matching neither goes on to FastAPI.
TASKS = re.compile(r"/(?:api/)?tasks(?:/(?P<id>[0-9]{1,19})(?P<action>/toggle)?)?")
PER_USER = re.compile(
    r"/api/(?P<user_id>[^/]+)/tasks(?:/(?P<id>[0-9]{1,19})(?P<action>/toggle|/complete)?)?"
)
READ_HEADERS = frozenset({b"authorization", b"content-type", b"if-match"})


@dataclass(frozen=True)
class Handler:
    """A task handler, called as handler(db[, task_id][, body][, if_match])."""

    endpoint: Callable[..., Awaitable[Response]]
    body: type[BaseModel] | None = None
    if_match: bool = False


# (method, has a task id, action) -> the handler FastAPI routes it to.
HANDLERS: dict[tuple[str, bool, str | None], Handler] = {
    ("GET", False, None): Handler(tasks.list_tasks),
    ("POST", False, None): Handler(tasks.create_task, body=TaskCreate),
    ("GET", True, None): Handler(tasks.get_task),
    ("PUT", True, None): Handler(tasks.replace_task, body=TaskReplace, if_match=True),
    ("PATCH", True, None): Handler(tasks.patch_task, body=TaskPatch, if_match=True),
    ("PATCH", True, "/toggle"): Handler(tasks.toggle_task, if_match=True),
    ("PATCH", True, "/complete"): Handler(tasks.toggle_task, if_match=True),
    ("DELETE", True, None): Handler(tasks.delete_task, if_match=True),
}


class TaskShortcut:
    """Innermost of the app's own middleware: inside CORS, request ids, admission control and
    the body limit, outside FastAPI's exception middleware and router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = None if scope.get("root_path") else match(scope["path"], scope["method"])
        if route is None:  # (behind a root path, FastAPI's own routing knows what to strip)
            await self.app(scope, receive, send)
            return
        handler, task_id, user_id = route
        headers = read_headers(scope["headers"])
        if headers is None:
            await self.app(scope, receive, send)
            return
        scheme, token = get_authorization_scheme_param(headers.get(b"authorization"))
        if scheme.lower() != "bearer" or not token:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        args: list[Any] = []
        forward = receive  # FastAPI's channel if the shortcut declines: any body read, replayed
        if handler.body is not None:
            try:
                body = await request.body()  # the body limit outside holds it to its size
            except ClientDisconnect:  # nobody to answer
                return
            forward = replaying([{"type": "http.request", "body": body}], receive)
            model = read_model(handler.body, headers.get(b"content-type", ""), body)
            if model is None:
                await self.app(scope, forward, send)
                return
            args.append(model)
        if user_id is not None:
            scope["path_params"] = {"user_id": user_id}
        try:
            caller = await authenticate(request, token)
        except InvalidTokenError:
            await self.app(scope, forward, send)
            return
        if task_id is not None:
            args.insert(0, task_id)
        if handler.if_match:
            args.append(headers.get(b"if-match"))
        try:
            response = await handler.endpoint(database_for(request, caller), *args)
        except Exception as exc:  # noqa: BLE001 - handed to the app's handler for it, if any
            response = await handled(scope["app"], request, exc)
        await response(scope, receive, send)


def match(path: str, method: str) -> tuple[Handler, int | None, str | None] | None:
    """(handler, task id, the user id the URL names) for a task route FastAPI would pick too,
    else None."""
    found = TASKS.fullmatch(path)
    user_id = None
    if found is None:
        found = PER_USER.fullmatch(path)
        if found is None:
            return None
        user_id = found["user_id"]
        if user_id == "tasks":  # /api/tasks/tasks/...: FastAPI tries /api/tasks/{task_id} first
            return None
    digits = found["id"]
    task_id = int(digits) if digits is not None else None
    if task_id is not None and not 1 <= task_id <= tasks.MAX_ID:
        return None
    handler = HANDLERS.get((method, task_id is not None, found["action"]))
    return None if handler is None else (handler, task_id, user_id)


def read_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, str] | None:
    """The headers the shortcut reads, decoded as Starlette does; None when one is repeated."""
    headers: dict[bytes, str] = {}
    for name, value in raw:
        if name in READ_HEADERS:
            if name in headers:
                return None
            headers[name] = value.decode("latin-1")
    return headers


def read_model(model: type[BaseModel], content_type: str, body: bytes) -> BaseModel | None:
    """The body as FastAPI would give it to the handler: JSON, parsed, then validated; None
    when FastAPI would answer 415, 400 or 422 instead."""
    if not tasks.is_json(content_type):
        return None
    try:
        return model.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError too
        return None


async def handled(app: FastAPI, request: Request, exc: Exception) -> Response:
    """What the app's exception handler for `exc` answers, as FastAPI's exception middleware
    would; re-raises `exc` when only the catch-all (the server-error handler) is left."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            break
        if (handler := app.exception_handlers.get(cls)) is not None:
            response = handler(request, exc)
            return await response if inspect.isawaitable(response) else response
    raise exc

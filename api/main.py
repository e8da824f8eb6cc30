"""Assembles the application: settings, pool, middleware, error handlers, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import memory
from api.database.requests import create_pool
from api.identity.tokens import VerifiedTokens
from api.routes import auth, meta, tasks
from api.settings import Settings, load_settings
from api.shortcut import TaskShortcut
from api.web import errors
from api.web.admission import Admission
from api.web.middleware import BodyLimit, RequestId

MAX_BODY_BYTES = 64 * 1024

DESCRIPTION = """
Per-user task lists on PostgreSQL. Every request carries `Authorization: Bearer <JWT>`;
PostgreSQL's row-level security decides what the caller can see and change.

Single-task responses carry an `ETag` (the task's version). Send it back in `If-Match` on
PUT, PATCH, toggle and DELETE to get 412 instead of overwriting someone else's change.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.jwks = None
    if settings.jwks_url is not None:
        from api.identity.better_auth import Jwks

        app.state.jwks = Jwks(settings.jwks_url)
    try:
        async with create_pool(settings, app.state.conninfo) as pool:
            # Opened without waiting for connections: the service starts, /readyz says
            # whether the database answers, and requests get 503 until it does.
            app.state.pool = pool
            yield
    finally:
        if app.state.jwks is not None:
            await app.state.jwks.aclose()


def create_app(settings: Settings, conninfo: str | None = None) -> FastAPI:
    """`conninfo` overrides settings.database_url (the embedded server's URL, a test database)."""
    app = FastAPI(
        title="todo-api",
        version=version("todo-api"),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.conninfo = conninfo or settings.database_url
    app.state.verified_tokens = VerifiedTokens()
    settings.secret  # noqa: B018 - refuse to build an app that cannot verify tokens
    # Outermost last: CORS wraps everything, so even a 413 or a busy 503 carries its headers; a
    # body over the limit is refused before it queues, and a queued request's body is bounded.
    app.add_middleware(TaskShortcut)
    app.add_middleware(
        Admission,
        limit=settings.active_requests,
        timeout=settings.pool_timeout,
        exempt=frozenset({"/healthz", "/readyz"}),
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestId)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.frontend_url,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
    )
    errors.install(app)
    app.include_router(meta.router)
    app.include_router(auth.router, prefix="/api/auth")
    app.include_router(tasks.router, prefix="/api/tasks", tags=["tasks"])
    app.include_router(tasks.router, prefix="/tasks", tags=["tasks"], include_in_schema=False)
    for per_user in (tasks.router, tasks.complete_router):
        app.include_router(per_user, prefix="/api/{user_id}/tasks", include_in_schema=False)
    return app


def app_from_environment() -> FastAPI:
    """For each of several server processes (WORKERS > 1): settings from the environment,
    which `todo-api serve` has completed (the embedded database's URL, the development secret)."""
    app = create_app(load_settings())
    memory.tune_for_serving()
    return app

"""Assembles the application: settings, pool, middleware, error handlers, routes."""

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig

from api import memory, observability
from api.database.availability import Availability
from api.database.migrate import migrate
from api.database.pool import create_pool
from api.identity.audit import RejectionSampler
from api.identity.better_auth import Jwks
from api.identity.tokens import VerifiedTokens
from api.observability.logs import hide_settings
from api.routes import account, auth, meta, tasks
from api.settings import Settings, load_settings
from api.web import errors
from api.web.admission import Admission
from api.web.edge import Edge
from api.web.shutdown import Shutdown

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("api")
FIRST_RETRY_DELAY = 0.1  # seconds; then twice as long each time, up to DATABASE_RETRY_MAX_DELAY

# FastAPI's own OpenTelemetry support asks on every request whether a provider has been set up.
# Off even when tracing is on: then the contrib instrumentation (api.observability.tracing)
# opens the server span, and FastAPI's would be a second one for the same request.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
]

DESCRIPTION = """
Per-user task lists on PostgreSQL. Every request carries `Authorization: Bearer <JWT>`;
PostgreSQL's row-level security decides what the caller can see and change.

Single-task responses carry an `ETag` (the task's version). Send it back in `If-Match` on
PUT, PATCH, toggle and DELETE to get 412 instead of overwriting someone else's change.

The list carries an `ETag` for the caller's whole list: send it back in `If-None-Match` to get
304 while nothing has changed. `GET /api/tasks/changes` is the change feed: the tasks written
and the ids deleted since a cursor, for clients that keep a local copy in sync
(how-to/sync-a-frontend.md).
"""


def documented_headers(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document, with the headers the edge middleware (api.web.edge) and the
    error answers (api.web.errors) put on responses of every route, which no route declares."""

    def document() -> dict[str, Any]:
        spec = openapi()
        for item in spec.get("paths", {}).values():
            for operation in item.values():
                for code, response in operation.get("responses", {}).items():
                    headers = response.setdefault("headers", {})
                    headers.setdefault("X-Request-ID", REQUEST_ID_HEADER)
                    if code in ("429", "503"):
                        headers.setdefault("Retry-After", RETRY_AFTER_HEADER)
        return spec

    return document


REQUEST_ID_HEADER = {
    "description": "The request's id: the caller's own X-Request-ID when it sent a valid one, "
    "else a new one; in the service's log lines too",
    "schema": {"type": "string", "example": "4bf92f3577b34da6a3ce929d0e0e4736"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "example": 1},
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    settings: Settings = app.state.settings
    app.state.jwks = None if settings.jwks_url is None else Jwks(settings.jwks_url)
    availability = Availability(
        app.state.conninfo,
        min_delay=FIRST_RETRY_DELAY,
        max_delay=settings.database_retry_max_delay,
        connect_timeout=settings.pool_timeout,
    )
    app.state.availability = availability
    try:
        async with create_pool(settings, app.state.conninfo, availability) as pool:
            # Opened without waiting for connections: the service starts, /readyz says
            # whether the database answers, and requests get 503 until it does
            # (api.database.availability).
            app.state.pool = pool
            await availability.start(migration(app.state.migration_url))
            shutdown = Shutdown(settings.shutdown_timeout, pool, availability)
            try:
                async with observability.sampling(app):
                    # The lifespan state, which uvicorn's protocol sees too (api/web/server.py).
                    yield {"shutdown": shutdown}
            finally:
                shutdown.stop()
                await availability.stop()
    finally:
        if app.state.jwks is not None:
            await app.state.jwks.aclose()


def migration(url: str | None) -> Callable[[], Awaitable[None]] | None:
    """The start-up's migrate step, when the app was asked for one (`todo-api serve`)."""
    if url is None:
        return None

    async def run() -> None:
        applied = await asyncio.to_thread(migrate, url)
        log.info("migrations applied: %s", ", ".join(applied) or "none pending")

    return run


def create_app(
    settings: Settings,
    conninfo: str | None = None,
    *,
    migration_url: str | None = None,
    tracer_provider: "TracerProvider | None" = None,
) -> FastAPI:
    """`conninfo` overrides settings.database_url (the embedded server's URL, a test database);
    with `migration_url`, the app migrates the database through it before it is ready;
    `tracer_provider` traces the app's requests whatever the OTEL_* variables say (tests)."""
    app = FastAPI(
        title="todo-api",
        version=version("todo-api"),
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,  # api.web.paths takes a trailing slash on the task routes
        telemetry=TELEMETRY_OFF,
    )
    settings.require_secret()  # refuse to build an app that cannot verify tokens
    hide_settings(settings, conninfo)  # no log line shows a secret this app knows
    app.state.settings = settings
    app.state.conninfo = conninfo or settings.database_url
    app.state.migration_url = migration_url
    app.state.verified_tokens = VerifiedTokens()
    app.state.rejections = RejectionSampler()
    # Outermost last: CORS wraps everything, so even a 413 or a busy 503 carries its headers; a
    # body over the limit is refused before it queues. Each layer runs on every request.
    app.add_middleware(
        Admission,
        limit=settings.active_requests,
        timeout=settings.pool_timeout,
        exempt=frozenset({"/healthz", "/readyz", "/metrics"}),
    )
    app.add_middleware(Edge, max_body_bytes=MAX_BODY_BYTES, hsts_max_age=settings.hsts_max_age)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.frontend_url,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
    )
    observability.install(app, tracer_provider)  # outermost: every answer is counted and logged
    errors.install(app)
    # The task routes first, ahead of the documentation's own, and in the app's own route table
    # rather than included (an included router is one more routing step): routing tries routes
    # in order, and these take most requests.
    app.router.routes[0:0] = tasks.router.routes
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(meta.router)
    app.openapi = documented_headers(app.openapi)  # type: ignore[method-assign]
    return app


# Set by `todo-api serve` for its worker processes: each migrates before it is ready (yoyo's lock
# makes them take turns; all but the first find nothing pending).
MIGRATE_VARIABLE = "TODO_API_MIGRATE_ON_START"


def app_from_environment() -> FastAPI:
    """For each of several server processes (WORKERS > 1): settings from the environment,
    which `todo-api serve` has completed (the embedded database's URL, the development secret)."""
    settings = load_settings()
    migrate_first = os.environ.get(MIGRATE_VARIABLE) == "1"
    app = create_app(settings, migration_url=settings.owner_database_url if migrate_first else None)
    memory.tune_for_serving()
    return app

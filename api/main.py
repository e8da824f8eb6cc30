"""Assembles the application: settings, pool, middleware, error handlers, routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig

from api import memory
from api.database.pool import create_pool
from api.identity.audit import RejectionSampler
from api.identity.better_auth import Jwks
from api.identity.tokens import VerifiedTokens
from api.routes import account, auth, meta, tasks
from api.settings import Settings, load_settings
from api.web import errors
from api.web.admission import Admission
from api.web.edge import Edge

MAX_BODY_BYTES = 64 * 1024

# FastAPI's own OpenTelemetry support asks on every request whether a provider has been set up;
# none is, so the answer is always no and the question is skipped.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

DESCRIPTION = """
Per-user task lists on PostgreSQL. Every request carries `Authorization: Bearer <JWT>`;
PostgreSQL's row-level security decides what the caller can see and change.

Single-task responses carry an `ETag` (the task's version). Send it back in `If-Match` on
PUT, PATCH, toggle and DELETE to get 412 instead of overwriting someone else's change.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.jwks = None if settings.jwks_url is None else Jwks(settings.jwks_url)
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
        redirect_slashes=False,  # api.web.paths takes a trailing slash on the task routes
        telemetry=TELEMETRY_OFF,
    )
    settings.require_secret()  # refuse to build an app that cannot verify tokens
    app.state.settings = settings
    app.state.conninfo = conninfo or settings.database_url
    app.state.verified_tokens = VerifiedTokens()
    app.state.rejections = RejectionSampler()
    # Outermost last: CORS wraps everything, so even a 413 or a busy 503 carries its headers; a
    # body over the limit is refused before it queues. Each layer runs on every request.
    app.add_middleware(
        Admission,
        limit=settings.active_requests,
        timeout=settings.pool_timeout,
        exempt=frozenset({"/healthz", "/readyz"}),
    )
    app.add_middleware(Edge, max_body_bytes=MAX_BODY_BYTES, hsts_max_age=settings.hsts_max_age)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.frontend_url,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
    )
    errors.install(app)
    # The task routes first, ahead of the documentation's own, and in the app's own route table
    # rather than included (an included router is one more routing step): routing tries routes
    # in order, and these take most requests.
    app.router.routes[0:0] = tasks.router.routes
    app.include_router(auth.router)
    app.include_router(account.router)
    app.include_router(meta.router)
    return app


def app_from_environment() -> FastAPI:
    """For each of several server processes (WORKERS > 1): settings from the environment,
    which `todo-api serve` has completed (the embedded database's URL, the development secret)."""
    app = create_app(load_settings())
    memory.tune_for_serving()
    return app

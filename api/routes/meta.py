"""What a person or an orchestrator asks of the service itself: who it is, is it alive, is it
ready to serve (its database answers)."""

import asyncio
from importlib.metadata import version
from typing import Any

import psycopg
from fastapi import APIRouter, Request
from psycopg_pool import PoolTimeout

from api.database.availability import DatabaseUnavailableError
from api.routes.responses import error
from api.web.unavailable import database_unavailable

READY_TIMEOUT_SECONDS = 2.0

router = APIRouter(tags=["service"])


@router.get("/", summary="Name, version and links")
async def root() -> dict[str, Any]:
    return {
        "name": "todo-api",
        "version": version("todo-api"),
        "links": {
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/healthz",
            "ready": "/readyz",
            "tasks": "/api/tasks",
        },
    }


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses=error(503, "The database does not answer", "Database unavailable, retry later"),
)
async def readyz(request: Request) -> Any:
    """Ready when the database answered a round trip just now. While it is known not to
    answer (at start-up, until it has been reached and migrated; during an outage), 503 at
    once."""
    if request.app.state.availability.reason is not None:
        return database_unavailable()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.pool.connection() as conn:
                await conn.execute("select")
    except (psycopg.Error, PoolTimeout, TimeoutError, DatabaseUnavailableError):
        request.app.state.availability.suspect()
        return database_unavailable()
    return {"status": "ready"}

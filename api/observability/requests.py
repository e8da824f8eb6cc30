"""The one place observability joins the request path: a pure-ASGI layer, outermost among the
application's own, that times each request, counts it (api.observability.metrics) and writes
its log line.

The log line (logger `api.request`, level info) names the route by its template, so the lines
of one route group together and a task id in the URL is not a field of its own; `path` is the
path as sent, cut to PATH_CHARS, for the unmatched ones. `user_id` is the caller a credential
was verified for (absent for a Better Auth session token, which only the database resolves,
and for anonymous requests). `trace_id` is the request's trace: the server span's when tracing
is on, else the one an incoming W3C `traceparent` names, so a line can be found from a trace
that began upstream even when this service exports none.
"""

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability.metrics import UNMATCHED, RequestMetrics

log = logging.getLogger("api.request")

PATH_CHARS = 256
# version-traceid-parentid-flags; an all-zero trace id is invalid (W3C Trace Context).
TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
INVALID_TRACE = "0" * 32


def route_of(scope: Scope) -> str:
    """The template of the route that answered, e.g. /api/tasks/{task_id}."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED


def incoming_trace_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"traceparent":
            match = TRACEPARENT.fullmatch(value.strip())
            trace_id = match.group(1).decode() if match else None
            return None if trace_id == INVALID_TRACE else trace_id
    return None


class Observe:
    """Times, counts and logs every HTTP request. `current_trace_id`, when tracing is on,
    returns the current span's trace id (api.observability.tracing)."""

    def __init__(self, app: ASGIApp, current_trace_id: Any = None) -> None:
        self.app = app
        self.metrics = RequestMetrics()
        self.current_trace_id = current_trace_id
        self.in_flight = 0  # sampled into its gauge (api.observability.metrics.sample)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        trace_id = self.current_trace_id() if self.current_trace_id else None
        self.in_flight += 1
        try:
            await self.app(scope, receive, send_watched)
        except BaseException:
            # An error the handlers did not answer (api.web.errors logs its traceback), or a
            # cancelled request (its client left): counted as the 500 it would have been.
            status = status or 500
            raise
        finally:
            self.in_flight -= 1
            seconds = time.perf_counter() - started
            route = route_of(scope)
            self.metrics.observe(route, scope["method"], status, seconds)
            if log.isEnabledFor(logging.INFO):
                self.log(scope, route, status, seconds, trace_id)

    def log(self, scope: Scope, route: str, status: int, seconds: float, trace_id: Any) -> None:
        state = scope.get("state") or {}
        client = scope.get("client")
        fields = {
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "request_id": state.get("request_id"),
            "user_id": state.get("user_id"),
            "client": client[0] if client else None,
            "trace_id": trace_id or incoming_trace_id(scope),
        }
        if route == UNMATCHED:
            fields["path"] = scope["path"][:PATH_CHARS]
        log.info("request", extra={"request": fields})  # api.observability.logs

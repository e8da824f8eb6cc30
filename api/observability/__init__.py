"""Logs, metrics and traces (how-to/observe.md): `install` joins them to an application."""

from typing import TYPE_CHECKING

from fastapi import FastAPI

from api.observability.metrics import sampling

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

__all__ = ["install", "sampling"]


def install(app: FastAPI, tracer_provider: "TracerProvider | None" = None) -> None:
    """Adds the request layer (outermost of the application's own, so that every answer is
    counted, a 413 or a busy 503 too), GET /metrics, and tracing: with `tracer_provider`, or
    when the environment asks for it. Call it after the other middleware is added."""
    # Imported here: the routes and the identity modules import the metrics from this package.
    from api.observability import scrape, tracing
    from api.observability.requests import Observe

    current_trace_id = None
    if tracer_provider is None and tracing.requested():
        tracer_provider = tracing.provider_from_environment()
        from opentelemetry import trace

        trace.set_tracer_provider(tracer_provider)  # for any other instrumented library
    if tracer_provider is not None:
        current_trace_id = tracing.instrument(app, tracer_provider)
    app.add_middleware(Observe, current_trace_id=current_trace_id)
    app.include_router(scrape.router)

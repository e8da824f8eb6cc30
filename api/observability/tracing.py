"""OpenTelemetry tracing, on only when the standard OTEL_* variables ask for it.

On, the maintained instrumentations do the work: opentelemetry-instrumentation-fastapi opens a
server span per request (W3C `traceparent` honoured: an incoming trace is continued), named by
the route template, and opentelemetry-instrumentation-psycopg a client span per statement
below it. Spans go to an OTLP collector over HTTP/protobuf (the exporter reads
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS and
the rest itself), or to stdout with OTEL_TRACES_EXPORTER=console.

Off (the default), nothing is imported or wrapped: the request path is what it is without it.

FastAPI's own telemetry stays off in both cases (api.main.TELEMETRY_OFF): with the contrib
instrumentation on, its server span would be a second one for the same request.
"""

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# Health checks and scrapes come every few seconds and say nothing about the service's work.
NOT_TRACED = "/healthz,/readyz,/metrics"


def requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint, or a traces exporter other
    than `none`, and the SDK not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def provider_from_environment(environ: Mapping[str, str] = os.environ) -> "TracerProvider":
    """A tracer provider that batches spans to the exporter the environment names. Its
    resource reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, the service name defaulting
    to todo-api."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or "todo-api"})
    provider = TracerProvider(resource=resource)
    exporter: SpanExporter
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def instrument(app: FastAPI, provider: "TracerProvider") -> Callable[[], str | None]:
    """Traces `app`'s requests and the process's psycopg connections (a connection opened
    after this call) with `provider`. Returns what the request log asks for the trace id."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=NOT_TRACED,
        exclude_spans=["receive", "send"],  # one span per ASGI message is noise, and costs
    )
    psycopg = PsycopgInstrumentor()
    if not psycopg.is_instrumented_by_opentelemetry:
        psycopg.instrument(tracer_provider=provider, skip_dep_check=True)

    def current_trace_id() -> str | None:
        context = trace.get_current_span().get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None

    return current_trace_id


def uninstrument_database() -> None:
    """Undoes the process-wide psycopg instrumentation (tests)."""
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    PsycopgInstrumentor().uninstrument()

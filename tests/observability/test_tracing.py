"""Tracing with the SDK's in-memory exporter: a server span per request with the database's
spans below it, an incoming W3C traceparent continued, and the trace id in the request's log
line. When tracing is off, nothing is instrumented."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api.main import create_app
from api.observability import tracing
from tests.conftest import app_settings, http_client
from tests.observability.capture import captured, request_lines
from tests.utils.tokens import auth

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    tracing.uninstrument_database()  # psycopg's instrumentation is process-wide


@pytest.fixture
async def traced(
    database_url: str, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(app_settings(database_url), tracer_provider=provider)
    async with http_client(app) as client:
        yield client


def server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [span] = [span for span in spans if span.kind is SpanKind.SERVER and span.name == name]
    return span


async def test_a_request_is_a_server_span_with_database_spans_below_it(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    created = await traced.post("/api/tasks", json={"title": "a"}, headers=auth())
    exporter.clear()
    with captured() as stream:
        got = await traced.get(f"/api/tasks/{created.json()['id']}", headers=auth())
    assert got.status_code == 200
    spans = exporter.get_finished_spans()
    server = server_span(spans, "GET /api/tasks/{task_id}")
    assert server.attributes is not None
    assert server.attributes.get("http.route") == "/api/tasks/{task_id}"
    database = [span for span in spans if span.kind is SpanKind.CLIENT]
    assert database, [span.name for span in spans]
    for span in database:
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
        assert span.context.trace_id == server.context.trace_id
        assert span.attributes is not None
        assert "app.get_task" in str(span.attributes.get("db.statement", span.name))
    [line] = request_lines(stream)
    assert line["trace_id"] == format(server.context.trace_id, "032x")


async def test_an_incoming_traceparent_is_continued(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    with captured() as stream:
        listed = await traced.get("/api/tasks", headers={**auth(), "traceparent": traceparent})
    assert listed.status_code == 200
    server = server_span(exporter.get_finished_spans(), "GET /api/tasks")
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == PARENT_ID
    assert request_lines(stream)[0]["trace_id"] == TRACE_ID


async def test_health_checks_and_scrapes_get_no_server_span(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await traced.get(path)).status_code == 200
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans if span.kind is SpanKind.SERVER] == []
    # /readyz's probe of the database is the one span left, a root of its own.
    assert [(span.name, span.parent) for span in spans] == [("select", None)]


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_tracing_is_on_only_when_the_environment_asks(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing.requested(environ) is wanted


def test_without_tracing_nothing_is_instrumented(database_url: str) -> None:
    app = create_app(app_settings(database_url))
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    assert not PsycopgInstrumentor().is_instrumented_by_opentelemetry

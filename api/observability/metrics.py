"""The service's Prometheus metrics (prometheus-client), and what keeps the sampled ones current.

With several server processes (WORKERS > 1) `todo-api serve` sets PROMETHEUS_MULTIPROC_DIR
before the workers start: each process then writes its values to files there, and whichever
process answers a scrape adds them all up (the client's multiprocess mode). The variable must
be set before this module is imported, which is why the workers, not the parent, import it.

Counters and histograms are updated where things happen, except the per-request ones: each
request adds to plain Python numbers, which reach prometheus-client with the sampled gauges.
Gauges that describe a state (the pool, the admission queue, the requests in flight, the
hashing queue) are sampled: every SAMPLE_SECONDS in each process, and once more by the process
that answers a scrape, so the request path pays nothing for them. A scrape may then miss the
last second of another process's requests, never count one twice.

Labels are bounded: a route is its template (`/api/tasks/{task_id}`), or "unmatched" for a path
no route knows; a status is a number the service itself answered; a SQLSTATE is cut to its
two-character class.
"""

import asyncio
import os
from bisect import bisect_left
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
SAMPLE_SECONDS = 1.0
UNMATCHED = "unmatched"
# Seconds; the task routes answer in milliseconds, a sign-in in tens of them, a queued request
# after up to POOL_TIMEOUT.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "todo_api_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "todo_api_http_request_duration_seconds",
    "Time from a request's arrival at the application to the end of its answer.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    "todo_api_http_requests_in_flight",
    "Requests inside the application now (queued for admission included).",
    multiprocess_mode="livesum",
)
ADMISSION_ACTIVE = Gauge(
    "todo_api_admission_active",
    "Requests holding an admission place (at most MAX_ACTIVE_REQUESTS per process).",
    multiprocess_mode="livesum",
)
ADMISSION_QUEUE = Gauge(
    "todo_api_admission_queue_length",
    "Requests waiting for an admission place.",
    multiprocess_mode="livesum",
)
ADMISSION_WAIT = Histogram(
    "todo_api_admission_wait_seconds",
    "Time a request waited for an admission place, by how the wait ended: admitted, expired "
    "(answered 503), gone (the client hung up). Requests admitted at once are not counted.",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
POOL_SIZE = Gauge(
    "todo_api_db_pool_size",
    "Connections the pool holds, in use or idle.",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "todo_api_db_pool_max_size",
    "Connections the pool may open (POOL_MAX_SIZE per process).",
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "todo_api_db_pool_connections_in_use",
    "Pooled connections lent to a request.",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "todo_api_db_pool_requests_waiting",
    "Requests waiting for a pooled connection.",
    multiprocess_mode="livesum",
)
DB_ERRORS = Counter(
    "todo_api_db_errors",
    "Errors from PostgreSQL that reached a request, by SQLSTATE class (the code's first two "
    "characters: 08 connection, 23 integrity, 40 transaction rollback, 42 access or syntax, "
    "PT the service's own HTTP answers) or 'none' when the error carried no SQLSTATE "
    "(the server could not be reached).",
    ["sqlstate_class"],
)
POOL_TIMEOUTS = Counter(
    "todo_api_db_pool_timeouts",
    "Requests that got no pooled connection within POOL_TIMEOUT (answered 503).",
)
AUTH_FAILURES = Counter(
    "todo_api_auth_failures",
    "Refused authentication, by reason: token_rejected (a bearer credential that cannot be "
    "trusted), sign_in_failed, rate_limited, refresh_invalid, refresh_reused.",
    ["reason"],
)
HASH_QUEUE = Gauge(
    "todo_api_password_hash_queue_length",
    "Password hashes waiting or running in the hashing threads.",
    multiprocess_mode="livesum",
)
HASH_QUEUE_LIMIT = Gauge(
    "todo_api_password_hash_queue_limit",
    "Hashes the queue takes before it answers 503.",
    multiprocess_mode="livesum",
)
HASH_BUSY = Counter(
    "todo_api_password_hash_refused",
    "Sign-ups and sign-ins answered 503 because the hashing queue was full.",
)

AUTH_FAILURE_REASONS = frozenset(
    {"token_rejected", "sign_in_failed", "rate_limited", "refresh_invalid", "refresh_reused"}
)


def database_error(sqlstate: str | None) -> None:
    DB_ERRORS.labels(sqlstate[:2] if sqlstate else "none").inc()


def auth_failure(reason: str) -> None:
    if reason in AUTH_FAILURE_REASONS:  # other audit events are not failures
        AUTH_FAILURES.labels(reason).inc()


class Pending:
    """One (route, method, status)'s requests since the last flush."""

    __slots__ = ("buckets", "count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last is +Inf


class RequestMetrics:
    """Counts answered requests. A request adds to plain numbers (`observe`); `flush` hands
    them to prometheus-client. Its counter and histogram take a lock and, with several
    processes, write to a memory-mapped file for each value, on every call: together more than
    the rest of the request's bookkeeping (how-to/observe.md)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, str, int], Pending] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        entry = self.pending.get((route, method, status))
        if entry is None:
            entry = self.pending[route, method, status] = Pending()
        entry.count += 1
        entry.seconds += seconds
        entry.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: seconds <= bound

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for (route, method, status), entry in pending.items():
            REQUESTS.labels(route, method, str(status)).inc(entry.count)
            # prometheus-client observes one value at a time; its child's bucket and sum values
            # take a batch (tests/observability/test_metrics.py reads the buckets back).
            histogram = LATENCY.labels(route, method)
            histogram._sum.inc(entry.seconds)
            for bucket, count in zip(histogram._buckets, entry.buckets, strict=True):
                if count:
                    bucket.inc(count)


def layer_of(app: Any, kind: type) -> Any:
    """The app's middleware of class `kind`, found in its built middleware stack (each layer
    holds the next as `app`); None before the stack is built or without one."""
    layer = getattr(app, "middleware_stack", None)
    for _ in range(32):  # a handful of layers; the bound guards against a cycle
        if layer is None or isinstance(layer, kind):
            return layer
        layer = getattr(layer, "app", None)
    return None


def sample(app: Any) -> None:
    """Sets the sampled gauges from this process's pool, admission, requests in flight and
    hashing queue."""
    from api.identity import accounts
    from api.observability.requests import Observe
    from api.web.admission import Admission

    state = app.state
    pool: AsyncConnectionPool[AsyncConnection] | None = getattr(state, "pool", None)
    if pool is not None:
        stats = pool.get_stats()
        size = stats.get("pool_size", 0)
        POOL_SIZE.set(size)
        POOL_MAX.set(stats.get("pool_max", pool.max_size))
        POOL_IN_USE.set(size - stats.get("pool_available", 0))
        POOL_WAITING.set(stats.get("requests_waiting", 0))
    observe = layer_of(app, Observe)
    if observe is not None:
        observe.metrics.flush()
        IN_FLIGHT.set(observe.in_flight)
    admission = layer_of(app, Admission)
    if admission is not None:
        ADMISSION_ACTIVE.set(admission.inside)
        ADMISSION_QUEUE.set(sum(not turn.done() for turn in admission.waiting))
    HASH_QUEUE.set(accounts.queue.size)
    HASH_QUEUE_LIMIT.set(accounts.queue.limit)


@asynccontextmanager
async def sampling(app: Any) -> AsyncIterator[None]:
    """Keeps the sampled gauges current while the application runs; on the way out, in
    multiprocess mode, drops this process's live gauges so they stop counting."""

    async def every_interval() -> None:
        while True:
            sample(app)
            await asyncio.sleep(SAMPLE_SECONDS)

    task = asyncio.create_task(every_interval(), name="metrics-sampler")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        sample(app)  # the last requests' counts
        if MULTIPROCESS:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def exposition(app: Any) -> tuple[bytes, str]:
    """The text a scrape gets, and its content type: this process's own values, or with
    several processes every live process's, added up."""
    sample(app)
    if not MULTIPROCESS:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST

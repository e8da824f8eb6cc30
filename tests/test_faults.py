"""Faults under a write load, as tests: `todo-api serve` on a test database, several threads
creating tasks over HTTP with unique titles, and meanwhile the service's database connections
terminated again and again (`pg_terminate_backend`, as a superuser on the test server).

What the service promises (how-to/operate-through-outages.md): a dead idle connection is
found before anything is sent on it, so the write runs once on a live one; a connection that
breaks under a write is never run again, and the client gets 503, because the service cannot
know whether the statement committed. So afterwards every write answered 201 is stored, and a
stored write that was not answered 201 must be one answered that 503: never a 500, never a
write refused in any other way."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.utils.service import service
from tests.utils.tokens import auth

WRITERS = 6
SECONDS = 8.0  # of writing
SWEEP_EVERY = 0.15  # seconds between two sweeps of terminations
LOST = "Database unavailable, retry later"  # the 503 of a connection that broke under a write

# The service's own connections: every client backend of the test database but the sweeper's.
SWEEP = """
    select count(*) filter (where pg_terminate_backend(pid))
      from pg_stat_activity
     where datname = current_database() and backend_type = 'client backend'
       and pid <> pg_backend_pid()
"""


@dataclass
class Writes:
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)  # title: status, detail
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, title: str, status: int, detail: str) -> None:
        with self.lock:
            self.answers[title] = (status, detail)


def write(base: str, writer: int, until: float, writes: Writes) -> None:
    headers = auth(f"fault-writer-{writer}")
    with httpx.Client(base_url=base, timeout=30) as client:
        n = 0
        while time.monotonic() < until:
            title = f"w{writer}-{n}"
            n += 1
            try:
                response = client.post("/api/tasks", json={"title": title}, headers=headers)
            except httpx.TransportError as exc:  # the service must never drop a request
                writes.record(title, 0, repr(exc))
                continue
            detail = response.json().get("detail", "") if response.status_code >= 400 else ""
            writes.record(title, response.status_code, str(detail))


def sweep(database_url: str, stop: threading.Event, swept: list[int]) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.wait(SWEEP_EVERY):
            row = conn.execute(SWEEP).fetchone()
            swept.append(row[0] if row else 0)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    with service(
        database_url, "--no-migrate", cwd=tmp_path, LOG_LEVEL="warning", POOL_MAX_SIZE="4",
        POOL_TIMEOUT="10", DATABASE_RETRY_MAX_DELAY="0.2",
    ) as running:  # fmt: skip
        yield running.base
        running.terminate()
        assert running.wait() == 0, running.output[-5000:]
        assert "Traceback" not in running.output, running.output[-5000:]


def test_terminated_connections_lose_no_acknowledged_write(served: str, database_url: str) -> None:
    writes, stop = Writes(), threading.Event()
    swept: list[int] = []  # backends each sweep terminated
    until = time.monotonic() + SECONDS
    sweeper = threading.Thread(target=sweep, args=(database_url, stop, swept))
    writers = [
        threading.Thread(target=write, args=(served, n, until, writes)) for n in range(WRITERS)
    ]
    sweeper.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=SECONDS + 60)
    stop.set()
    sweeper.join(timeout=30)
    # The service recovers by itself: a write after the sweeps is served.
    after = httpx.post(
        f"{served}/api/tasks", json={"title": "after"}, headers=auth("f"), timeout=30
    )
    assert after.status_code == 201, after.text

    with psycopg.connect(database_url) as conn:
        titles = [title for (title,) in conn.execute("select title from app.tasks")]
    stored = set(titles) - {"after"}
    assert len(titles) == len(set(titles)), "a write was stored twice"
    answers = writes.answers
    acknowledged = {t for t, (status, _) in answers.items() if status == 201}
    lost_link = {t for t, (status, detail) in answers.items() if (status, detail) == (503, LOST)}
    others = {t: answers[t] for t in answers.keys() - acknowledged - lost_link}
    terminated = sum(swept)
    print(
        f"\n{terminated} backends terminated in {len(swept)} sweeps; {len(answers)} writes, "
        f"{len(acknowledged)} acknowledged (201), {len(lost_link)} answered 503 for a broken "
        f"connection, {len(others)} otherwise; {len(stored)} stored, of which "
        f"{len(stored & lost_link)} answered 503"
    )
    assert terminated >= 10, swept  # the sweeps did hit the service
    assert len(acknowledged) >= 50
    assert acknowledged <= stored, sorted(acknowledged - stored)[:10]
    assert stored - acknowledged <= lost_link, sorted(stored - acknowledged - lost_link)[:10]
    assert others == {}, list(others.items())[:10]

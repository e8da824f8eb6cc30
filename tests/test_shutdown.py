"""SIGTERM to a real `todo-api serve` while requests are in progress (made slow by a row lock
this test holds): it stops accepting connections, lets the requests finish within
SHUTDOWN_TIMEOUT, answers those still waiting at the deadline with 503 (having done nothing
for them), closes the pool and exits 0; no answer is cut off."""

import asyncio
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.utils.service import Service, service
from tests.utils.tokens import auth

DEADLINE = 2.0  # SHUTDOWN_TIMEOUT for these tests
TOGGLES = 4


def wait_for_lock_waiters(url: str, count: int, seconds: float = 10.0) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and wait_event_type = 'Lock' and query like '%toggle_task%'"
            ).fetchone()
            if found is not None and found[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"fewer than {count} requests waited for the lock")


async def toggles_during_sigterm(
    running: Service, database_url: str, hold_after_sigterm: float
) -> tuple[list[httpx.Response], list[float], int]:
    """Starts TOGGLES toggles of one task that wait for a row lock, sends SIGTERM, keeps the
    lock `hold_after_sigterm` seconds more; the answers, when they came (seconds after
    SIGTERM), and the task's version afterwards."""
    came: list[float] = []
    signalled = 0.0

    async def toggle(client: httpx.AsyncClient, task: int) -> httpx.Response:
        answer = await client.patch(f"/api/tasks/{task}/toggle", headers=auth())
        came.append(time.monotonic() - signalled)
        return answer

    async with httpx.AsyncClient(base_url=running.base, timeout=30) as client:
        created = await client.post("/api/tasks", json={"title": "slow"}, headers=auth())
        task = created.json()["id"]
        with psycopg.connect(database_url) as locker:
            locker.execute("select from app.tasks where id = %s for update", (task,))
            toggles = [asyncio.create_task(toggle(client, task)) for _ in range(TOGGLES)]
            await asyncio.to_thread(wait_for_lock_waiters, database_url, TOGGLES)
            running.terminate()
            signalled = time.monotonic()
            await asyncio.sleep(0.5)
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                await httpx.AsyncClient().get(f"{running.base}/healthz")
            await asyncio.sleep(max(0.0, hold_after_sigterm - 0.5))
            locker.rollback()  # the lock goes
            answers = await asyncio.gather(*toggles)  # each a whole answer, or this raises
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select version from app.tasks where id = %s", (task,)).fetchone()
    assert row is not None
    return answers, came, row[0]


async def test_sigterm_lets_requests_in_progress_finish(database_url: str, tmp_path: Path) -> None:
    with service(database_url, cwd=tmp_path, SHUTDOWN_TIMEOUT=str(DEADLINE)) as running:
        answers, came, version = await toggles_during_sigterm(running, database_url, 1.0)
        assert await asyncio.to_thread(running.wait) == 0
    assert [a.status_code for a in answers] == [200] * TOGGLES
    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4, 5]
    assert version == 1 + TOGGLES
    assert min(came) >= 1.0, came  # once the lock went
    assert max(came) < DEADLINE, came
    assert "Traceback" not in running.output, running.output


async def test_sigterm_answers_what_is_left_at_the_deadline_with_503(
    database_url: str, tmp_path: Path
) -> None:
    with service(database_url, cwd=tmp_path, SHUTDOWN_TIMEOUT=str(DEADLINE)) as running:
        answers, came, version = await toggles_during_sigterm(running, database_url, 4.0)
        assert await asyncio.to_thread(running.wait) == 0
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["detail"]
    assert version == 1  # the 503s did nothing
    assert min(came) >= DEADLINE, came  # at the deadline, before the lock went
    assert max(came) < DEADLINE + 1.5, came
    assert "Traceback" not in running.output, running.output
    assert "shutdown deadline: cancelling 4 running statements" in running.output

"""Pooled connections that the server ended while they sat idle (a restart, a terminated
backend, a compute that scaled to zero) are found and replaced before a request uses them; a
connection lost under a read is replaced and the read runs again; a write is never run twice."""

import asyncio
import time

import httpx
import psycopg

from tests.utils.tokens import auth


def terminate_service_backends(conn: psycopg.Connection, waiting_on: str | None = None) -> int:
    """Ends the service's backends in this test's database (all of them, or those whose query
    waits for a lock and mentions `waiting_on`); returns how many."""
    conn.execute("select pg_stat_clear_snapshot()")  # inside a transaction, stats stand still
    rows = conn.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
        " where datname = current_database() and pid <> pg_backend_pid()"
        " and (%(query)s::text is null or (wait_event_type = 'Lock' and query like %(query)s))",
        {"query": None if waiting_on is None else f"%{waiting_on}%"},
    ).fetchall()
    return len(rows)


def wait_for_lock_waiter(conn: psycopg.Connection, query: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.execute("select pg_stat_clear_snapshot()")
        found = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and wait_event_type = 'Lock' and query like %s",
            (f"%{query}%",),
        ).fetchone()
        if found is not None and found[0]:
            return
        time.sleep(0.02)
    raise AssertionError(f"no request waited for the lock with {query}")


async def test_idle_connections_ended_by_the_server_are_replaced(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    await asyncio.gather(*(client.get("/api/tasks", headers=auth()) for _ in range(4)))
    # The pool's idle connections: as many as the four requests happened to open (one when
    # they did not overlap), or, behind PgBouncer (TEST_POOLER), the server connections it
    # ran them on.
    assert terminate_service_backends(conn) >= 1
    await asyncio.sleep(0.05)  # the goodbyes arrive on their sockets

    answers = [await client.get("/api/tasks", headers=auth()) for _ in range(3)]
    created = await client.post("/api/tasks", json={"title": "once"}, headers=auth())
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert created.status_code == 201, created.text
    assert conn.execute("select title from app.tasks").fetchall() == [("once",)]


async def test_a_read_whose_connection_is_lost_runs_again(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    await client.post("/api/tasks", json={"title": "kept"}, headers=auth())
    with conn.transaction():
        conn.execute("lock table app.tasks in access exclusive mode")
        reading = asyncio.create_task(client.get("/api/tasks", headers=auth()))
        await asyncio.to_thread(wait_for_lock_waiter, conn, "list_tasks")
        assert terminate_service_backends(conn, waiting_on="list_tasks") == 1
        # the read runs again, and waits for the lock once more
        await asyncio.to_thread(wait_for_lock_waiter, conn, "list_tasks")
    answer = await reading
    assert answer.status_code == 200, answer.text
    assert [task["title"] for task in answer.json()] == ["kept"]


async def test_a_write_whose_connection_is_lost_is_not_run_again(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    with conn.transaction():
        conn.execute("lock table app.tasks in access exclusive mode")
        writing = asyncio.create_task(
            client.post("/api/tasks", json={"title": "maybe"}, headers=auth())
        )
        await asyncio.to_thread(wait_for_lock_waiter, conn, "create_task")
        assert terminate_service_backends(conn, waiting_on="create_task") == 1
        answer = await writing
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "1"
    await asyncio.sleep(0.2)  # a replay, had there been one, would now have the table
    assert conn.execute("select count(*) from app.tasks").fetchone() == (0,)
    assert (await client.get("/api/tasks", headers=auth())).json() == []  # and it serves on

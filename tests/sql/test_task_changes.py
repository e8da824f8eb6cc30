"""The change feed's guarantees inside the database (app.task_changes, the tables and policies of
sql/migrations/0009_record_task_changes.sql, app_private.tg_tasks__record_change), as the API's
role: a reader never passes a write that has yet to commit, even one that took its number
before a later reader's call; the counter serialises one user's writers; the request role sees
only its own counter and tombstones, can write neither, and cannot widen its view."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.errors import InsufficientPrivilege

from api.database.requests import REQUEST_CONTEXT
from api.routes.tasks import TASK_CHANGES
from tests.sql.helpers import (
    ALICE,
    BOB,
    as_app_user,
    as_user,
    create_task,
    fails_with,
    rows,
    scalar,
    wait_until_blocked,
)
from tests.utils.context import user_context


def feed(
    conn: Connection, user_id: str, after: int = 0, horizon: int | None = 0, limit: int = 100
) -> dict[str, Any]:
    """One call of app.task_changes, as the API makes it, decoded."""
    row = conn.execute(
        TASK_CHANGES,
        {**user_context(user_id), "after": after, "horizon": horizon, "limit": limit},
    ).fetchone()
    assert row is not None
    outcome, seq, next_horizon, more, tasks, deleted = row
    if outcome == "gone":
        return {"outcome": "gone"}
    return {
        "outcome": outcome,
        "cursor": (seq, next_horizon),
        "has_more": more,
        "tasks": [(t["id"], t["version"]) for t in json.loads(tasks)],
        "deleted": json.loads(deleted),
    }


def test_a_write_that_commits_after_a_read_is_seen_by_the_next_read(
    conn: Connection, database_url: str
) -> None:
    """A writer holds its transaction open after taking its number; a reader calls meanwhile
    (and does not see it), then a second writer queues behind the first. Once both commit,
    the reader's next call from its cursor has both: nothing was skipped."""
    task = create_task(conn, ALICE, "slow")
    other = create_task(conn, ALICE, "fast")
    start = feed(conn, ALICE)
    with psycopg.connect(database_url) as slow, psycopg.connect(database_url) as fast:
        slow.execute(REQUEST_CONTEXT, user_context(ALICE))
        slow.execute("update app.tasks set title = 'slow, changed' where id = %s", (task,))

        during = feed(conn, ALICE, *start["cursor"])
        assert during["tasks"] == []
        assert during["cursor"] == start["cursor"]  # not past the uncommitted number

        with ThreadPoolExecutor(1) as pool:

            def fast_write() -> None:
                fast.execute(REQUEST_CONTEXT, user_context(ALICE))
                fast.execute("update app.tasks set title = 'fast, changed' where id = %s", (other,))
                fast.commit()

            racing = pool.submit(fast_write)
            wait_until_blocked(conn, fast.info.backend_pid, slow.info.backend_pid)
            slow.commit()
            racing.result(timeout=20)

    after = feed(conn, ALICE, *during["cursor"])
    assert after["tasks"] == [(task, 2), (other, 2)]
    assert feed(conn, ALICE, *after["cursor"])["tasks"] == []


def test_writers_of_different_users_do_not_wait_for_each_other(
    conn: Connection, database_url: str
) -> None:
    alices = create_task(conn, ALICE)
    bobs = create_task(conn, BOB)
    with psycopg.connect(database_url) as one, psycopg.connect(database_url) as two:
        one.execute(REQUEST_CONTEXT, user_context(ALICE))
        one.execute("update app.tasks set completed = true where id = %s", (alices,))
        two.execute("set lock_timeout = '2s'")
        two.execute(REQUEST_CONTEXT, user_context(BOB))
        two.execute("update app.tasks set completed = true where id = %s", (bobs,))
        two.commit()
        one.commit()


def test_concurrent_writers_of_one_user_take_distinct_numbers(
    conn: Connection, database_url: str
) -> None:
    tasks = [create_task(conn, ALICE, f"t{n}") for n in range(4)]
    barrier = threading.Barrier(4)

    def toggle(task_id: int) -> None:
        with psycopg.connect(database_url, autocommit=True) as own:
            barrier.wait()
            for _ in range(10):
                with own.transaction():
                    own.execute(REQUEST_CONTEXT, user_context(ALICE))
                    own.execute(
                        "update app.tasks set completed = not completed where id = %s", (task_id,)
                    )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(toggle, tasks))
    count = scalar(conn, "select change_count from app.task_sync_states")
    first = scalar(conn, "select tombstones_purged_through + 1 from app.task_sync_states")
    assert count == first + 43  # 4 creations and 40 toggles, each its own number
    seqs = rows(conn, "select change_seq from app.tasks order by change_seq")
    assert len({seq for (seq,) in seqs}) == 4
    assert max(seq for (seq,) in seqs) == count
    assert [t for t, _ in feed(conn, ALICE)["tasks"]] == [
        t for (t,) in rows(conn, "select id from app.tasks order by change_seq")
    ]


def test_the_request_role_sees_only_its_own_counter_and_tombstones(conn: Connection) -> None:
    for user in (ALICE, BOB):
        task = create_task(conn, user)
        with conn.transaction():
            conn.execute(REQUEST_CONTEXT, user_context(user))
            conn.execute("delete from app.tasks where id = %s", (task,))
    with as_app_user(conn, ALICE):
        [(user, count)] = rows(conn, "select user_id, change_count from app.task_sync_states")
        assert user == ALICE
        assert rows(conn, "select user_id, change_seq from app.task_tombstones") == [(ALICE, count)]
        # The purge's cutoff opens every user's rows to the owner only.
        conn.execute("select set_config('app.tombstone_purge_before', 'infinity', true)")
        assert rows(conn, "select user_id from app.task_tombstones") == [(ALICE,)]
        assert rows(conn, "select user_id from app.task_sync_states") == [(ALICE,)]
    with as_app_user(conn):
        assert rows(conn, "select * from app.task_sync_states") == []
        assert rows(conn, "select * from app.task_tombstones") == []


def test_the_request_role_cannot_write_the_counter_or_the_tombstones(conn: Connection) -> None:
    create_task(conn, ALICE)
    with as_app_user(conn, ALICE):
        for statement in (
            "update app.task_sync_states set change_count = 0",
            "update app.task_sync_states set tombstones_purged_through = 0",
            "delete from app.task_sync_states",
            "insert into app.task_tombstones (user_id, change_seq, task_id) values ('alice', 9, 1)",
            "delete from app.task_tombstones",
            "update app.tasks set change_seq = 100",
        ):
            with fails_with(conn, InsufficientPrivilege):
                conn.execute(statement)


def test_a_deletion_by_erasure_leaves_no_tombstone_behind(conn: Connection) -> None:
    create_task(conn, ALICE)
    create_task(conn, BOB)
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        conn.execute("select app.erase_account(null, null, null, null, null, null)")
    assert rows(conn, "select user_id from app.task_sync_states") == [(BOB,)]
    assert rows(conn, "select user_id from app.task_tombstones") == []


def test_a_cursor_past_the_purged_tombstones_is_gone_and_one_after_them_is_not(
    conn: Connection,
) -> None:
    tasks = [create_task(conn, ALICE) for _ in range(3)]
    for task in tasks[:2]:
        with conn.transaction():
            conn.execute(REQUEST_CONTEXT, user_context(ALICE))
            conn.execute("delete from app.tasks where id = %s", (task,))
    # A new counter starts at the time in milliseconds, everything below it counted as purged.
    s = scalar(conn, "select tombstones_purged_through from app.task_sync_states")
    assert scalar(conn, "select change_count from app.task_sync_states") == s + 5
    assert feed(conn, ALICE, s - 1)["outcome"] == "gone"  # from before the counter began
    assert feed(conn, ALICE, 0)["outcome"] == "done"  # a cursor of nothing is never too old
    conn.execute(
        "update app.task_tombstones set deleted_at = now() - interval '2 days'"
        " where change_seq = %s",
        (s + 4,),
    )
    purged = rows(
        conn,
        "select purged_rows from app_private.purge_expired('1 day', '1 day', '1 day', '1 day')"
        " where purged_from = 'app.task_tombstones'",
    )
    assert purged == [(1,)]
    assert scalar(conn, "select tombstones_purged_through from app.task_sync_states") == s + 4
    assert feed(conn, ALICE, s + 3)["outcome"] == "gone"
    assert feed(conn, ALICE, s + 4) | {"cursor": None} == {
        "outcome": "done", "cursor": None, "has_more": False, "tasks": [], "deleted": [tasks[1]]
    }  # fmt: skip
    assert feed(conn, ALICE, 0, None)["tasks"] == [(tasks[2], 1)]  # a full resync still works
    assert feed(conn, ALICE, s + 6)["outcome"] == "gone"  # ahead of the counter
    assert feed(conn, ALICE, s + 5, s + 6)["outcome"] == "gone"


def test_the_request_roles_reads_of_its_counter_and_tombstones_use_their_keys(
    conn: Connection,
) -> None:
    """One policy per command for app_user on these tables: a second one would be OR-ed into
    each read, which then could not use the key (with seq scans off, the plan shows it)."""
    for user in (ALICE, BOB):
        create_task(conn, user)
    with as_user(conn, ALICE):
        conn.execute("set local enable_seqscan = off")
        for query in (
            "select change_count from app.task_sync_states",
            "select task_id from app.task_tombstones where change_seq > 0 order by change_seq",
        ):
            plan = "\n".join(row[0] for row in conn.execute("explain " + query))
            assert "Index" in plan, plan
            assert "Seq Scan" not in plan, plan


def test_an_account_made_again_after_erasure_starts_above_its_old_numbers(
    conn: Connection,
) -> None:
    """A Better Auth user id can come back after an erasure: the new counter starts above the
    old one, so a device's cursor from before answers 'gone' and its list ETag never matches."""
    create_task(conn, ALICE)
    old = feed(conn, ALICE)["cursor"]
    with conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context(ALICE))
        conn.execute("select app.erase_account(null, null, null, null, null, null)")
    time.sleep(0.01)
    for _ in range(3):
        create_task(conn, ALICE)
    assert feed(conn, ALICE, *old)["outcome"] == "gone"
    assert scalar(conn, "select change_count from app.task_sync_states") > old[0] + 3

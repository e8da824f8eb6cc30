"""Retention (app_private.purge_expired) and the audit trail's guard: the purge deletes what is
past its period and nothing younger, and the trail stays append-only for everyone, its owner
included, but for the purge's deletes and erasure's pseudonyms."""

from datetime import timedelta

import psycopg
import pytest
from psycopg import Connection

from tests.sql.helpers import fails_with, rows

PURGE = "select purged_from, purged_rows from app_private.purge_expired(%s, %s, %s)"
PERIODS = (timedelta(days=180), timedelta(days=7), timedelta(days=1))


def add_event(conn: Connection, user_id: str, age: str) -> None:
    conn.execute(
        "insert into app.audit_events (event, user_id, created_at)"
        " values ('sign_in', %s, now() - %s::interval)",
        (user_id, age),
    )


def add_refresh_token(conn: Connection, family: str, expired_for: str) -> None:
    conn.execute(
        "insert into app_private.refresh_tokens (family_id, user_id, token_hash, expires_at)"
        " values (%s, 'alice', sha256(gen_random_uuid()::text::bytea), now() - %s::interval)",
        (family, expired_for),
    )


@pytest.fixture
def owner(conn: Connection) -> Connection:
    conn.execute("insert into app.users (id) values ('alice')")
    return conn


def test_the_purge_deletes_what_is_past_its_period_and_keeps_the_rest(owner: Connection) -> None:
    add_event(owner, "alice", "181 days")
    add_event(owner, "alice", "179 days")
    ended = "00000000-0000-0000-0000-000000000001"  # every token expired 8 days ago
    live = "00000000-0000-0000-0000-000000000002"  # one token expired long ago, one still lives
    add_refresh_token(owner, ended, "8 days")
    add_refresh_token(owner, ended, "9 days")
    add_refresh_token(owner, live, "30 days")
    add_refresh_token(owner, live, "-1 day")
    owner.execute(
        "insert into app_private.revoked_access_tokens (jti, expires_at) values"
        " (gen_random_uuid(), now() - interval '1 second'),"
        " (gen_random_uuid(), now() + interval '1 hour')"
    )
    owner.execute(
        "insert into app_private.auth_failures (key, failures, window_started_at) values"
        " ('email:old@example.com', 3, now() - interval '2 days'),"
        " ('client:10.0.0.1', 3, now() - interval '10 minutes')"
    )
    owner.execute(
        "insert into app_private.sign_in_attempts"
        " (email, client_address, password_parameters, password_digest, created_at)"
        " select 'ada@example.com', '', '', sha256(''::bytea), now() - age"
        " from unnest(array[interval '6 minutes', interval '4 minutes']) as age"
    )

    assert rows(owner, PURGE, PERIODS) == [
        ("app.audit_events", 1),
        ("app_private.refresh_tokens", 2),
        ("app_private.revoked_access_tokens", 1),
        ("app_private.auth_failures", 1),
        ("app_private.sign_in_attempts", 1),
        ("app.task_tombstones", 0),
    ]

    assert rows(owner, "select count(*) from app.audit_events") == [(1,)]
    assert rows(owner, "select distinct family_id::text from app_private.refresh_tokens") == [
        (live,)
    ]
    assert rows(owner, "select count(*) from app_private.revoked_access_tokens") == [(1,)]
    assert rows(owner, "select key from app_private.auth_failures") == [("client:10.0.0.1",)]
    assert rows(
        owner, "select created_at > now() - interval '5 minutes' from app_private.sign_in_attempts"
    ) == [(True,)]
    assert [count for _, count in rows(owner, PURGE, PERIODS)] == [0] * 6  # idempotent


def test_a_rate_limit_window_still_running_is_never_purged(owner: Connection) -> None:
    owner.execute(
        "insert into app_private.auth_failures (key, failures, window_started_at)"
        " values ('email:a@example.com', 5, now() - interval '14 minutes')"
    )
    purged = dict(rows(owner, PURGE, (PERIODS[0], PERIODS[1], timedelta(seconds=1))))
    assert purged["app_private.auth_failures"] == 0


def test_the_audit_trail_refuses_every_change_but_the_two(owner: Connection) -> None:
    add_event(owner, "alice", "400 days")
    add_event(owner, "alice", "1 day")
    with owner.transaction(force_rollback=True):
        for statement in (
            "update app.audit_events set event = 'sign_out'",
            "update app.audit_events set user_id = 'erased:x'",  # not during an erasure
            "delete from app.audit_events",  # old or not, outside a purge
            "delete from app.audit_events where created_at < now() - interval '1 year'",
            "truncate app.audit_events",
        ):
            with fails_with(owner, "PT403"):
                owner.execute(statement)
        # What the purge opens is the deletion of rows older than its cutoff, no more.
        owner.execute(
            "select set_config('app.audit_purge_before', (now() - interval '1 year')::text, true)"
        )
        with fails_with(owner, "PT403"):
            owner.execute(
                "delete from app.audit_events where created_at > now() - interval '2 days'"
            )
        with fails_with(owner, "PT403"):
            owner.execute("update app.audit_events set event = 'sign_out'")
        with fails_with(owner, "PT403"):
            owner.execute("truncate app.audit_events")
        # What erasure opens is replacing one user's id by a pseudonym, and nothing else.
        owner.execute("select set_config('app.erasing_user', 'alice', true)")
        with fails_with(owner, "PT403"):
            owner.execute("update app.audit_events set user_id = 'bob'")
        with fails_with(owner, "PT403"):
            owner.execute("update app.audit_events set user_id = 'erased:x', event = 'sign_out'")
        assert owner.execute("update app.audit_events set user_id = 'erased:x'").rowcount == 2
    assert rows(owner, "select count(*) from app.audit_events where user_id = 'alice'") == [(2,)]


def test_the_purge_is_the_owners_alone(owner: Connection) -> None:
    with owner.transaction(force_rollback=True):
        owner.execute("select set_config('role', 'app_user', true)")
        with fails_with(owner, psycopg.errors.InsufficientPrivilege):
            owner.execute(PURGE, PERIODS)

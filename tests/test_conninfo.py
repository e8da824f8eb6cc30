"""What api.database.conninfo reads from a database URL: a pooler in the way, and TLS asked for."""

import pytest

from api.database.conninfo import (
    PSYCOPG_PREPARE_THRESHOLD,
    behind_pooler,
    plain_text_warning,
    prepare_threshold,
    start_up_warnings,
)

NEON_POOLED = "postgresql://app_authenticator:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require"
NEON_DIRECT = "postgresql://neondb_owner:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require"


@pytest.fixture(autouse=True)
def no_pgsslmode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)  # libpq's fallback, read by asks_for_tls


@pytest.mark.parametrize(
    ("url", "pooled"),
    [
        (NEON_POOLED, True),
        (NEON_DIRECT, False),
        ("postgresql://u@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://u@db.internal:6432/app", True),  # PgBouncer's default port
        ("postgresql://u@db.internal:5432/app", False),
        ("host=ep-x-pooler.eu-central-1.aws.neon.tech dbname=neondb", True),
        ("host=10.0.0.5,ep-x-pooler.neon.tech port=5432,5432 dbname=app", True),
        ("postgresql://u@carpooler.example.com/app", False),  # a word, not the label
        ("postgresql://postgres:@/todo?host=/tmp/socket&port=5432", False),
        ("postgresql://u@[bad", False),  # libpq will refuse it with its own message
    ],
)
def test_a_pooler_is_recognised_by_its_host_or_port(url: str, pooled: bool) -> None:
    assert behind_pooler(url) is pooled


def test_prepared_statements_follow_the_setting_and_the_url() -> None:
    assert prepare_threshold("auto", NEON_POOLED) is None
    assert prepare_threshold("auto", NEON_DIRECT) == PSYCOPG_PREPARE_THRESHOLD
    assert prepare_threshold("off", NEON_DIRECT) is None
    assert prepare_threshold("on", NEON_POOLED) == PSYCOPG_PREPARE_THRESHOLD


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example.com/app",
        "postgresql://u@db.example.com/app?sslmode=prefer",  # libpq's default: falls back
        "postgresql://u@db.example.com/app?sslmode=allow",
        "postgresql://u@db.example.com/app?sslmode=disable",
        "postgresql://u@10.1.2.3:5432/app",
        "host=localhost,db.example.com dbname=app",  # one of the hosts is remote
        "postgresql://u@localhost/app?hostaddr=192.0.2.7",  # hostaddr is where it connects
    ],
)
def test_a_remote_url_without_tls_gets_a_warning(url: str) -> None:
    warning = plain_text_warning("DATABASE_URL", url)
    assert warning is not None
    assert warning.startswith("DATABASE_URL reaches ")
    assert "sslmode=verify-full" in warning
    assert "pw" not in warning  # names the host, never the URL with its password


@pytest.mark.parametrize(
    "url",
    [
        NEON_POOLED,
        "postgresql://u@db.example.com/app?sslmode=verify-full&sslrootcert=system",
        "postgresql://u@db.example.com/app?sslmode=verify-ca",
        "postgresql://u@127.0.0.1:5432/app",
        "postgresql://u@localhost/app",
        "postgresql://u@[::1]:5432/app",
        "postgresql://postgres:@/todo?host=/tmp/socket&port=5432",
        "dbname=app",  # libpq's default Unix socket
    ],
)
def test_tls_or_a_local_server_needs_no_warning(url: str) -> None:
    assert plain_text_warning("DATABASE_URL", url) is None


def test_pgsslmode_counts_as_the_url_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "require")
    assert plain_text_warning("DATABASE_URL", "postgresql://u@db.example.com/app") is None
    explicit = "postgresql://u@db.example.com/app?sslmode=disable"
    assert plain_text_warning("DATABASE_URL", explicit) is not None


def test_migrations_through_a_pooler_are_warned_about() -> None:
    (warning,) = start_up_warnings(NEON_POOLED, None)
    assert warning.startswith("migrations go through a pooler (DATABASE_URL)")
    (warning,) = start_up_warnings(NEON_DIRECT, NEON_POOLED)
    assert "(MIGRATION_DATABASE_URL)" in warning
    assert start_up_warnings(NEON_POOLED, NEON_DIRECT) == []
    assert start_up_warnings(None, None) == []

"""TLS to the database is what the URL asks for: libpq gets sslmode and sslrootcert as written
(here a PgBouncer that speaks TLS stands for the remote endpoint), and `todo-api` warns at
start-up when a URL would cross the network in plain text."""

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.test_cli import run
from tests.utils.pgbouncer import Pooler, Tls, available, pgbouncer
from tests.utils.server import Server
from tests.utils.tokens import auth

PLAIN_TEXT = "without asking for TLS"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls.make(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_pooler(pg_server: Server, tls: Tls) -> Iterator[Pooler]:
    if not available():
        pytest.skip("needs Debian's pgbouncer")
    with pgbouncer(pg_server, tls=tls) as pooler:
        yield pooler


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


async def test_the_service_connects_with_verify_full_when_the_url_says_so(
    tls_pooler: Pooler, tls: Tls, database_url: str
) -> None:
    url = tls_pooler.route(database_url).replace("127.0.0.1", "localhost")
    url = with_query(url, f"sslmode=verify-full&sslrootcert={tls.ca}")
    app = create_app(app_settings(database_url), url)
    async with http_client(app) as client:
        created = await client.post("/api/tasks", json={"title": "over TLS"}, headers=auth())
        assert created.status_code == 201
        async with app.state.pool.connection() as conn:
            assert conn.pgconn.ssl_in_use


def test_verify_full_refuses_a_certificate_from_another_authority(
    tls_pooler: Pooler, database_url: str, tmp_path: Path
) -> None:
    stranger = Tls.make(tmp_path)
    url = with_query(
        tls_pooler.route(database_url), f"sslmode=verify-full&sslrootcert={stranger.ca}"
    )
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(url, connect_timeout=5)


def test_verify_full_refuses_a_host_the_certificate_does_not_name(
    tls_pooler: Pooler, tls: Tls, database_url: str
) -> None:
    """The certificate names localhost and 127.0.0.1; libpq connects to hostaddr and checks
    the certificate against host."""
    url = tls_pooler.route(database_url).replace("127.0.0.1", "db.example.com")
    url = with_query(url, f"hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={tls.ca}")
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(url, connect_timeout=5)


def test_require_refuses_a_server_without_tls(database_url: str, pg_server: Server) -> None:
    if not available():
        pytest.skip("needs Debian's pgbouncer")
    with pgbouncer(pg_server) as plain:
        url = with_query(plain.route(database_url), "sslmode=require")
        with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
            psycopg.connect(url, connect_timeout=5)


REMOTE = "postgresql://app_authenticator:s3cret@db.example.com:5432/app"


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_remote_url_in_plain_text_is_warned_about_first(tmp_path: Path, command: str) -> None:
    """Without a secret serve stops before any connection; migrate cannot reach the host. The
    warning comes first, and names the host, never the password."""
    result = run(command, cwd=tmp_path, DATABASE_URL=f"{REMOTE}?connect_timeout=1")
    first = result.stdout.splitlines()[0]  # log lines go to stdout, the one-line failure to stderr
    assert "DATABASE_URL reaches db.example.com" in first
    assert PLAIN_TEXT in first
    assert "s3cret" not in result.stdout + result.stderr


def test_the_migration_url_is_checked_too(tmp_path: Path) -> None:
    result = run(
        "serve",
        cwd=tmp_path,
        DATABASE_URL=f"{REMOTE}?sslmode=verify-full",
        MIGRATION_DATABASE_URL=REMOTE.replace("app_authenticator", "app_owner"),
    )
    warnings = [line for line in result.stdout.splitlines() if PLAIN_TEXT in line]
    assert len(warnings) == 1
    assert "WARNING" in warnings[0]
    assert "MIGRATION_DATABASE_URL reaches" in warnings[0]


def test_a_remote_url_with_tls_gets_no_warning(tmp_path: Path) -> None:
    result = run("serve", cwd=tmp_path, DATABASE_URL=f"{REMOTE}?sslmode=require")
    assert result.stderr.strip().splitlines() == [
        'todo-api: BETTER_AUTH_SECRET is not set; make one with: python -c "import secrets; '
        'print(secrets.token_urlsafe(48))"'
    ]


def test_a_local_database_gets_no_warning(tmp_path: Path, database_url: str) -> None:
    result = run("migrate", cwd=tmp_path, DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

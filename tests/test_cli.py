"""The `todo-api` command as a person runs it: help, clear one-line failures, migrate and
rollback, and `serve` answering real HTTP until Ctrl-C, with or without DATABASE_URL."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.utils.better_auth import better_auth_server
from tests.utils.tokens import SECRET, auth

TODO_API = str(Path(sys.executable).parent / "todo-api")
SETTINGS = (
    "DATABASE_URL", "MIGRATION_DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL",
    "BETTER_AUTH_JWKS_URL", "FRONTEND_URL", "PORT", "HOST",
)  # fmt: skip


def clean_env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    return {**env, "LOG_LEVEL": "warning", **values}


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TODO_API, *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


READY_IN_A_ROW = 5


@contextmanager
def serving(cwd: Path, *, output: list[str] | None = None, **env: str) -> Iterator[str]:
    """Runs `todo-api serve` until the block ends; what it printed is appended to `output`."""
    port = str(free_port())
    process = subprocess.Popen(
        [TODO_API, "serve"], cwd=cwd, env=clean_env(PORT=port, **env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = 0  # /readyz 200s in a row, a new connection each: with WORKERS above 1, any
        while ready < READY_IN_A_ROW:  # process may answer, and each must have migrated
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                answered = httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                answered = False
            ready = ready + 1 if answered else 0
            assert time.monotonic() < deadline, "serve was not ready within 60 s"
            if not answered:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        printed, _ = process.communicate(timeout=30)
        assert process.returncode == 0, printed
        assert "Traceback" not in printed, printed
        if output is not None:
            output.append(printed)


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "rollback", "DATABASE_URL", "BETTER_AUTH_SECRET"):
        assert command in result.stdout
    assert "--all" in run("rollback", "--help", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BETTER_AUTH_SECRET": "too-short"}, "BETTER_AUTH_SECRET: must be at least 32 characters"),
        ({"PORT": "eighty"}, "PORT:"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL:"),
        ({"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL: must be a postgresql://"),
        ({"FRONTEND_URL": "", "POOL_MAX_SIZE": "0"}, "POOL_MAX_SIZE:"),
        ({"BETTER_AUTH_SESSION_TABLE": "session"}, "BETTER_AUTH_SESSION_TABLE:"),
        ({"BETTER_AUTH_JWKS_URL": "http://a/jwks"}, "needs BETTER_AUTH_ISSUER"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "BETTER_AUTH_SECRET is not set"),
    ],
)
def test_a_misconfiguration_stops_serve_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run("serve", cwd=tmp_path, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert lines[0].startswith("todo-api: ")
    assert "Traceback" not in result.stderr


def test_the_secret_message_says_how_to_make_one(tmp_path: Path) -> None:
    result = run("serve", cwd=tmp_path, BETTER_AUTH_SECRET="short")
    assert "secrets.token_urlsafe" in result.stderr


def test_migrate_and_rollback_commands(tmp_path: Path, database_url: str) -> None:
    assert run("migrate", cwd=tmp_path, DATABASE_URL=database_url).stdout.strip() == (
        "applied: nothing pending"
    )
    one = run("rollback", cwd=tmp_path, DATABASE_URL=database_url)
    assert one.stdout.strip() == "rolled back: 0011_bound_password_salts"
    rest = run("rollback", "--all", cwd=tmp_path, DATABASE_URL=database_url)
    assert rest.stdout.strip() == (
        "rolled back: 0010_check_passwords_in_the_database, 0009_record_task_changes,"
        " 0008_add_task_fields,"
        " 0007_add_erasure_and_retention, 0006_check_versions_and_store_json,"
        " 0005_request_functions, 0004_create_identity, 0003_create_tasks, 0002_create_users,"
        " 0001_create_schemas_and_roles"
    )
    again = run("migrate", cwd=tmp_path, MIGRATION_DATABASE_URL=database_url)
    assert again.stdout.strip() == (
        "applied: 0001_create_schemas_and_roles, 0002_create_users, 0003_create_tasks,"
        " 0004_create_identity, 0005_request_functions, 0006_check_versions_and_store_json,"
        " 0007_add_erasure_and_retention, 0008_add_task_fields, 0009_record_task_changes,"
        " 0010_check_passwords_in_the_database, 0011_bound_password_salts"
    )


def test_purge_deletes_what_is_past_the_configured_periods(
    tmp_path: Path, database_url: str, conn: psycopg.Connection
) -> None:
    conn.execute(
        "insert into app.audit_events (event, created_at) values"
        " ('token_rejected', now() - interval '31 days'),"
        " ('token_rejected', now() - interval '29 days')"
    )
    purged = run("purge", cwd=tmp_path, DATABASE_URL=database_url, AUDIT_RETENTION_DAYS="30")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.splitlines() == [
        "purged 1 from app.audit_events",
        "purged 0 from app_private.refresh_tokens",
        "purged 0 from app_private.revoked_access_tokens",
        "purged 0 from app_private.auth_failures",
        "purged 0 from app_private.sign_in_attempts",
        "purged 0 from app.task_tombstones",
    ]
    assert conn.execute("select count(*) from app.audit_events").fetchone() == (1,)
    refused = run("purge", cwd=tmp_path, DATABASE_URL=database_url, AUDIT_RETENTION_DAYS="0")
    assert refused.returncode != 0
    assert refused.stderr.strip().startswith(
        "todo-api: invalid configuration: AUDIT_RETENTION_DAYS"
    )


def test_serve_with_database_url_answers_http(tmp_path: Path, database_url: str) -> None:
    with serving(tmp_path, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET) as base:
        created = httpx.post(f"{base}/api/tasks", json={"title": "over HTTP"}, headers=auth())
        assert created.status_code == 201
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select title from app.tasks").fetchall() == [("over HTTP",)]


@pytest.mark.parametrize("level", ["info", "warning"])
def test_requests_are_logged_at_info(tmp_path: Path, database_url: str, level: str) -> None:
    output: list[str] = []
    with serving(
        tmp_path, output=output, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET,
        LOG_LEVEL=level,
    ) as base:  # fmt: skip
        assert httpx.get(f"{base}/api/tasks", headers=auth()).status_code == 200
    lines = [json.loads(line) for line in output[0].splitlines() if line.strip()]
    logged = [line for line in lines if line.get("route") == "/api/tasks"]
    assert [line["status"] for line in logged] == ([200] if level == "info" else []), output[0]


def test_serve_without_database_url_runs_an_embedded_postgres(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(tmp_path, DATA_DIR=str(data)) as base:
        secret = (data / "dev-secret").read_text().strip()
        assert len(secret) >= 32
        headers = auth(secret=secret)
        created = httpx.post(f"{base}/api/tasks", json={"title": "kept"}, headers=headers)
        assert created.status_code == 201
    assert not (data / "postgres" / "postmaster.pid").exists(), "PostgreSQL was not stopped"
    with serving(tmp_path, DATA_DIR=str(data)) as base:
        assert (data / "dev-secret").read_text().strip() == secret
        tasks = httpx.get(f"{base}/api/tasks", headers=headers).json()
        assert [task["title"] for task in tasks] == ["kept"]


def test_serve_with_several_workers(tmp_path: Path, database_url: str) -> None:
    with serving(
        tmp_path, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET, WORKERS="2"
    ) as base:
        for n in range(6):
            created = httpx.post(f"{base}/api/tasks", json={"title": f"t{n}"}, headers=auth())
            assert created.status_code == 201, created.text
        assert len(httpx.get(f"{base}/api/tasks", headers=auth()).json()) == 6


def test_embedded_serve_takes_better_auth_jwts_from_the_frontend(
    tmp_path: Path, database_url: str
) -> None:
    """With no DATABASE_URL and no Better Auth setting, a real Better Auth running at
    FRONTEND_URL (as in a Next.js frontend) signs JWTs the service accepts: its JWKS is
    fetched from there, its origin is the issuer and audience."""
    with better_auth_server(database_url, SECRET) as better_auth:
        ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
        output: list[str] = []
        data = str(tmp_path / "data")
        with serving(
            tmp_path, output=output, DATA_DIR=data, FRONTEND_URL=better_auth.base_url
        ) as base:
            headers = {"Authorization": f"Bearer {ada.jwt}"}
            created = httpx.post(f"{base}/api/tasks", json={"title": "mine"}, headers=headers)
            assert created.status_code == 201, created.text
            assert created.json()["user_id"] == ada.user_id
            me = httpx.get(f"{base}/api/auth/me", headers=headers).json()
            assert (me["id"], me["email"]) == (ada.user_id, "ada@example.com")
        assert (
            f"accepting Better Auth JWTs from the frontend at {better_auth.base_url}" in (output[0])
        )


def test_serve_with_database_url_guesses_no_better_auth(tmp_path: Path, database_url: str) -> None:
    """The same Better Auth at FRONTEND_URL, but a DATABASE_URL (production): its JWTs are
    refused until BETTER_AUTH_URL says where Better Auth is."""
    with better_auth_server(database_url, SECRET) as better_auth:
        ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada")
        headers = {"Authorization": f"Bearer {ada.jwt}"}
        with serving(
            tmp_path, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET,
            FRONTEND_URL=better_auth.base_url,
        ) as base:  # fmt: skip
            assert httpx.get(f"{base}/api/tasks", headers=headers).status_code == 401
        with serving(
            tmp_path, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET,
            FRONTEND_URL=better_auth.base_url, BETTER_AUTH_URL=better_auth.base_url,
        ) as base:  # fmt: skip
            assert httpx.get(f"{base}/api/tasks", headers=headers).status_code == 200

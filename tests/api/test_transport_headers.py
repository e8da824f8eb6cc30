"""What every response tells browsers and caches: `Cache-Control: no-store` always, and
`Strict-Transport-Security` only for a request that came over HTTPS, which a caller can claim
only through a proxy in FORWARDED_ALLOW_IPS. Against `todo-api serve` on a real socket, since
it is uvicorn that decides which proxies it believes."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_database
from tests.test_server_limits import SETTINGS, TODO_API, free_port
from tests.utils.server import Server
from tests.utils.tokens import SECRET, auth

HSTS = "max-age=31536000"
HTTPS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def serve(cwd: Path, database: str, forwarded_allow_ips: str) -> Iterator[str]:
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if key not in SETTINGS},
        "DATABASE_URL": database, "BETTER_AUTH_SECRET": SECRET, "HOST": "127.0.0.1",
        "PORT": str(port), "LOG_LEVEL": "warning", "FORWARDED_ALLOW_IPS": forwarded_allow_ips,
    }  # fmt: skip
    process = subprocess.Popen(
        [TODO_API, "serve", "--no-migrate"], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        printed, _ = process.communicate(timeout=30)
        assert "Traceback" not in printed, printed


@pytest.fixture(scope="module")
def database(pg_server: Server, template_db: str) -> Iterator[str]:
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture(scope="module")
def behind_trusted_proxy(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[str]:
    """The proxy is this host, 127.0.0.1, and trusted."""
    yield from serve(tmp_path_factory.mktemp("trusted"), database, "127.0.0.1")


@pytest.fixture(scope="module")
def behind_untrusted_proxy(
    tmp_path_factory: pytest.TempPathFactory, database: str
) -> Iterator[str]:
    """Only 192.0.2.1 is a trusted proxy: a request from 127.0.0.1 claims HTTPS in vain."""
    yield from serve(tmp_path_factory.mktemp("untrusted"), database, "192.0.2.1")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/tasks", 200),
        ("POST", "/api/tasks", 201),
        ("GET", "/api/tasks/999", 404),
        ("GET", "/api/alice/tasks", 200),
        ("GET", "/api/auth/me", 200),
        ("GET", "/api/account/export", 200),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_response_is_no_store_and_https_ones_are_hsts(
    behind_trusted_proxy: str, method: str, path: str, status: int
) -> None:
    body = {"title": "t"} if method == "POST" else None
    plain = httpx.request(method, behind_trusted_proxy + path, json=body, headers=auth())
    assert plain.status_code == status
    assert plain.headers.get_list("cache-control") == ["no-store"]
    assert "strict-transport-security" not in plain.headers  # plain HTTP: no HSTS

    proxied = httpx.request(
        method, behind_trusted_proxy + path, json=body, headers={**auth(), **HTTPS_PROXY}
    )
    assert proxied.status_code == status
    assert proxied.headers.get_list("cache-control") == ["no-store"]
    assert proxied.headers.get_list("strict-transport-security") == [HSTS]


def test_an_error_answered_before_the_app_is_no_store_too(behind_trusted_proxy: str) -> None:
    unauthenticated = httpx.get(f"{behind_trusted_proxy}/api/tasks")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["cache-control"] == "no-store"
    too_large = httpx.post(
        f"{behind_trusted_proxy}/api/tasks", content=b"x" * 70_000, headers=auth()
    )
    assert too_large.status_code == 413
    assert too_large.headers["cache-control"] == "no-store"


def test_a_caller_that_is_not_a_trusted_proxy_gets_no_hsts(behind_untrusted_proxy: str) -> None:
    response = httpx.get(f"{behind_untrusted_proxy}/api/tasks", headers={**auth(), **HTTPS_PROXY})
    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers
    assert response.headers["cache-control"] == "no-store"

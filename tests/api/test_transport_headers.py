"""What every response tells browsers and caches: `Cache-Control: no-store` always, and
`Strict-Transport-Security` only for a request that came over HTTPS, which a caller can claim
only through a proxy in FORWARDED_ALLOW_IPS. Against `todo-api serve` on a real socket, since
it is uvicorn that decides which proxies it believes."""

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import fresh_database
from tests.test_cli import serving
from tests.utils.server import Server
from tests.utils.tokens import SECRET, auth

HSTS = "max-age=31536000"
HTTPS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.fixture(scope="module")
def database(pg_server: Server, template_db: str) -> Iterator[str]:
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture(scope="module")
def behind_trusted_proxy(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[str]:
    """The proxy is this host, 127.0.0.1, and trusted."""
    with serving(
        tmp_path_factory.mktemp("trusted"), DATABASE_URL=database, BETTER_AUTH_SECRET=SECRET,
        FORWARDED_ALLOW_IPS="127.0.0.1",
    ) as base:  # fmt: skip
        yield base


@pytest.fixture(scope="module")
def behind_untrusted_proxy(
    tmp_path_factory: pytest.TempPathFactory, database: str
) -> Iterator[str]:
    """Only 192.0.2.1 is a trusted proxy: a request from 127.0.0.1 claims HTTPS in vain."""
    with serving(
        tmp_path_factory.mktemp("untrusted"), DATABASE_URL=database, BETTER_AUTH_SECRET=SECRET,
        FORWARDED_ALLOW_IPS="192.0.2.1",
    ) as base:  # fmt: skip
        yield base


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

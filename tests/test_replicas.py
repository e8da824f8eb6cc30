"""Two replicas of the service, separate `todo-api serve` processes on two ports sharing one
database, as behind a load balancer: whatever one of them learns, the other acts on at once,
because every piece of shared state (rate limits, revocations, refresh-token families,
sessions, tasks and their versions) lives in the database, never in a process."""

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import psycopg
import pytest

from tests.conftest import fresh_database
from tests.test_cli import serving
from tests.utils.server import Server
from tests.utils.tokens import SECRET, auth

PASSWORD = "correct horse battery"
SESSION_TOKEN = "replicasSessionToken0123456789"


@pytest.fixture(scope="module")
def shared_database(pg_server: Server, template_db: str) -> Iterator[str]:
    """One database for the module's two services (each test uses its own users)."""
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, shared_database: str
) -> Iterator[tuple[str, str]]:
    """Two services on one database; Better Auth's session tokens are on (BETTER_AUTH_URL),
    though no Better Auth server is needed to look them up: the database does."""
    cwd = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(
                serving(
                    cwd,
                    DATABASE_URL=shared_database,
                    BETTER_AUTH_SECRET=SECRET,
                    BETTER_AUTH_URL="http://127.0.0.1:9",
                )
            )
            for _ in range(2)
        )
        yield first, second


def sign_up(base: str, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    response = httpx.post(f"{base}/api/auth/signup", json=body, timeout=30)
    assert response.status_code == 201, response.text
    session: dict[str, str] = response.json()
    return session


def sign_in(base: str, email: str, password: str) -> httpx.Response:
    body = {"email": email, "password": password}
    return httpx.post(f"{base}/api/auth/signin", json=body, timeout=30)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(base: str, token: str) -> httpx.Response:
    return httpx.post(f"{base}/api/auth/refresh", json={"refresh_token": token}, timeout=30)


def test_failed_sign_ins_count_on_every_replica(replicas: tuple[str, str]) -> None:
    a, b = replicas
    sign_up(a, "ada@example.com")
    for n in range(5):  # the limit (five), spread over both
        assert sign_in((a, b)[n % 2], "ada@example.com", "wrong password!").status_code == 401
    for base in (a, b):
        locked = sign_in(base, "ada@example.com", PASSWORD)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0


def test_sign_out_on_one_replica_revokes_on_the_other(replicas: tuple[str, str]) -> None:
    a, b = replicas
    session = sign_up(b, "bob@example.com")
    access = bearer(session["access_token"])
    assert httpx.get(f"{a}/api/tasks", headers=access).status_code == 200  # a has verified it
    out = httpx.post(
        f"{b}/api/auth/signout", json={"refresh_token": session["refresh_token"]}, headers=access
    )
    assert out.status_code == 200
    after = httpx.get(f"{a}/api/tasks", headers=access)
    assert after.status_code == 401
    assert after.json()["detail"] == "Token has been revoked"
    assert refresh(a, session["refresh_token"]).status_code == 401


def test_a_refresh_token_reused_on_the_other_replica_revokes_the_family(
    replicas: tuple[str, str],
) -> None:
    a, b = replicas
    first = sign_up(a, "carol@example.com")["refresh_token"]
    rotated = refresh(b, first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    reused = refresh(a, first)
    assert reused.status_code == 401
    assert "reuse" in reused.json()["detail"]
    assert refresh(b, second).status_code == 401  # the family died on both


def test_tasks_and_their_versions_are_the_same_on_both(replicas: tuple[str, str]) -> None:
    a, b = replicas
    created = httpx.post(f"{a}/api/tasks", json={"title": "shared"}, headers=auth())
    assert created.status_code == 201
    url = created.headers["location"]
    etag = created.headers["etag"]
    changed = httpx.patch(
        f"{b}{url}", json={"title": "changed on b"}, headers={**auth(), "If-Match": etag}
    )
    assert changed.status_code == 200
    stale = httpx.patch(f"{a}{url}", json={"title": "late"}, headers={**auth(), "If-Match": etag})
    assert stale.status_code == 412
    assert httpx.get(f"{a}{url}", headers=auth()).json()["title"] == "changed on b"


def test_a_better_auth_session_ends_on_both_when_its_row_goes(
    replicas: tuple[str, str], shared_database: str
) -> None:
    """Better Auth signs a session out by deleting its row; neither replica keeps it."""
    a, b = replicas
    with psycopg.connect(shared_database, autocommit=True) as conn:
        conn.execute(
            'create table public.session (token text primary key, "userId" text not null,'
            ' "expiresAt" timestamptz not null)'
        )
        conn.execute(
            "insert into public.session values (%s, 'dora', now() + interval '1 hour')",
            (SESSION_TOKEN,),
        )
        for base in (a, b):
            me = httpx.get(f"{base}/api/auth/me", headers=bearer(SESSION_TOKEN))
            assert me.status_code == 200
            assert me.json()["id"] == "dora"
        conn.execute("delete from public.session")
    for base in (a, b):
        assert httpx.get(f"{base}/api/auth/me", headers=bearer(SESSION_TOKEN)).status_code == 401

"""Export and erasure for Better Auth's own tokens, from a real Better Auth server (Node) on the
test database: its JWTs and its session tokens. Erasure takes what this service holds; Better
Auth's user and session rows are the frontend's and stay."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from api.main import create_app
from tests.api.test_account import erase, export
from tests.conftest import app_settings, http_client
from tests.utils.better_auth import BetterAuth, better_auth_server
from tests.utils.residue import tables_mentioning
from tests.utils.tokens import SECRET


@pytest.fixture
def better_auth(database_url: str) -> Iterator[BetterAuth]:
    with better_auth_server(database_url, SECRET) as server:
        yield server


@pytest.fixture
async def client(database_url: str, better_auth: BetterAuth) -> AsyncIterator[httpx.AsyncClient]:
    settings = app_settings(database_url, better_auth_url=better_auth.base_url)
    async with http_client(create_app(settings)) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("kind", ["jwt", "session_token"])
async def test_a_better_auth_user_exports_and_erases_what_this_service_holds(
    client: httpx.AsyncClient, better_auth: BetterAuth, conn: psycopg.Connection, kind: str
) -> None:
    ada = better_auth.sign_up("ada@example.com", "correct horse battery", "Ada Lovelace")
    bob = better_auth.sign_up("bob@example.com", "another good password", "Bob")
    token = getattr(ada, kind)
    await client.post("/api/tasks", json={"title": "analyse"}, headers=bearer(ada.jwt))
    await client.post("/api/tasks", json={"title": "bob's"}, headers=bearer(bob.jwt))

    document = await export(client, bearer(token))
    assert document["profile"]["id"] == ada.user_id
    assert [task["title"] for task in document["tasks"]] == ["analyse"]
    assert document["sessions"] == []  # Better Auth's sessions are Better Auth's
    assert ada.session_token.split(".")[0] not in json.dumps(document)

    assert (await erase(client, bearer(token))).status_code == 204

    ours = tables_mentioning(conn, ada.user_id, "ada@example.com", "Ada Lovelace")
    assert ours == {}
    # Better Auth's rows are the frontend's to delete; its JWT or session still verifies, so a
    # second erasure finds nothing here, and leaves nothing either.
    cur = conn.execute('select count(*) from public."user" where id = %s', (ada.user_id,))
    assert cur.fetchone() == (1,)
    assert (await erase(client, bearer(token))).status_code == 404
    assert tables_mentioning(conn, ada.user_id) == {}
    listed = await client.get("/api/tasks", headers=bearer(bob.jwt))
    assert [task["title"] for task in listed.json()] == ["bob's"]

"""The account as a whole over HTTP: export everything the service holds about the caller, and
erase it, for built-in accounts and tokens minted by a frontend (Better Auth's own tokens:
tests/api/test_account_better_auth.py)."""

import json
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.test_accounts import PASSWORD, bearer, sign_in, sign_up
from tests.utils.errors import error_json
from tests.utils.residue import tables_mentioning
from tests.utils.tokens import auth


async def export(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/account/export", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="todo-export-')
    assert response.headers["cache-control"] == "no-store"
    document: dict[str, Any] = json.loads(response.content)
    return document


async def erase(
    client: httpx.AsyncClient, headers: dict[str, str], password: str | None = None
) -> httpx.Response:
    body = None if password is None else {"password": password}
    return await client.request("DELETE", "/api/account", headers=headers, json=body)


async def test_the_export_holds_the_profile_every_task_the_events_and_the_sessions(
    client: httpx.AsyncClient,
) -> None:
    signed_up = (await sign_up(client)).json()
    token, user = signed_up["access_token"], signed_up["user"]
    second_session = (await sign_in(client)).json()
    for title in ("first", "second", 'with "quotes" and ü'):
        created = await client.post("/api/tasks", json={"title": title}, headers=bearer(token))
        assert created.status_code == 201
    await client.post("/api/tasks", json={"title": "bob's"}, headers=auth("bob"))
    listed = (await client.get("/api/tasks", headers=bearer(token))).json()

    document = await export(client, bearer(token))

    assert set(document) == {
        "format", "exported_at", "profile", "tasks", "audit_events", "sessions"
    }  # fmt: skip
    assert document["format"] == "todo-api.export/1"
    profile = document["profile"]
    assert (profile["id"], profile["email"], profile["name"]) == (user["id"], user["email"], "Ada")
    assert {"created_at", "updated_at"} <= set(profile)
    assert document["tasks"] == listed  # every field, as the tasks API sends them; only theirs
    assert [e["event"] for e in document["audit_events"]] == [
        "sign_up", "sign_in", "account_exported"
    ]  # fmt: skip
    assert set(document["audit_events"][0]) == {
        "event", "client_address", "user_agent", "request_id", "created_at"
    }  # fmt: skip
    assert len(document["sessions"]) == 2
    assert set(document["sessions"][0]) == {
        "family_id", "signed_in_at", "last_refreshed_at", "expires_at"
    }  # fmt: skip
    text = json.dumps(document)
    for secret in (signed_up["refresh_token"], second_session["refresh_token"], PASSWORD):
        assert secret not in text
    assert "argon2" not in text


async def test_a_token_minted_by_a_frontend_exports_its_own_tasks(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/tasks", json={"title": "alice's"}, headers=auth("alice"))
    await client.post("/api/tasks", json={"title": "bob's"}, headers=auth("bob"))
    document = await export(client, auth("alice", email="a@example.com", name="Alice"))
    assert [task["title"] for task in document["tasks"]] == ["alice's"]
    assert document["profile"]["email"] == "a@example.com"
    assert document["sessions"] == []
    # A first request may be the export: the user exists from then on, with nothing else.
    assert (await export(client, auth("carol")))["tasks"] == []


async def test_the_export_needs_a_credential(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/account/export")
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"


async def test_erasing_a_built_in_account_leaves_nothing_of_it_anywhere(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    signed_up = (await sign_up(client, "grace@example.com", name="Grace Hopper")).json()
    user_id, token = signed_up["user"]["id"], signed_up["access_token"]
    other = (await sign_in(client, "grace@example.com")).json()  # a second device
    await client.post("/api/tasks", json={"title": "compile"}, headers=bearer(token))
    await client.post("/api/auth/signout", headers=bearer(other["access_token"]), json={})
    third = (await sign_in(client, "grace@example.com")).json()
    await sign_in(client, "grace@example.com", "not the password")  # counted against the email
    await sign_up(client, "someone@example.com")  # another user, who stays
    needles = (user_id, "grace@example.com", "Grace Hopper")
    assert set(tables_mentioning(conn, *needles)) >= {
        "app.users", "app.tasks", "app.audit_events", "app_private.accounts",
        "app_private.refresh_tokens", "app_private.auth_failures",
    }  # fmt: skip

    assert (await erase(client, bearer(token))).status_code == 403  # no password
    wrong = await erase(client, bearer(token), "not the password")
    assert (wrong.status_code, wrong.json()) == (403, error_json("Wrong password"))
    erased = await erase(client, bearer(token), PASSWORD)
    assert erased.status_code == 204, erased.text

    assert tables_mentioning(conn, *needles) == {}
    # Every session is over: the token used, the other device's, and every refresh token.
    for session in (signed_up, third):
        me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
        assert me.status_code == 401
        body = {"refresh_token": session["refresh_token"]}
        assert (await client.post("/api/auth/refresh", json=body)).status_code == 401
    assert (await sign_in(client, "grace@example.com")).status_code == 401
    again = await erase(client, bearer(token), PASSWORD)
    assert again.status_code == 401
    # The trail keeps what happened, under one pseudonym: no id, email or name.
    rows = conn.execute(
        "select event, user_id from app.audit_events where user_id like 'erased:%%' order by id"
    ).fetchall()
    assert [event for event, _ in rows] == [
        "sign_up", "sign_in", "sign_out", "sign_in", "sign_in_failed", "account_erase_refused",
        "account_erased",
    ]  # fmt: skip
    assert len({pseudonym for _, pseudonym in rows}) == 1
    # The other user is untouched.
    assert (await sign_in(client, "someone@example.com")).status_code == 200


async def test_a_token_only_caller_erases_what_this_service_holds_and_a_second_call_is_404(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    alice = auth("alice-7c1e", email="alice@example.com", name="Alice Liddell")
    await client.post("/api/tasks", json={"title": "tea"}, headers=alice)
    await client.post("/api/tasks", json={"title": "bob's"}, headers=auth("bob"))

    assert (await erase(client, alice)).status_code == 204  # no password: there is none here

    assert tables_mentioning(conn, "alice-7c1e", "alice@example.com", "Alice Liddell") == {}
    again = await erase(client, alice)
    assert again.status_code == 404
    assert again.json() == error_json("Nothing is stored for this account")
    assert tables_mentioning(conn, "alice-7c1e") == {}  # the 404 left no row behind either
    assert [t["title"] for t in (await client.get("/api/tasks", headers=auth("bob"))).json()] == [
        "bob's"
    ]
    never_seen = await erase(client, auth("nobody"))
    assert never_seen.status_code == 404


@pytest.mark.parametrize(
    "body", [b"{", b'{"password": 1}', b'{"pass": "x"}', b'{"password": "' + b"x" * 200 + b'"}']
)
async def test_a_bad_erasure_body_is_a_4xx_and_erases_nothing(
    client: httpx.AsyncClient, conn: psycopg.Connection, body: bytes
) -> None:
    await client.post("/api/tasks", json={"title": "kept"}, headers=auth())
    response = await client.request(
        "DELETE", "/api/account", content=body,
        headers={**auth(), "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code in (400, 422), response.text
    assert "detail" in response.json()
    assert conn.execute("select count(*) from app.tasks").fetchone() == (1,)

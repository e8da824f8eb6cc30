"""Four real frontends' own requests (/work/shared/frontends.md, A to D), each with the
credential it really holds and what it reads back: their auth, toggle, delete and error
dialects. Every request carries `Content-Type: application/json`, GETs and empty bodies too,
as all four send it; the task bodies they send and the list shapes they read are at the end
(each field and list parameter in detail: test_task_fields.py, test_task_lists.py)."""

import time
from typing import Any

import httpx
import jwt
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.better_auth import better_auth_server
from tests.utils.tokens import SECRET, auth

JSON = {"Content-Type": "application/json"}
PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


async def crud_with_complete(client: httpx.AsyncClient, tasks: str, headers: dict[str, str]) -> int:
    """Create, replace, complete with no body (twice: it flips), as A, B and C do; the id."""
    created = await client.post(
        tasks, json={"title": "Buy milk", "description": "2 litres"}, headers=headers
    )
    assert created.status_code == 201, created.text
    task_id: int = created.json()["id"]
    replaced = await client.put(
        f"{tasks}/{task_id}", json={"title": "Buy oat milk", "description": None}, headers=headers
    )
    assert replaced.json()["title"] == "Buy oat milk", replaced.text
    done = await client.patch(f"{tasks}/{task_id}/complete", headers=headers)
    assert (done.status_code, done.json()["completed"]) == (200, True), done.text
    undone = await client.patch(f"{tasks}/{task_id}/complete", headers=headers)
    assert undone.json()["completed"] is False
    listed = await client.get(tasks, headers=headers)
    assert [task["id"] for task in listed.json()] == [task_id]
    return task_id


async def test_a_better_auth_cookie_cache_jwt_and_the_user_in_the_url(database_url: str) -> None:
    """A: the `better-auth.session_data` cookie's HS256 JWT (`{session, user}`, no `sub`) as
    its bearer token, `/api/{uid}/tasks`, `.../complete` with no body, and a 204 it never
    reads."""
    with better_auth_server(database_url, SECRET, cookie_cache="jwt") as better_auth:
        ada = better_auth.sign_up("ada@example.com", PASSWORD, "Ada")
        token = better_auth.session_data_cookie("ada@example.com", PASSWORD)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert "sub" not in claims
    assert claims["user"]["id"] == claims["session"]["userId"] == ada.user_id
    async with http_client(create_app(app_settings(database_url))) as client:
        tasks = f"/api/{ada.user_id}/tasks"
        headers = bearer(token)
        assert (await client.get(tasks, headers=headers)).json() == []
        task_id = await crud_with_complete(client, tasks, headers)
        deleted = await client.delete(f"{tasks}/{task_id}", headers=headers)
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert (await client.get("/api/other-user/tasks", headers=headers)).status_code == 403


async def test_b_its_own_hs256_token_and_a_json_delete(database_url: str) -> None:
    """B: an HS256 `{sub, email, iat, exp}` it signs with BETTER_AUTH_SECRET, `/api/{uid}/tasks`,
    a DELETE whose JSON `{message}` it parses (DELETE_RESPONSE=json), and a 422's `detail`
    shown as text (VALIDATION_DETAIL=message)."""
    now = int(time.time())
    token = jwt.encode(
        {"sub": "b-user", "email": "b@example.com", "iat": now, "exp": now + 600}, SECRET
    )
    settings = app_settings(database_url, delete_response="json", validation_detail="message")
    async with http_client(create_app(settings)) as client:
        tasks = "/api/b-user/tasks"
        headers = bearer(token)
        listed = await client.get(f"{tasks}?status_filter=all", headers=headers)
        assert listed.status_code == 200
        task_id = await crud_with_complete(client, tasks, headers)
        deleted = await client.delete(f"{tasks}/{task_id}", headers=headers)
        assert deleted.status_code == 200
        assert deleted.json()["message"] == "Task deleted"
        me = (await client.get("/api/auth/me", headers=headers)).json()
        assert (me["id"], me["email"]) == ("b-user", "b@example.com")
        refused = await client.post(tasks, json={"title": "x" * 201}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["detail"] == "title: String should have at most 200 characters"


async def test_c_a_better_auth_jwt_plugin_token_on_the_plain_paths(database_url: str) -> None:
    """C: the JWT plugin's EdDSA token (`iss` the frontend's Better Auth URL), `/api/tasks`,
    `/api/tasks/{id}/complete`, a 204 on DELETE."""
    with better_auth_server(database_url, SECRET) as better_auth:
        ada = better_auth.sign_up("ada@example.com", PASSWORD, "Ada")
        assert jwt.get_unverified_header(ada.jwt)["alg"] == "EdDSA"
        settings = app_settings(database_url, better_auth_url=better_auth.base_url)
        async with http_client(create_app(settings)) as client:
            headers = bearer(ada.jwt)
            sorted_list = await client.get(
                "/api/tasks?sort_by=created_at&sort_order=desc", headers=headers
            )
            assert sorted_list.status_code == 200
            task_id = await crud_with_complete(client, "/api/tasks", headers)
            assert str(task_id).isdigit()  # it keeps ids as strings; the digits round-trip
            got = await client.get(f"/api/tasks/{task_id}", headers=headers)
            assert got.json()["user_id"] == ada.user_id
            deleted = await client.delete(f"/api/tasks/{task_id}", headers=headers)
            assert (deleted.status_code, deleted.content) == (204, b"")


def shown(error: httpx.Response) -> str:
    """What D shows for an error: `error`, else `message`, never `detail`."""
    body: dict[str, Any] = error.json()
    text = body.get("error") or body.get("message")
    assert isinstance(text, str), body
    return text


async def test_d_the_built_in_accounts_read_the_nested_token(database_url: str) -> None:
    """D: this API's own signup and signin, the access token from `token.access_token`,
    `/api/auth/me` as `{user}`, `error` or `message` shown, `.../complete`, and a JSON DELETE
    it retries on failure."""
    settings = app_settings(database_url, delete_response="json")
    async with http_client(create_app(settings)) as client:
        account = {"email": "dee@example.com", "password": PASSWORD}
        signed_up = await client.post(
            "/api/auth/signup", json={**account, "name": "Dee"}, headers=JSON
        )
        assert signed_up.status_code == 201
        taken = await client.post("/api/auth/signup", json={**account, "name": "Dee"}, headers=JSON)
        assert shown(taken) == "Email already registered"
        wrong = await client.post(
            "/api/auth/signin", json={**account, "password": "not the password"}, headers=JSON
        )
        assert shown(wrong) == "Invalid email or password"
        signed_in = await client.post("/api/auth/signin", json=account, headers=JSON)
        headers = bearer(signed_in.json()["token"]["access_token"])
        me = (await client.get("/api/auth/me", headers=headers)).json()
        assert me["user"]["email"] == "dee@example.com"

        empty = await client.post("/api/tasks", json={"title": " "}, headers=headers)
        assert shown(empty) == "title: String should have at least 1 character"
        created = await client.post(
            "/api/tasks", json={"title": "Write the report", "description": ""}, headers=headers
        )
        task_id = created.json()["id"]
        done = await client.patch(f"/api/tasks/{task_id}/complete", headers=headers)
        assert done.json()["completed"] is True
        kept = await client.patch(
            f"/api/tasks/{task_id}", json={"completed": True}, headers=headers
        )
        assert kept.json()["completed"] is True
        deleted = await client.delete(f"/api/tasks/{task_id}", headers=headers)
        assert deleted.json() == {"deleted": task_id, "message": "Task deleted"}
        retried = await client.delete(f"/api/tasks/{task_id}", headers=headers)
        assert (retried.status_code, shown(retried)) == (404, "Task not found")
        gone = await client.get("/api/tasks/999", headers=headers)
        assert shown(gone) == "Task not found"
        no_token = await client.get("/api/tasks", headers=JSON)
        assert shown(no_token) == "Invalid token"


A_LIST = "/api/u/tasks?search=milk&priority=high&completed=false"
C_LIST = "/api/tasks?sort_by=due_date&sort_order=asc&page=1&page_size=10"


@pytest.mark.parametrize(
    ("frontend", "body", "shape", "listed", "read"),
    [
        ("A", {"title": "Buy milk", "description": "2 l", "priority": "high"}, "array", A_LIST,
         lambda answer: answer[0]["priority"]),
        ("B", {"title": "Buy milk", "description": "2 l", "due_date": None, "priority": "medium",
               "status": "pending"}, "object", "/api/u/tasks?status_filter=all",
         lambda answer: (answer["count"], answer["tasks"][0]["status"])),
        ("C", {"title": "Buy milk", "description": "2 l", "priority_id": 2, "tag_ids": [1, 3],
               "due_date": "2026-12-24", "recurrence_rule": "FREQ=WEEKLY"}, "object", C_LIST,
         lambda answer: (answer["total"], answer["page"], answer["page_size"],
                         answer["tasks"][0]["tag_ids"], answer["tasks"][0]["recurrence_rule"])),
        ("D", {"title": "Buy milk", "description": "2 l", "status": "todo", "priority": 3,
               "position": 0}, "array", "/api/tasks?sort_by=priority&sort_order=desc",
         lambda answer: (answer[0]["priority"], answer[0]["position"], answer[0]["status"])),
    ],
)  # fmt: skip
async def test_each_frontends_task_body_and_list_shape(
    database_url: str, frontend: str, body: dict[str, Any], shape: str, listed: str, read: Any
) -> None:
    """The create body each frontend sends, as it sends it, is a 201 (it was a 422 for three of
    them), and its list, with its own parameters and in the shape it reads, shows the task."""
    expected = {
        "A": "high",
        "B": (1, "pending"),
        "C": (1, 1, 10, [1, 3], "FREQ=WEEKLY"),
        "D": ("high", 0, "pending"),
    }[frontend]
    settings = app_settings(database_url, task_list_shape=shape)
    headers = {**auth("u"), "Content-Type": "application/json"}
    async with http_client(create_app(settings)) as client:
        tasks = "/api/u/tasks" if frontend in "AB" else "/api/tasks"
        created = await client.post(tasks, json=body, headers=headers)
        assert created.status_code == 201, created.text
        answer = await client.get(listed, headers=headers)
        assert answer.status_code == 200, answer.text
        assert read(answer.json()) == expected

"""The tasks resource over HTTP: every route, its statuses, and isolation between users."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.utils.errors import error_json
from tests.utils.tokens import auth

ALICE = auth("alice")
BOB = auth("bob")


async def create(client: httpx.AsyncClient, headers: dict[str, str] = ALICE, **body: Any) -> dict:
    response = await client.post("/api/tasks", json={"title": "a task", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_the_task_with_location_and_etag(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/tasks", json={"title": "Buy milk", "description": "2 litres"}, headers=ALICE
    )
    assert response.status_code == 201
    task = response.json()
    assert set(task) == {
        "id", "title", "description", "completed", "user_id", "version", "created_at", "updated_at",
        "status", "priority", "due_date", "tags", "position",
    }  # fmt: skip
    assert task["title"] == "Buy milk"
    assert task["description"] == "2 litres"
    assert task["completed"] is False
    assert task["user_id"] == "alice"
    assert task["version"] == 1
    assert task["created_at"] == task["updated_at"]
    assert datetime.fromisoformat(task["created_at"]).utcoffset() == timedelta(0)
    assert response.headers["location"] == f"/api/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["content-type"] == "application/json"


async def test_create_trims_the_title_and_keeps_unicode_exactly(client: httpx.AsyncClient) -> None:
    title = "Ünïcödé ✓ 買い物 👩‍👩‍👧 𝔘"  # noqa: RUF001
    task = await create(client, title=f"  \t{title} \n", description=" keep  spaces ")
    assert task["title"] == title
    assert task["description"] == " keep  spaces "
    fetched = (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json()
    assert fetched["title"] == title


async def test_create_accepts_completed_and_null_description(client: httpx.AsyncClient) -> None:
    task = await create(client, description=None, completed=True)
    assert task["description"] is None
    assert task["completed"] is True


async def test_list_is_an_empty_array_when_there_are_none(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks", headers=ALICE)
    assert response.status_code == 200
    assert response.json() == []


async def test_list_shows_only_the_callers_tasks_in_creation_order(
    client: httpx.AsyncClient,
) -> None:
    first = await create(client, title="first")
    await create(client, BOB, title="bob's")
    second = await create(client, title="second")
    listed = (await client.get("/api/tasks", headers=ALICE)).json()
    assert [task["id"] for task in listed] == [first["id"], second["id"]]
    assert listed[0] == first
    assert [t["title"] for t in (await client.get("/api/tasks", headers=BOB)).json()] == ["bob's"]


async def test_get_returns_the_task_with_its_etag(client: httpx.AsyncClient) -> None:
    task = await create(client)
    response = await client.get(f"/api/tasks/{task['id']}", headers=ALICE)
    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["etag"] == '"1"'


async def test_another_users_task_is_not_found_for_every_method(
    client: httpx.AsyncClient,
) -> None:
    task = await create(client, BOB, title="bob's secret")
    url = f"/api/tasks/{task['id']}"
    answers = [
        await client.get(url, headers=ALICE),
        await client.put(url, json={"title": "stolen"}, headers=ALICE),
        await client.patch(url, json={"title": "stolen"}, headers=ALICE),
        await client.patch(f"{url}/toggle", headers=ALICE),
        await client.delete(url, headers=ALICE),
    ]
    for response in answers:
        assert response.status_code == 404, response.request
        assert response.json() == error_json("Task not found")
        assert "bob" not in response.text
    still = (await client.get(url, headers=BOB)).json()
    assert still == task


@pytest.mark.parametrize("task_id", ["0", "-1", "9223372036854775808", "abc", "1.5"])
async def test_an_id_that_cannot_be_a_task_is_422(client: httpx.AsyncClient, task_id: str) -> None:
    response = await client.get(f"/api/tasks/{task_id}", headers=ALICE)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


async def test_a_missing_task_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/tasks/9223372036854775807", headers=ALICE)
    assert response.status_code == 404
    assert response.json() == error_json("Task not found")


async def test_put_replaces_every_field_and_bumps_the_version(client: httpx.AsyncClient) -> None:
    task = await create(client, description="old", completed=True)
    response = await client.put(
        f"/api/tasks/{task['id']}", json={"title": "new title"}, headers=ALICE
    )
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["title"] == "new title"
    assert replaced["description"] is None
    assert replaced["completed"] is False
    assert replaced["version"] == 2
    assert replaced["created_at"] == task["created_at"]
    assert datetime.fromisoformat(replaced["updated_at"]) > datetime.fromisoformat(
        task["updated_at"]
    )
    assert response.headers["etag"] == '"2"'


async def test_patch_changes_only_the_fields_given(client: httpx.AsyncClient) -> None:
    task = await create(client, description="keep me")
    response = await client.patch(
        f"/api/tasks/{task['id']}", json={"title": "renamed"}, headers=ALICE
    )
    assert response.status_code == 200
    patched = response.json()
    assert (patched["title"], patched["description"], patched["completed"]) == (
        "renamed",
        "keep me",
        False,
    )
    assert patched["version"] == 2


async def test_patch_null_description_clears_it(client: httpx.AsyncClient) -> None:
    task = await create(client, description="drop me")
    response = await client.patch(
        f"/api/tasks/{task['id']}", json={"description": None}, headers=ALICE
    )
    assert response.status_code == 200
    assert response.json()["description"] is None


@pytest.mark.parametrize(
    "body", [{}, {"version": 1}, {"title": None}, {"completed": None}, {"status": None}]
)
async def test_patch_refuses_a_body_that_changes_nothing_valid(
    client: httpx.AsyncClient, body: dict
) -> None:
    task = await create(client)
    response = await client.patch(f"/api/tasks/{task['id']}", json=body, headers=ALICE)
    assert response.status_code == 422
    unchanged = (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).json()
    assert unchanged == task


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("", {"title": None}, "title cannot be null"),
        ("", {"completed": None}, "completed cannot be null"),
        ("/toggle", {"completed": None}, "completed cannot be null"),
    ],
)
async def test_a_null_the_schema_does_not_offer_is_refused_at_the_body(
    client: httpx.AsyncClient, path: str, body: dict, words: str
) -> None:
    """OpenAPI does not offer null for these fields (SkipJsonSchema); the model's validator
    refuses it, so the error's location is the body, as it was before the schema said so."""
    task = await create(client)
    response = await client.patch(f"/api/tasks/{task['id']}{path}", json=body, headers=ALICE)
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body"]
    assert words in issue["msg"]


async def test_toggle_flips_completed_atomically(client: httpx.AsyncClient) -> None:
    task = await create(client)
    first = await client.patch(f"/api/tasks/{task['id']}/toggle", headers=ALICE)
    second = await client.patch(f"/api/tasks/{task['id']}/toggle", headers=ALICE)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["completed"] is True
    assert second.json()["completed"] is False
    assert second.json()["version"] == 3
    assert second.headers["etag"] == '"3"'


async def test_delete_is_204_then_404(client: httpx.AsyncClient) -> None:
    task = await create(client)
    response = await client.delete(f"/api/tasks/{task['id']}", headers=ALICE)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/tasks/{task['id']}", headers=ALICE)).status_code == 404
    assert (await client.delete(f"/api/tasks/{task['id']}", headers=ALICE)).status_code == 404


class TestOptimisticLocking:
    async def test_if_match_with_the_current_etag_succeeds(self, client: httpx.AsyncClient) -> None:
        task = await create(client)
        url = f"/api/tasks/{task['id']}"
        put = await client.put(url, json={"title": "a"}, headers={**ALICE, "If-Match": '"1"'})
        patch = await client.patch(url, json={"title": "b"}, headers={**ALICE, "If-Match": '"2"'})
        toggle = await client.patch(f"{url}/toggle", headers={**ALICE, "If-Match": '"3"'})
        delete = await client.delete(url, headers={**ALICE, "If-Match": '"4"'})
        assert [r.status_code for r in (put, patch, toggle, delete)] == [200, 200, 200, 204]

    @pytest.mark.parametrize("if_match", ['"7"', 'W/"1"', '"0"'])
    async def test_a_stale_if_match_is_412_for_every_write(
        self, client: httpx.AsyncClient, if_match: str
    ) -> None:
        task = await create(client)
        url = f"/api/tasks/{task['id']}"
        headers = {**ALICE, "If-Match": if_match}
        answers = [
            await client.put(url, json={"title": "x"}, headers=headers),
            await client.patch(url, json={"title": "x"}, headers=headers),
            await client.patch(f"{url}/toggle", headers=headers),
            await client.delete(url, headers=headers),
        ]
        assert [r.status_code for r in answers] == [412, 412, 412, 412]
        assert all("detail" in r.json() for r in answers)
        assert (await client.get(url, headers=ALICE)).json() == task

    async def test_if_match_star_only_asks_that_the_task_exists(
        self, client: httpx.AsyncClient
    ) -> None:
        task = await create(client)
        url = f"/api/tasks/{task['id']}"
        ok = await client.patch(url, json={"title": "y"}, headers={**ALICE, "If-Match": "*"})
        assert ok.status_code == 200
        missing = await client.patch(
            "/api/tasks/999999", json={"title": "y"}, headers={**ALICE, "If-Match": "*"}
        )
        assert missing.status_code == 404

    @pytest.mark.parametrize("if_match", [b"1", '"\u00b2"'.encode("latin-1"), b'"1", "2"', b'"a"'])
    async def test_a_malformed_if_match_is_400(
        self, client: httpx.AsyncClient, if_match: bytes
    ) -> None:
        task = await create(client)
        response = await client.patch(
            f"/api/tasks/{task['id']}",
            json={"title": "x"},
            headers=[(k.encode(), v.encode()) for k, v in ALICE.items()]
            + [(b"If-Match", if_match)],
        )
        assert response.status_code == 400
        assert "If-Match" in response.json()["detail"]

    async def test_an_if_match_no_version_can_reach_is_412(self, client: httpx.AsyncClient) -> None:
        task = await create(client)
        response = await client.delete(
            f"/api/tasks/{task['id']}", headers={**ALICE, "If-Match": '"99999999999"'}
        )
        assert response.status_code == 412

    async def test_a_stale_version_in_the_body_is_409(self, client: httpx.AsyncClient) -> None:
        task = await create(client)
        url = f"/api/tasks/{task['id']}"
        current = await client.patch(url, json={"title": "v2", "version": 1}, headers=ALICE)
        assert current.status_code == 200
        stale_patch = await client.patch(url, json={"title": "x", "version": 1}, headers=ALICE)
        stale_put = await client.put(url, json={"title": "x", "version": 1}, headers=ALICE)
        assert (stale_patch.status_code, stale_put.status_code) == (409, 409)
        assert "changed" in stale_patch.json()["detail"]
        assert (await client.get(url, headers=ALICE)).json()["title"] == "v2"

    async def test_a_missing_task_with_if_match_is_404_not_412(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.delete("/api/tasks/424242", headers={**ALICE, "If-Match": '"1"'})
        assert response.status_code == 404


class TestOtherPathForms:
    async def test_the_per_user_form_serves_the_callers_tasks(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await client.post("/api/alice/tasks", json={"title": "hi"}, headers=ALICE)
        assert created.status_code == 201
        task_id = created.json()["id"]
        assert created.headers["location"] == f"/api/tasks/{task_id}"
        listed = await client.get("/api/alice/tasks", headers=ALICE)
        assert [t["id"] for t in listed.json()] == [task_id]
        done = await client.patch(f"/api/alice/tasks/{task_id}/complete", headers=ALICE)
        assert done.json()["completed"] is True
        got = await client.get(f"/api/alice/tasks/{task_id}", headers=ALICE)
        assert got.json()["completed"] is True
        put = await client.put(f"/api/alice/tasks/{task_id}", json={"title": "p"}, headers=ALICE)
        assert put.status_code == 200
        deleted = await client.delete(f"/api/alice/tasks/{task_id}", headers=ALICE)
        assert deleted.status_code == 204

    async def test_the_per_user_form_refuses_another_users_id(
        self, client: httpx.AsyncClient
    ) -> None:
        task = await create(client, BOB)
        answers = [
            await client.get("/api/bob/tasks", headers=ALICE),
            await client.post("/api/bob/tasks", json={"title": "x"}, headers=ALICE),
            await client.get(f"/api/bob/tasks/{task['id']}", headers=ALICE),
            await client.patch(f"/api/bob/tasks/{task['id']}/complete", headers=ALICE),
            await client.delete(f"/api/bob/tasks/{task['id']}", headers=ALICE),
        ]
        assert [r.status_code for r in answers] == [403] * 5
        assert (await client.get("/api/tasks", headers=ALICE)).json() == []
        assert (await client.get(f"/api/tasks/{task['id']}", headers=BOB)).json() == task

    async def test_the_per_user_form_still_needs_a_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/alice/tasks")
        assert response.status_code == 401

    async def test_the_bare_form_serves_the_same_handlers(self, client: httpx.AsyncClient) -> None:
        created = await client.post("/tasks", json={"title": "bare"}, headers=ALICE)
        assert created.status_code == 201
        task_id = created.json()["id"]
        assert (await client.get("/tasks", headers=ALICE)).json()[0]["id"] == task_id
        toggled = await client.patch(f"/tasks/{task_id}/toggle", headers=ALICE)
        assert toggled.json()["completed"] is True
        assert (await client.delete(f"/tasks/{task_id}", headers=ALICE)).status_code == 204

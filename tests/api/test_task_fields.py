"""The fields a task has beyond its title (priority, due date, tags, position, status) and the
fields a client sends that the API does not model, over HTTP: each input form frontends use,
what comes back, and a clean 422 with nothing stored for every bad value."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.tokens import auth

ALICE = auth("alice")
NESTED: list[Any] = [1]
for _ in range(20):
    NESTED = [NESTED]


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/tasks", json={"title": "a task", **body}, headers=ALICE)
    assert response.status_code == 201, response.text
    return response.json()


async def read(client: httpx.AsyncClient, task_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/tasks/{task_id}", headers=ALICE)
    assert response.status_code == 200
    return response.json()


async def test_a_new_task_has_every_field_at_its_default(client: httpx.AsyncClient) -> None:
    task = await create(client)
    assert {key: task[key] for key in ("status", "priority", "due_date", "tags", "position")} == {
        "status": "pending", "priority": None, "due_date": None, "tags": [], "position": 0,
    }  # fmt: skip
    assert list(task) == [
        "id", "title", "description", "completed", "user_id", "version", "created_at",
        "updated_at", "status", "priority", "due_date", "tags", "position",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("low", "low"), ("Medium", "medium"), ("normal", "medium"), ("high", "high"), (3, "high"),
     (1, "low"), (0, None), ("none", None), (None, None)],
)  # fmt: skip
async def test_priority_as_a_word_or_a_number(
    client: httpx.AsyncClient, sent: object, kept: str | None
) -> None:
    task = await create(client, priority=sent)
    assert task["priority"] == kept
    assert (await read(client, task["id"]))["priority"] == kept


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2026-12-24", "2026-12-24"),
        ("2026-12-24T17:30:00Z", "2026-12-24T17:30:00+00:00"),
        ("2026-12-24T17:30:00.000Z", "2026-12-24T17:30:00+00:00"),  # JavaScript's toISOString
        ("2026-12-24T18:30:00+01:00", "2026-12-24T17:30:00+00:00"),
        (None, None),
    ],
)
async def test_due_date_as_a_day_or_a_moment(
    client: httpx.AsyncClient, sent: str | None, kept: str | None
) -> None:
    task = await create(client, due_date=sent)
    assert task["due_date"] == kept
    assert (await read(client, task["id"]))["due_date"] == kept


async def test_tags_are_trimmed_and_kept_once_in_order(client: httpx.AsyncClient) -> None:
    task = await create(client, tags=[" work ", "home", "work", "Home"])
    assert task["tags"] == ["work", "home", "Home"]
    assert (await create(client, tags=None))["tags"] == []


@pytest.mark.parametrize(
    ("status", "completed"),
    [("completed", True), ("done", True), ("Complete", True), ("pending", False),
     ("todo", False), ("in_progress", False)],
)  # fmt: skip
async def test_status_is_another_way_to_say_completed(
    client: httpx.AsyncClient, status: str, completed: bool
) -> None:
    task = await create(client, status=status)
    assert (task["completed"], task["status"]) == (
        completed,
        "completed" if completed else "pending",
    )


async def test_put_sets_every_field_and_patch_only_those_given(client: httpx.AsyncClient) -> None:
    task = await create(client, priority="high", tags=["a"], due_date="2026-12-24", position=4)
    replaced = await client.put(
        f"/api/tasks/{task['id']}", json={"title": "again", "priority": 1}, headers=ALICE
    )
    assert replaced.status_code == 200
    assert {k: replaced.json()[k] for k in ("priority", "tags", "due_date", "position")} == {
        "priority": "low", "tags": [], "due_date": None, "position": 0,
    }  # fmt: skip
    patched = await client.patch(
        f"/api/tasks/{task['id']}",
        json={"tags": ["b", "c"], "due_date": "2027-01-01T09:00:00Z", "status": "done"},
        headers=ALICE,
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["title"], body["priority"], body["tags"], body["completed"]) == (
        "again", "low", ["b", "c"], True,
    )  # fmt: skip
    assert body["due_date"] == "2027-01-01T09:00:00+00:00"
    cleared = await client.patch(
        f"/api/tasks/{task['id']}", json={"priority": None, "due_date": None, "tags": None},
        headers=ALICE,
    )  # fmt: skip
    assert {k: cleared.json()[k] for k in ("priority", "tags", "due_date")} == {
        "priority": None, "tags": [], "due_date": None,
    }  # fmt: skip


async def test_fields_the_api_does_not_model_are_kept_as_sent(client: httpx.AsyncClient) -> None:
    """Frontend C's create body (../shared/frontends.md): priority_id, tag_ids and
    recurrence_rule are not modelled; each comes back where it was sent, after a reload too."""
    sent = {
        "priority_id": 2,
        "tag_ids": [4, 7],
        "recurrence_rule": {"freq": "weekly", "on": ["mo"]},
    }
    task = await create(client, description="from C", **sent)
    assert {key: task[key] for key in sent} == sent
    assert {key: (await read(client, task["id"]))[key] for key in sent} == sent
    listed = (await client.get("/api/tasks", headers=ALICE)).json()
    assert {key: listed[0][key] for key in sent} == sent

    patched = await client.patch(
        f"/api/tasks/{task['id']}", json={"tag_ids": [1], "color": "red"}, headers=ALICE
    )
    assert patched.status_code == 200
    assert {key: patched.json().get(key) for key in (*sent, "color")} == {
        **sent, "tag_ids": [1], "color": "red",
    }  # fmt: skip
    replaced = await client.put(f"/api/tasks/{task['id']}", json={"title": "plain"}, headers=ALICE)
    assert not {*sent, "color"} & set(replaced.json())


async def test_a_task_sent_back_as_read_keeps_its_owner_and_id(client: httpx.AsyncClient) -> None:
    task = await create(client)
    echoed = {**task, "title": "renamed", "id": 999, "user_id": "mallory", "created_at": "x"}
    replaced = await client.put(f"/api/tasks/{task['id']}", json=echoed, headers=ALICE)
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["id"], body["user_id"], body["created_at"]) == (
        task["id"], "alice", task["created_at"],
    )  # fmt: skip
    assert list(body) == list(task)  # nothing extra kept


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"priority": 4}, "priority must be 0 to 3"),
        ({"priority": "urgent"}, "priority must be low"),
        ({"priority": True}, "priority must be low"),
        ({"due_date": "tomorrow"}, "due_date must be a date"),
        ({"due_date": "2026-02-30"}, "due_date must be a date"),
        ({"due_date": "2026-12-24T17:30"}, "with an offset"),
        ({"due_date": 20261224}, "due_date must be a date"),
        ({"tags": [f"t{n}" for n in range(21)]}, "at most 20 items"),
        ({"tags": ["x" * 51]}, "at most 50 characters"),
        ({"tags": [" "]}, "at least 1 character"),
        ({"tags": "work"}, "valid list"),
        ({"tags": [1]}, "valid string"),
        ({"position": 2**31}, "less than or equal to"),
        ({"position": "1"}, "valid integer"),
        ({"status": "maybe"}, "status must be one of"),
        ({"status": "done", "completed": False}, "disagree"),
        ({f"field{n}": n for n in range(21)}, "at most 20 fields"),
        ({"notes": "x" * 9000}, "at most 8192 bytes"),
        ({"x" * 65: 1}, "1 to 64 characters"),
        ({"notes": "a\u0000b"}, "NUL"),
        ({"notes": {"deep": NESTED}}, "nest at most"),
    ],
)
async def test_a_bad_field_is_a_422_and_nothing_is_stored(
    client: httpx.AsyncClient, database_url: str, body: dict[str, Any], words: str
) -> None:
    response = await client.post("/api/tasks", json={"title": "bad", **body}, headers=ALICE)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"], response.json()
    task = await create(client)
    patched = await client.patch(f"/api/tasks/{task['id']}", json=body, headers=ALICE)
    assert patched.status_code == 422
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select title, version, extra::text from app.tasks").fetchall()
    assert rows == [("a task", 1, "{}")]


@pytest.fixture
async def refusing(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(app_settings(database_url, unknown_task_fields="refuse"))
    async with http_client(app) as http:
        yield http


async def test_unknown_task_fields_refuse(refusing: httpx.AsyncClient) -> None:
    response = await refusing.post(
        "/api/tasks", json={"title": "x", "priority": "low", "color": "red"}, headers=ALICE
    )
    assert response.status_code == 422
    assert [(issue["type"], issue["loc"]) for issue in response.json()["detail"]] == [
        ("extra_forbidden", ["body", "color"])
    ]
    assert (await refusing.get("/api/tasks", headers=ALICE)).json() == []
    created = await refusing.post("/api/tasks", json={"title": "x", "tags": ["a"]}, headers=ALICE)
    assert created.status_code == 201

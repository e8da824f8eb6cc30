"""The list's ETag and the change feed over HTTP (api/routes/tasks.py, list_tasks and
task_changes): 304 while nothing changed, what the feed sends and in what shape, and its 400 and
410 answers."""

import asyncio
import base64
import random
from typing import Any

import httpx
import psycopg
import pytest

from api.cli import purge
from tests.api.test_tasks import ALICE, BOB, create
from tests.conftest import app_settings
from tests.utils.errors import error_json


async def changes(
    client: httpx.AsyncClient,
    since: str | None = None,
    headers: dict[str, str] = ALICE,
    **params: Any,
) -> dict:
    query = {**params, **({"since": since} if since is not None else {})}
    response = await client.get("/api/tasks/changes", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# The list's ETag


async def test_the_list_answers_304_until_the_caller_writes(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/tasks", headers=ALICE)
    etag = first.headers["etag"]
    assert etag == '"list-0"'
    again = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    task = await create(client)
    changed = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": etag})
    assert changed.status_code == 200
    assert [t["id"] for t in changed.json()] == [task["id"]]
    assert changed.headers["etag"] != etag

    for step in ("PATCH", "DELETE"):
        etag = changed.headers["etag"]
        url = f"/api/tasks/{task['id']}"
        kwargs: dict[str, Any] = {"json": {"completed": True}} if step == "PATCH" else {}
        assert (await client.request(step, url, headers=ALICE, **kwargs)).status_code in (200, 204)
        changed = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": etag})
        assert changed.status_code == 200, step
        assert changed.headers["etag"] != etag


async def test_another_users_writes_leave_the_etag_alone(client: httpx.AsyncClient) -> None:
    await create(client)
    etag = (await client.get("/api/tasks", headers=ALICE)).headers["etag"]
    bobs = await create(client, BOB)
    await client.patch(f"/api/tasks/{bobs['id']}", json={"title": "x"}, headers=BOB)
    await client.delete(f"/api/tasks/{bobs['id']}", headers=BOB)
    response = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": etag})
    assert response.status_code == 304


async def test_if_none_match_takes_lists_weak_tags_and_star(client: httpx.AsyncClient) -> None:
    await create(client)
    etag = (await client.get("/api/tasks", headers=ALICE)).headers["etag"]
    for header in (f'"list-999", {etag}', f"W/{etag}", "*"):
        response = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": header})
        assert response.status_code == 304, header
    for header in ('"list-999"', '"1"', "garbage", '"list-99999999999999999999"'):
        response = await client.get("/api/tasks", headers={**ALICE, "If-None-Match": header})
        assert response.status_code == 200, header


# The change feed


async def test_without_since_the_feed_sends_every_task_and_a_cursor(
    client: httpx.AsyncClient,
) -> None:
    created = [await create(client, title=f"task {n}") for n in range(3)]
    await create(client, BOB)
    feed = await changes(client)
    assert feed["tasks"] == [
        (await client.get(f"/api/tasks/{t['id']}", headers=ALICE)).json() for t in created
    ]
    assert feed["deleted"] == []
    assert feed["has_more"] is False
    assert isinstance(feed["cursor"], str)
    nothing = await changes(client, feed["cursor"])
    assert nothing == {"tasks": [], "deleted": [], "cursor": feed["cursor"], "has_more": False}


async def test_the_feed_sends_changes_and_deletions_after_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    kept, changed, gone = [await create(client, title=f"t{n}") for n in range(3)]
    cursor = (await changes(client))["cursor"]
    url = f"/api/tasks/{changed['id']}"
    patched = await client.patch(url, json={"title": "new"}, headers=ALICE)
    assert (await client.delete(f"/api/tasks/{gone['id']}", headers=ALICE)).status_code == 204
    fresh = await create(client, title="fresh")
    feed = await changes(client, cursor)
    assert feed["tasks"] == [patched.json(), fresh]
    assert feed["tasks"][0]["version"] == 2
    assert feed["deleted"] == [gone["id"]]
    assert kept["id"] not in [t["id"] for t in feed["tasks"]]


async def test_the_feed_pages_by_limit_without_skipping_or_repeating(
    client: httpx.AsyncClient,
) -> None:
    created = [await create(client, title=f"t{n}") for n in range(7)]
    cursor = (await changes(client, limit=1000))["cursor"]
    for task in created[:3]:
        await client.delete(f"/api/tasks/{task['id']}", headers=ALICE)
    for task in created[3:]:
        await client.patch(f"/api/tasks/{task['id']}", json={"completed": True}, headers=ALICE)
    seen: list[int] = []
    deleted: list[int] = []
    pages = 0
    while True:
        feed = await changes(client, cursor, limit=2)
        pages += 1
        assert len(feed["tasks"]) + len(feed["deleted"]) <= 2
        seen += [t["id"] for t in feed["tasks"]]
        deleted += feed["deleted"]
        cursor = feed["cursor"]
        if not feed["has_more"]:
            break
    assert pages == 4
    assert deleted == [t["id"] for t in created[:3]]
    assert seen == [t["id"] for t in created[3:]]


async def test_a_full_resync_in_pages_sends_each_task_once(client: httpx.AsyncClient) -> None:
    created = [await create(client, title=f"t{n}") for n in range(5)]
    await client.delete(f"/api/tasks/{created[0]['id']}", headers=ALICE)
    feed = await changes(client, limit=2)
    seen = [t["id"] for t in feed["tasks"]]
    deleted_meanwhile = created[1]
    await client.delete(f"/api/tasks/{deleted_meanwhile['id']}", headers=ALICE)
    deleted: list[int] = []
    while feed["has_more"]:
        feed = await changes(client, feed["cursor"], limit=2)
        seen += [t["id"] for t in feed["tasks"]]
        deleted += feed["deleted"]
    assert seen == [t["id"] for t in created[1:]]
    assert deleted == [deleted_meanwhile["id"]]  # not the one deleted before the resync began


async def test_the_feed_shows_nothing_of_another_user(client: httpx.AsyncClient) -> None:
    mine = await create(client)
    cursor = (await changes(client, headers=BOB))["cursor"]
    await client.delete(f"/api/tasks/{mine['id']}", headers=ALICE)
    await create(client)
    assert await changes(client, cursor, headers=BOB) == {
        "tasks": [], "deleted": [], "cursor": cursor, "has_more": False
    }  # fmt: skip


@pytest.mark.parametrize(
    "since",
    [
        "",
        "garbage",
        "not base64!",
        base64.urlsafe_b64encode(b"2.1.0").decode(),
        base64.urlsafe_b64encode(b"1.-1.0").decode(),
        base64.urlsafe_b64encode(b"1.1").decode(),
        base64.urlsafe_b64encode(b"1.99999999999999999999.0").decode(),
        base64.urlsafe_b64encode(b"1.01.0").decode().rstrip("="),
        base64.urlsafe_b64encode("1.\u0661.0".encode()).decode(),  # an Arabic-Indic digit
        "x" * 101,
    ],
)
async def test_a_malformed_cursor_is_a_400(client: httpx.AsyncClient, since: str) -> None:
    response = await client.get("/api/tasks/changes", params={"since": since}, headers=ALICE)
    assert response.status_code in (400, 422), response.text
    assert "detail" in response.json()
    if response.status_code == 400:
        assert response.json() == error_json(
            "Malformed cursor: pass `since` exactly as a previous answer's `cursor`, "
            "or leave it out to fetch everything"
        )


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-1"])
async def test_a_limit_out_of_range_is_a_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/api/tasks/changes", params={"limit": limit}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


GONE = error_json(
    "This cursor is too old (deletions since then are no longer kept) or not from this "
    "account: fetch /api/tasks/changes without `since`, replace the local copy with the "
    "answer, and continue from its cursor"
)


async def test_a_cursor_ahead_of_the_account_is_a_410(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await create(client)
    cursor = (await changes(client))["cursor"]
    response = await client.get("/api/tasks/changes", params={"since": cursor}, headers=BOB)
    assert response.status_code == 410
    assert response.json() == GONE


async def test_a_cursor_older_than_the_purged_tombstones_is_a_410(
    client: httpx.AsyncClient, database_url: str
) -> None:
    task = await create(client)
    old = (await changes(client))["cursor"]
    await client.delete(f"/api/tasks/{task['id']}", headers=ALICE)
    recent = (await changes(client))["cursor"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("update app.task_tombstones set deleted_at = now() - interval '31 days'")
    purged = dict(purge(app_settings(database_url), database_url))
    assert purged["app.task_tombstones"] == 1
    response = await client.get("/api/tasks/changes", params={"since": old}, headers=ALICE)
    assert response.status_code == 410
    assert response.json() == GONE
    assert (await changes(client, recent))["deleted"] == []
    resynced = await changes(client)
    assert resynced["tasks"] == []
    assert (await changes(client, resynced["cursor"]))["has_more"] is False


async def test_the_changes_route_is_reached_under_the_other_path_forms(
    client: httpx.AsyncClient,
) -> None:
    await create(client)
    for path in ("/tasks/changes", "/api/alice/tasks/changes", "/api/tasks/changes/"):
        response = await client.get(path, headers=ALICE)
        assert response.status_code == 200, path
        assert len(response.json()["tasks"]) == 1


class Replica:
    """A client's local copy, kept by the feed alone: merge by (id, version), drop tombstones."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.tasks: dict[int, dict] = {}
        self.cursor: str | None = None

    async def sync(self, limit: int) -> None:
        while True:
            feed = await changes(self.client, self.cursor, self.headers, limit=limit)
            for task in feed["tasks"]:
                known = self.tasks.get(task["id"])
                if known is None or known["version"] < task["version"]:
                    self.tasks[task["id"]] = task
            for task_id in feed["deleted"]:
                self.tasks.pop(task_id, None)
            self.cursor = feed["cursor"]
            if not feed["has_more"]:
                return


async def test_two_clients_writing_at_random_at_once_end_with_the_same_tasks(
    client: httpx.AsyncClient,
) -> None:
    """Two devices of one user write at random, concurrently, and sync through the feed in
    small pages between writes; after a last sync both hold exactly what the API lists."""
    rng = random.Random(13)
    replicas = [Replica(client, ALICE), Replica(client, ALICE)]

    async def device(replica: Replica, seed: int) -> None:
        own = random.Random(seed)
        for _ in range(40):
            known = list(replica.tasks)
            step = own.choice(["create", "create", "patch", "toggle", "delete", "sync"])
            if step == "create" or not known:
                await client.post("/api/tasks", json={"title": f"t{own.random()}"}, headers=ALICE)
            elif step == "sync":
                await replica.sync(limit=own.randint(1, 3))
            else:
                url = f"/api/tasks/{own.choice(known)}"
                if step == "patch":
                    await client.patch(url, json={"title": f"p{own.random()}"}, headers=ALICE)
                elif step == "toggle":
                    await client.patch(f"{url}/toggle", headers=ALICE)
                else:
                    await client.delete(url, headers=ALICE)

    await asyncio.gather(*(device(r, rng.randrange(1 << 30)) for r in replicas))
    for replica in replicas:
        await replica.sync(limit=2)
    listed = {t["id"]: t for t in (await client.get("/api/tasks", headers=ALICE)).json()}
    assert replicas[0].tasks == listed
    assert replicas[1].tasks == listed
    assert len(listed) > 5


async def test_a_browser_may_send_if_none_match_and_read_the_etag(
    client: httpx.AsyncClient,
) -> None:
    preflight = await client.options(
        "/api/tasks",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,if-none-match",
        },
    )
    assert preflight.status_code == 200
    assert "if-none-match" in preflight.headers["access-control-allow-headers"].lower()
    listed = await client.get("/api/tasks", headers={**ALICE, "Origin": "http://localhost:3000"})
    assert "etag" in listed.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_the_feed_is_read_only(client: httpx.AsyncClient, method: str) -> None:
    """Not the 415 or 422 of /{task_id}, which "changes" is not."""
    response = await client.request(method, "/api/tasks/changes", headers=ALICE, json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["detail"] == "Method Not Allowed"

"""GET /api/tasks with a query: each filter, each order both ways, keyset pages that neither
repeat nor skip a task while others are written, page numbers, the object shape, and a clean
4xx for every bad parameter. Another user's tasks never appear, whatever the query."""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from api.main import create_app
from tests.conftest import app_settings, http_client
from tests.utils.tokens import auth

ALICE = auth("alice")
BOB = auth("bob")

TASKS: list[dict[str, Any]] = [
    {"title": "Buy milk", "description": "2 litres", "priority": "high", "tags": ["home"],
     "due_date": "2026-12-03", "position": 3},
    {"title": "call the bank", "priority": "low", "tags": ["work", "phone"],
     "due_date": "2026-12-01T09:00:00Z", "position": 1, "completed": True},
    {"title": "Write report", "description": "Q4 MILK sales, 100% done?", "tags": ["work"],
     "position": 2},
    {"title": "water plants", "priority": "medium", "due_date": "2026-12-10", "position": 0},
    {"title": "pay_rent", "priority": "high", "completed": True, "position": 5},
]  # fmt: skip


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> list[int]:
    ids = []
    for task in TASKS:
        response = await client.post("/api/tasks", json=task, headers=ALICE)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    # Bob's tasks match every filter below: none may show in Alice's lists.
    for task in TASKS:
        response = await client.post(
            "/api/tasks", json={**task, "title": f"bob {task['title']}"}, headers=BOB
        )
        assert response.status_code == 201
    return ids


async def titles(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] = ALICE
) -> list[str]:
    response = await client.get(f"/api/tasks?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Buy milk", "call the bank", "Write report", "water plants", "pay_rent"]),
        ("completed=true", ["call the bank", "pay_rent"]),
        ("completed=false", ["Buy milk", "Write report", "water plants"]),
        ("status=completed", ["call the bank", "pay_rent"]),
        ("status=pending", ["Buy milk", "Write report", "water plants"]),
        (
            "status_filter=all",
            ["Buy milk", "call the bank", "Write report", "water plants", "pay_rent"],
        ),
        ("status_filter=done", ["call the bank", "pay_rent"]),
        ("priority=high", ["Buy milk", "pay_rent"]),
        ("priority=2", ["water plants"]),
        ("priority=none", ["Write report"]),
        ("tag=work", ["call the bank", "Write report"]),
        ("tag=Work", []),
        ("due_after=2026-12-02", ["Buy milk", "water plants"]),
        ("due_before=2026-12-03", ["call the bank"]),
        ("due_after=2026-12-01&due_before=2026-12-04", ["Buy milk", "call the bank"]),
        ("q=milk", ["Buy milk", "Write report"]),
        ("search=MILK", ["Buy milk", "Write report"]),
        ("q=100%25", ["Write report"]),  # % is a character, not a wildcard
        ("q=y_r", ["pay_rent"]),  # and so is _
        ("q=nothing", []),
        ("q=milk&completed=false&priority=high&tag=home", ["Buy milk"]),
        ("completed=true&status=pending", []),  # no task is both
        ("sort=title", ["Buy milk", "Write report", "call the bank", "pay_rent", "water plants"]),
        (
            "sort=position",
            ["water plants", "call the bank", "Write report", "Buy milk", "pay_rent"],
        ),
        (
            "sort_by=position&sort_order=desc",
            ["pay_rent", "Buy milk", "Write report", "call the bank", "water plants"],
        ),
        (
            "sort=priority&order=desc",
            ["pay_rent", "Buy milk", "water plants", "call the bank", "Write report"],
        ),
        (
            "sort=due_date",
            ["call the bank", "Buy milk", "water plants", "Write report", "pay_rent"],
        ),
        (
            "sort=created&order=desc",
            ["pay_rent", "water plants", "Write report", "call the bank", "Buy milk"],
        ),
        (
            "sort=updated_at",
            ["Buy milk", "call the bank", "Write report", "water plants", "pay_rent"],
        ),
        (
            "unknown=ignored",
            ["Buy milk", "call the bank", "Write report", "water plants", "pay_rent"],
        ),
    ],
)
async def test_filters_and_orders(
    client: httpx.AsyncClient, seeded: list[int], query: str, expected: list[str]
) -> None:
    assert await titles(client, query) == expected
    assert all(title.startswith("bob ") for title in await titles(client, query, BOB))


@pytest.mark.parametrize(
    "sort", ["created", "updated", "due_date", "priority", "title", "position"]
)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_keyset_pages_add_up_to_the_whole_list(
    client: httpx.AsyncClient, seeded: list[int], sort: str, order: str
) -> None:
    whole = await titles(client, f"sort={sort}&order={order}")
    url: str | None = f"/api/tasks?sort={sort}&order={order}&limit=2"
    pages = []
    while url is not None:
        response = await client.get(url, headers=ALICE)
        assert response.status_code == 200
        pages.append([task["title"] for task in response.json()])
        link = response.headers.get("link")
        url = None if link is None else link[1 : link.index(">")]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [title for page in pages for title in page] == whole


async def test_a_write_between_pages_neither_repeats_nor_skips(
    client: httpx.AsyncClient, seeded: list[int]
) -> None:
    first = await client.get("/api/tasks?limit=2", headers=ALICE)
    assert [task["id"] for task in first.json()] == seeded[:2]
    await client.delete(f"/api/tasks/{seeded[0]}", headers=ALICE)  # on the page already read
    await client.post("/api/tasks", json={"title": "new"}, headers=ALICE)  # after every page
    link = first.headers["link"]
    cursor = parse_qs(urlparse(link[1 : link.index(">")]).query)["cursor"][0]
    rest = await client.get(f"/api/tasks?limit=10&cursor={cursor}", headers=ALICE)
    assert [task["title"] for task in rest.json()] == [
        "Write report",
        "water plants",
        "pay_rent",
        "new",
    ]
    assert "link" not in rest.headers


async def test_page_numbers(client: httpx.AsyncClient, seeded: list[int]) -> None:
    second = await client.get("/api/tasks?page=2&page_size=2&sort_by=title", headers=ALICE)
    assert [task["title"] for task in second.json()] == ["call the bank", "pay_rent"]
    assert second.headers["x-total-count"] == "5"
    assert "page=3" in second.headers["link"]
    last = await client.get("/api/tasks?page=3&page_size=2&sort_by=title", headers=ALICE)
    assert [task["title"] for task in last.json()] == ["water plants"]
    assert "link" not in last.headers
    beyond = await client.get("/api/tasks?page=9&page_size=2", headers=ALICE)
    assert beyond.json() == []


@pytest.fixture
async def object_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(
        create_app(app_settings(database_url, task_list_shape="object"))
    ) as http:
        yield http


async def test_the_object_shape(object_client: httpx.AsyncClient) -> None:
    """Frontend B reads {tasks, count}; frontend C reads {tasks, total, page, page_size}."""
    for n in range(3):
        await object_client.post("/api/tasks", json={"title": f"t{n}"}, headers=ALICE)
    whole = (await object_client.get("/api/tasks?status_filter=all", headers=ALICE)).json()
    assert [task["title"] for task in whole["tasks"]] == ["t0", "t1", "t2"]
    assert {key: whole[key] for key in ("count", "total", "page", "page_size", "next_cursor")} == {
        "count": 3, "total": 3, "page": None, "page_size": None, "next_cursor": None,
    }  # fmt: skip
    plain = (await object_client.get("/api/tasks", headers=ALICE)).json()
    assert plain == whole
    paged = (
        await object_client.get(
            "/api/tasks?page=2&page_size=2&sort_by=title&sort_order=desc", headers=ALICE
        )
    ).json()
    assert [task["title"] for task in paged["tasks"]] == ["t0"]
    assert {key: paged[key] for key in ("count", "total", "page", "page_size")} == {
        "count": 1, "total": 3, "page": 2, "page_size": 2,
    }  # fmt: skip
    first = (await object_client.get("/api/tasks?limit=2", headers=ALICE)).json()
    after = await object_client.get(
        f"/api/tasks?limit=2&cursor={first['next_cursor']}", headers=ALICE
    )
    assert [task["title"] for task in after.json()["tasks"]] == ["t2"]
    assert (await object_client.get("/api/tasks", headers=BOB)).json()["tasks"] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("sort=colour", 422),
        ("order=sideways", 422),
        ("status=maybe", 422),
        ("completed=yes-please", 422),
        ("priority=urgent", 422),
        ("due_after=soon", 422),
        ("limit=0", 422),
        ("limit=1001", 422),
        ("page=0", 422),
        ("page_size=5000", 422),
        ("q=", 422),
        (f"q={'x' * 201}", 422),
        ("q=a%00b", 422),
        ("tag=" + "x" * 51, 422),
        ("cursor=not-a-cursor", 400),
        ("cursor=WyJ0aXRsZSIsZmFsc2UsIngiLDFd", 400),  # a title cursor, under the created order
        ("cursor=WyJjcmVhdGVkIixmYWxzZSwieCIsMV0", 400),  # created, with a key that is no id
        ("cursor=WyJjcmVhdGVkIixmYWxzZSwiMSIsMV0&page=2", 400),
    ],
)
async def test_a_bad_parameter_is_a_clean_4xx(
    client: httpx.AsyncClient, seeded: list[int], query: str, status: int
) -> None:
    response = await client.get(f"/api/tasks?{query}", headers=ALICE)
    assert response.status_code == status, response.text
    assert response.json()["detail"]

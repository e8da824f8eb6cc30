"""Writers that race: PostgreSQL's row locks and the version trigger pick exactly one winner."""

import asyncio

import httpx

from tests.utils.tokens import auth

ALICE = auth("alice")


async def test_two_puts_with_the_same_if_match_one_wins(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/tasks", json={"title": "race"}, headers=ALICE)
    url = created.headers["location"]
    for round_ in range(5):
        etag = (await client.get(url, headers=ALICE)).headers["etag"]
        headers = {**ALICE, "If-Match": etag}
        answers = await asyncio.gather(
            client.put(url, json={"title": f"left {round_}"}, headers=headers),
            client.put(url, json={"title": f"right {round_}"}, headers=headers),
        )
        assert sorted(r.status_code for r in answers) == [200, 412]
        winner = next(r for r in answers if r.status_code == 200).json()
        assert (await client.get(url, headers=ALICE)).json() == winner


async def test_concurrent_deletes_with_the_same_if_match_one_wins(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/api/tasks", json={"title": "race"}, headers=ALICE)
    url = created.headers["location"]
    headers = {**ALICE, "If-Match": created.headers["etag"]}
    answers = await asyncio.gather(*(client.delete(url, headers=headers) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [204, 404, 404]


async def test_concurrent_toggles_lose_no_update(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/tasks", json={"title": "flip"}, headers=ALICE)
    url = created.headers["location"]
    answers = await asyncio.gather(
        *(client.patch(f"{url}/toggle", headers=ALICE) for _ in range(9))
    )
    assert all(r.status_code == 200 for r in answers)
    final = (await client.get(url, headers=ALICE)).json()
    assert final["version"] == 10
    assert final["completed"] is True  # nine flips from false

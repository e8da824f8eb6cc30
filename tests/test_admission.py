"""api.admission.Admission around a small ASGI app whose requests finish when the test says:
how many get in at once, in which order the rest follow, and when they give up with 503."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.admission import Admission


class Gate:
    """An app whose requests each wait for a release; it records the order they got in."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered.append(scope["path"])
        if scope["path"] != "/healthz":
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
async def client(gate: Gate) -> AsyncIterator[httpx.AsyncClient]:
    admission = Admission(gate, limit=2, timeout=0.5, exempt=frozenset({"/healthz"}))
    transport = httpx.ASGITransport(app=admission)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        client.admission = admission  # type: ignore[attr-defined]
        yield client


async def until(condition: object, limit: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.005)


async def test_the_rest_wait_and_enter_in_arrival_order(
    client: httpx.AsyncClient, gate: Gate
) -> None:
    paths = [f"/r{n}" for n in range(6)]
    requests = []
    for path in paths:  # one by one, so that arrival order is certain
        requests.append(asyncio.create_task(client.get(path)))
        await asyncio.sleep(0.01)
    await until(lambda: len(gate.entered) == 2)
    await asyncio.sleep(0.05)
    assert gate.entered == paths[:2]  # the limit holds while the first two are inside
    gate.release.set()
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [200] * 6
    assert gate.entered == paths
    assert client.admission.inside == 0  # type: ignore[attr-defined]


async def test_a_request_that_waits_too_long_gets_503_and_frees_nothing(
    client: httpx.AsyncClient, gate: Gate
) -> None:
    inside = [asyncio.create_task(client.get(f"/in{n}")) for n in range(2)]
    await until(lambda: len(gate.entered) == 2)
    started = asyncio.get_running_loop().time()
    late = await client.get("/late")
    waited = asyncio.get_running_loop().time() - started
    assert late.status_code == 503
    assert late.headers["retry-after"] == "1"
    assert late.json() == {"detail": "Too busy, retry later"}
    assert 0.4 < waited < 2.0
    assert "/late" not in gate.entered
    gate.release.set()
    assert [r.status_code for r in await asyncio.gather(*inside)] == [200, 200]
    # The expired wait left no place behind: the next request gets straight in.
    assert (await client.get("/after")).status_code == 200
    assert client.admission.inside == 0  # type: ignore[attr-defined]


async def test_health_checks_never_wait(client: httpx.AsyncClient, gate: Gate) -> None:
    inside = [asyncio.create_task(client.get(f"/in{n}")) for n in range(3)]
    await until(lambda: len(gate.entered) == 2)
    health = await asyncio.wait_for(client.get("/healthz"), 0.3)
    assert health.status_code == 200
    gate.release.set()
    await asyncio.gather(*inside)


async def test_a_cancelled_wait_gives_up_its_place(client: httpx.AsyncClient, gate: Gate) -> None:
    inside = [asyncio.create_task(client.get(f"/in{n}")) for n in range(2)]
    await until(lambda: len(gate.entered) == 2)
    waiting = asyncio.create_task(client.get("/gone"))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.release.set()
    await asyncio.gather(*inside)
    assert "/gone" not in gate.entered
    assert client.admission.inside == 0  # type: ignore[attr-defined]
    assert (await client.get("/after")).status_code == 200

"""api.web.admission.Admission around a small ASGI app whose requests finish when the test says:
how many get in at once, in which order the rest follow, when they give up with 503, and what
happens to a waiting request whose client hangs up, or that carries a body."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from api.web.admission import WATCH_AFTER, Admission, stepping_aside
from tests.utils.errors import error_json


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
    admission = client.admission  # type: ignore[attr-defined]
    requests = []
    for n, path in enumerate(paths):  # each inside or queued before the next is sent
        requests.append(asyncio.create_task(client.get(path)))
        await until(lambda n=n: len(gate.entered) + len(admission.waiting) == n + 1)
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
    assert late.json() == error_json("Too busy, retry later")
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


class Hashing:
    """An app whose /sign-in steps aside until `hashed` is set (a password hash in its thread
    pool); other requests wait for `release`. It logs who got in, and when /sign-in was back."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.hashed = asyncio.Event()
        self.release = asyncio.Event()
        self.fail = False  # the hash raises instead

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.log.append(scope["path"])
        if scope["path"] == "/sign-in":
            async with stepping_aside():
                await self.hashed.wait()
                if self.fail:
                    raise RuntimeError("hashing failed")
            self.log.append("back")
        else:
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def one_place(
    deadline: float,
) -> AsyncIterator[tuple[Hashing, Admission, httpx.AsyncClient]]:
    app = Hashing()
    admission = Admission(app, limit=1, timeout=deadline)
    transport = httpx.ASGITransport(app=admission)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield app, admission, client


async def test_a_request_stepping_aside_lends_its_place_and_takes_the_next_one_first() -> None:
    async with one_place(deadline=5) as (app, admission, client):
        sign_in = asyncio.create_task(client.get("/sign-in"))
        await until(lambda: app.log == ["/sign-in"])
        other = asyncio.create_task(client.get("/other"))  # gets the place sign-in lent
        await until(lambda: app.log == ["/sign-in", "/other"])
        queued = asyncio.create_task(client.get("/queued"))
        await asyncio.sleep(0.05)
        app.hashed.set()  # sign-in is back while /other holds the place and /queued waits
        await asyncio.sleep(0.05)
        assert app.log == ["/sign-in", "/other"]
        app.release.set()
        responses = await asyncio.gather(sign_in, other, queued)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert app.log == ["/sign-in", "/other", "back", "/queued"]  # back before the queue
    assert admission.inside == 0


async def test_coming_back_has_no_deadline() -> None:
    async with one_place(deadline=0.2) as (app, admission, client):
        sign_in = asyncio.create_task(client.get("/sign-in"))
        await until(lambda: app.log == ["/sign-in"])
        other = asyncio.create_task(client.get("/other"))
        await until(lambda: len(app.log) == 2)
        app.hashed.set()
        await asyncio.sleep(0.4)  # twice the queue's deadline
        assert not sign_in.done()
        app.release.set()
        assert (await sign_in).status_code == 200
        assert (await other).status_code == 200
    assert admission.inside == 0


async def test_a_failure_while_aside_ends_the_request_without_a_place() -> None:
    async with one_place(deadline=5) as (app, admission, client):
        app.fail = True
        sign_in = asyncio.create_task(client.get("/sign-in"))
        await until(lambda: app.log == ["/sign-in"])
        other = asyncio.create_task(client.get("/other"))
        await until(lambda: len(app.log) == 2)
        app.hashed.set()
        with pytest.raises(RuntimeError):  # at once: it does not wait for /other's place
            await asyncio.wait_for(sign_in, 1)
        assert admission.inside == 1  # /other's
        app.release.set()
        assert (await other).status_code == 200
        assert (await client.get("/after")).status_code == 200
    assert admission.inside == 0


class Client:
    """One client's side of an ASGI request: its body in chunks, then silence until it hangs
    up; what the application sent back."""

    def __init__(self, path: str, chunks: tuple[bytes, ...] = (b"",)):
        self.scope: Scope = {"type": "http", "path": path, "method": "POST", "headers": []}
        self.messages = [
            {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
            for n, chunk in enumerate(chunks)
        ]
        self.hung_up = asyncio.Event()
        self.reads = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.reads += 1
        if self.messages:
            return self.messages.pop(0)
        await self.hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def call(self, app: Admission) -> "asyncio.Task[None]":
        return asyncio.create_task(app(self.scope, self.receive, self.send))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the request's body, read to its end."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_a_client_that_hangs_up_while_waiting_leaves_the_queue(gate: Gate) -> None:
    admission = Admission(gate, limit=1, timeout=5.0)
    holder, gone, next_one = Client("/holder"), Client("/gone"), Client("/next")
    held = holder.call(admission)
    await until(lambda: gate.entered == ["/holder"])
    gone_call = gone.call(admission)
    next_call = next_one.call(admission)
    await asyncio.sleep(WATCH_AFTER + 0.05)
    gone.hung_up.set()
    await asyncio.wait_for(gone_call, 1.0)  # it left while the holder still holds the place
    assert not held.done()
    assert gone.sent == []
    gate.release.set()
    await asyncio.wait_for(asyncio.gather(held, next_call), 1.0)
    assert gate.entered == ["/holder", "/next"]
    assert next_one.body == b"/next"
    assert admission.inside == 0
    assert not admission.queued()


async def test_a_waiting_request_keeps_its_body() -> None:
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/holder":
            await release.wait()
        await echo(scope, receive, send)

    admission = Admission(app, limit=1, timeout=5.0)
    holder = Client("/holder")
    waiter = Client("/echo", chunks=(b'{"title": ', b'"kept"}'))
    held = holder.call(admission)
    waited = waiter.call(admission)
    await until(lambda: waiter.reads >= 3)  # both chunks read, now listening for a hang-up
    release.set()
    await asyncio.wait_for(asyncio.gather(held, waited), 1.0)
    assert waiter.body == b'{"title": "kept"}'
    assert admission.inside == 0


class SlowToStop(Client):
    """A client whose receive channel takes a while to give up when cancelled."""

    async def receive(self) -> Message:
        try:
            return await super().receive()
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)
            raise


async def test_a_request_cancelled_as_it_gets_its_turn_passes_the_place_on(gate: Gate) -> None:
    admission = Admission(gate, limit=1, timeout=5.0)
    holder, waiter = Client("/holder"), SlowToStop("/waiter")
    held = holder.call(admission)
    await until(lambda: gate.entered == ["/holder"])
    waited = waiter.call(admission)
    await asyncio.sleep(WATCH_AFTER + 0.05)  # listening for a hang-up now
    gate.release.set()
    await asyncio.wait_for(held, 1.0)
    await asyncio.sleep(0.02)  # it has its turn, and waits for its listening to stop
    waited.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waited
    assert gate.entered == ["/holder"]
    assert admission.inside == 0  # the place was passed on, not lost


@pytest.mark.parametrize(
    "headers",
    [
        [(b"transfer-encoding", b"chunked")],  # unbounded: the body limit cannot have checked it
        [(b"expect", b"100-continue"), (b"content-length", b"2")],  # the read would send 100
    ],
    ids=["chunked", "expects-100-continue"],
)
async def test_a_request_whose_body_must_wait_is_not_read_while_it_waits(
    gate: Gate, headers: list[tuple[bytes, bytes]]
) -> None:
    admission = Admission(gate, limit=1, timeout=5.0)
    holder, waiter = Client("/holder"), Client("/waiter", chunks=(b"{", b"}"))
    waiter.scope["headers"] = headers
    held = holder.call(admission)
    await until(lambda: gate.entered == ["/holder"])
    waited = waiter.call(admission)
    await asyncio.sleep(WATCH_AFTER + 0.1)
    assert waiter.reads == 0
    gate.release.set()
    await asyncio.wait_for(asyncio.gather(held, waited), 1.0)
    assert gate.entered == ["/holder", "/waiter"]

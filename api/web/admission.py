"""Admission control: at most a fixed number of requests inside the application at once, the
rest waiting their turn in arrival order for at most a deadline, then 503 with Retry-After.

Without it, an overload (thousands of connections) puts every request through parsing,
token checks and routing, only to wait for a database connection that most of them will not
get in time: the event loop spends itself on work that is thrown away, and even a health
check waits seconds for its turn. A waiting request here costs one future and two timers.

A request that has waited WATCH_AFTER seconds starts listening for its client hanging up, and
leaves the queue when it does: after a burst of clients that gave up, the queue does not make
the next client wait while it works through requests nobody will read. It reads the request's
body to do so (the body limit outside has bounded a body of declared length; a chunked body is
not read, nor one that waits for `100 Continue`; such a request keeps its place) and replays
it to the application.

A request that waits for something other than the database or the event loop (a password hash
in its thread pool) steps aside meanwhile (`stepping_aside`): its place goes to the next
request, and it takes the next free place when it comes back, ahead of the queue and without a
deadline, since it was admitted once. Sign-in floods then queue for the hashing threads, not
for the places every other request needs.
"""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import metrics
from api.web.unavailable import too_busy

WATCH_AFTER = 0.1  # seconds in the queue before a request watches for its client hanging up

Outcome = Literal["admitted", "expired", "gone"]
PASSIVE = frozenset({b"transfer-encoding", b"expect"})


@dataclass(slots=True)
class Place:
    """The admitted request's place, in its task's context, for `stepping_aside`."""

    admission: "Admission"
    held: bool = True


_place: ContextVar[Place | None] = ContextVar("admission_place", default=None)


class Admission:
    """Lets `limit` requests through at once; the next ones wait in a FIFO queue, each for at
    most `timeout` seconds, and are then answered 503. Paths in `exempt` (the health checks)
    never wait. One instance per process, on that process's event loop."""

    def __init__(
        self, app: ASGIApp, limit: int, timeout: float, exempt: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.exempt = exempt
        self.inside = 0
        self.waiting: deque[asyncio.Future[Outcome]] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if not self.enter_now():
            watch = Watch(scope, receive)
            queued = time.perf_counter()
            outcome = await self.wait_turn(watch)
            metrics.ADMISSION_WAIT.labels(outcome).observe(time.perf_counter() - queued)
            if outcome == "gone":  # nobody to answer
                return
            if outcome == "expired":
                await busy(scope, receive, send)
                return
            receive = watch.replay()
        place = Place(self)
        token = _place.set(place)
        try:
            await self.app(scope, receive, send)
        finally:
            _place.reset(token)
            if place.held:
                place.held = False  # a task the request started cannot leave again
                self.leave()

    def enter_now(self) -> bool:
        """Takes a place if one is free and nobody is waiting for it."""
        if self.inside < self.limit and not self.queued():
            self.inside += 1
            return True
        return False

    def queued(self) -> bool:
        """Whether anyone is still waiting (dropping those whose wait ended at the front)."""
        while self.waiting and self.waiting[0].done():
            self.waiting.popleft()
        return bool(self.waiting)

    async def wait_turn(self, watch: "Watch") -> Outcome:
        """The outcome: "admitted" once a leaving request hands over its place, "expired"
        after `timeout`, "gone" when the client hangs up first."""
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[Outcome] = loop.create_future()
        self.waiting.append(turn)
        timer = loop.call_later(self.timeout, settle, turn, "expired")
        watcher = loop.call_later(WATCH_AFTER, watch.start, turn)
        try:
            outcome = await turn
        except asyncio.CancelledError:
            watch.cancel()
            if turn.done() and not turn.cancelled() and turn.result() == "admitted":
                self.leave()  # handed a place it will not use: pass it on
            raise
        finally:
            timer.cancel()
            watcher.cancel()
        try:
            await watch.stop()
        except BaseException:
            if outcome == "admitted":
                self.leave()  # cancelled while the watch stopped: pass the place on
            raise
        return outcome

    async def rejoin(self, place: Place) -> None:
        """Takes a place again for a request that stepped aside: the next free one, before
        anyone in the queue, with no deadline."""
        if self.enter_now():
            place.held = True
            return
        turn: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.waiting.appendleft(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()  # handed a place it will not use: pass it on
            raise
        place.held = True

    def leave(self) -> None:
        """Hands this request's place to the first one still waiting, else frees it."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result("admitted")
                return
        self.inside -= 1


@asynccontextmanager
async def stepping_aside() -> AsyncIterator[None]:
    """Gives up the current request's place for the duration of the block, and waits for one
    again after it (see the module's description); outside admission control, does nothing."""
    place = _place.get()
    if place is None or not place.held:
        yield
        return
    place.held = False
    place.admission.leave()
    yield  # on an exception (a cancellation too) the request ends without taking it back
    await place.admission.rejoin(place)


class Watch:
    """Listens on a waiting request's receive channel for the client hanging up, keeping what
    it reads (the body) for the application."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.receive = receive
        self.read: list[Message] = []
        self.task: asyncio.Task[None] | None = None
        # Not read while waiting: a chunked body (unbounded), or one the client sends only after
        # `100 Continue`, which the first receive would send, inviting a body that may get a 503.
        self.passive = any(name in PASSIVE for name, _ in scope["headers"])

    def start(self, turn: "asyncio.Future[Outcome]") -> None:
        if not self.passive and not turn.done():
            self.task = asyncio.get_running_loop().create_task(self.listen(turn))

    async def listen(self, turn: "asyncio.Future[Outcome]") -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                settle(turn, "gone")
                return
            self.read.append(message)

    async def stop(self) -> None:
        """Stops listening; re-raises what the listening failed with, if anything."""
        task, self.task = self.task, None
        if task is None:
            return
        task.cancel()  # a receive in progress gives up before taking a message
        try:
            await task
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise  # our own request is being cancelled too

    def cancel(self) -> None:
        """Stops listening, without waiting (the request itself is being cancelled)."""
        task, self.task = self.task, None
        if task is not None:
            task.cancel()

    def replay(self) -> Receive:
        """The receive channel for the application: what was read first, then the client."""
        return replaying(self.read, self.receive) if self.read else self.receive


def settle(turn: "asyncio.Future[Outcome]", outcome: Outcome) -> None:
    if not turn.done():
        turn.set_result(outcome)


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    await too_busy()(scope, receive, send)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive channel that hands out `messages`, already read from `receive` (a body), and
    then goes on with `receive` itself."""
    pending = deque(messages)

    async def replayed() -> Message:
        return pending.popleft() if pending else await receive()

    return replayed

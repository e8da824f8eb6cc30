"""Admission control: at most a fixed number of requests inside the application at once, the
rest waiting their turn in arrival order for at most a deadline, then 503 with Retry-After.

Without it, an overload (thousands of connections) puts every request through parsing,
token checks and routing, only to wait for a database connection that most of them will not
get in time: the event loop spends itself on work that is thrown away, and even a health
check waits seconds for its turn. A waiting request here costs one future and one timer.
"""

import asyncio
from collections import deque

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_AFTER_SECONDS = "1"


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
        self.waiting: deque[asyncio.Future[bool]] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.inside < self.limit and not self.queued():
            self.inside += 1
        elif not await self.wait_turn():
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.leave()

    def queued(self) -> bool:
        """Whether anyone is still waiting (dropping those whose wait ended at the front)."""
        while self.waiting and self.waiting[0].done():
            self.waiting.popleft()
        return bool(self.waiting)

    async def wait_turn(self) -> bool:
        """True once a leaving request hands over its place; False after `timeout`."""
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        self.waiting.append(turn)
        timer = loop.call_later(self.timeout, expire, turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result():
                self.leave()  # handed a place it will not use: pass it on
            raise
        finally:
            timer.cancel()

    def leave(self) -> None:
        """Hands this request's place to the first one still waiting, else frees it."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(True)
                return
        self.inside -= 1


def expire(turn: "asyncio.Future[bool]") -> None:
    if not turn.done():
        turn.set_result(False)


async def busy(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"detail": "Too busy, retry later"},
        503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )
    await response(scope, receive, send)

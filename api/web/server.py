"""The HTTP/1.1 protocol the service runs on: uvicorn's httptools protocol, with limits on
reading a request's head.

`todo-api serve` exposes uvicorn directly, and uvicorn's httptools protocol sets no limits of
its own: it takes any number of header fields of any size, and keeps a connection that sends
nothing, or sends its head a byte at a time, open for ever. Its one timer, timeout_keep_alive,
runs only after a response and stops at the first byte of the next request; its one size
limit, h11_max_incomplete_event_size, belongs to the h11 protocol. Any client could hold as
many connections as it liked, and grow a worker's memory by whatever it sent.

`LimitedHttpProtocol` adds what is missing, each bound a setting (api/settings.py):

- a request's line and header fields may total MAX_HEADER_BYTES, in at most MAX_HEADERS
  fields; beyond, the answer is 431 with a JSON `detail`, and the connection closes. Both are
  checked after every read, so an unfinished head (a header that never ends, say) holds at most
  that much memory, and a refused connection's buffers go with it;
- a request's head must be complete HEADER_TIMEOUT seconds after the connection opened or the
  previous response ended, else the connection closes;
- a new connection that sends nothing for KEEP_ALIVE_TIMEOUT seconds closes, as one kept alive
  does between requests (uvicorn's own timer, armed on connecting as well);
- a request's body must be complete BODY_TIMEOUT seconds after its head was, else the answer
  is 408 (when no response has started) and the connection closes: a client that sends its
  body a byte at a time would otherwise hold one of MAX_ACTIVE_REQUESTS for as long as it
  liked. The head's timer watches this too, so a BODY_TIMEOUT below HEADER_TIMEOUT takes
  effect only at HEADER_TIMEOUT;
- a request the HTTP parser cannot read (a bare CR or LF in a header, a NUL, a bad chunk) is
  answered 400 with a JSON `detail`, as every other error, not uvicorn's plain text.

On the way of every request this costs a few counters and one timer per connection, re-armed
only when it falls due. A head is measured field by field only when more bytes than the limit
were read for it (a large head, or a head and its body in one read), or when it came in the
same read as the request before it (pipelining).
"""

import asyncio
import functools
import json
import logging
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from api.web.error_body import error_body

# A refused connection's further bytes are read and dropped for this long, or up to this much.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024
FIELD_OVERHEAD = 4  # ": " and CRLF, around each header field as it was sent


@dataclass(frozen=True, slots=True)
class HeadLimits:
    max_bytes: int  # request line and header fields together
    max_fields: int
    timeout: float  # seconds to receive a whole head
    body_timeout: float  # seconds to receive a whole body, once its head is in


def http_protocol(
    *, max_header_bytes: int, max_headers: int, header_timeout: float, body_timeout: float
) -> "functools.partial[LimitedHttpProtocol]":
    """uvicorn's `http` option. A partial of the class rather than a class of its own, so that
    the limits travel with uvicorn's configuration to each worker process (WORKERS > 1)."""
    limits = HeadLimits(max_header_bytes, max_headers, header_timeout, body_timeout)
    return functools.partial(LimitedHttpProtocol, limits=limits)


class RefusedError(Exception):
    """Raised in a parser callback to stop parsing a head that broke a limit."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounds on reading each request's head (see the
    module's description)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.max_head_bytes = limits.max_bytes
        self.max_fields = limits.max_fields
        self.head_timeout = limits.timeout
        self.body_timeout = limits.body_timeout
        self.body_since: float | None = None  # when the body's time began; None: not awaited
        self.headers = []  # uvicorn's, made anew for each request; counted after every read
        # Bytes read since a head was completed or body bytes arrived: the head read so far, at
        # most. A head that began within the read that ended the previous request is counted
        # from the next read on, and measured when complete.
        self.head_bytes = 0
        self.head_measured = False
        self.head_since: float | None = None  # when this head's time began; None: not awaited
        self.head_timer: asyncio.TimerHandle | None = None
        self.refusal: str | None = None

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        self.head_since = self.loop.time()
        self.head_timer = self.loop.call_later(self.head_timeout, self.head_deadline)
        # An idle connection closes after timeout_keep_alive, the first request's wait too.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.stop_timers()

    def shutdown(self) -> None:
        """uvicorn is stopping (SIGTERM, Ctrl-C): the app's deadline starts now
        (api/web/shutdown.py, which the lifespan puts in the state it shares with us)."""
        shutdown = self.app_state.get("shutdown")
        if shutdown is not None:
            shutdown.begin()
        super().shutdown()

    def stop_timers(self) -> None:
        self._unset_keepalive_if_required()  # uvicorn leaves it armed when the peer resets
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def data_received(self, data: bytes) -> None:
        # uvicorn's data_received, with a refusal told apart from a malformed request, and
        # the head read so far checked after each read: a header or URL still arriving is held
        # by the parser, unreported, and the fields reported are held by uvicorn.
        self.head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self.refusal is not None:
                self.refuse(431, self.refusal)
                return
            self.logger.info("%s - invalid HTTP request refused with 400", self.peer())
            self.refuse(400, "Invalid HTTP request")
            return
        if self.head_bytes > self.max_head_bytes:
            self.refuse(431, self.too_large())
        elif len(self.headers) > self.max_fields:
            self.refuse(431, self.too_many())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_bytes == 0:  # begun after the previous request's end, in the same read
            self.head_measured = True

    def on_headers_complete(self) -> None:
        if len(self.headers) > self.max_fields:
            self.refusal = self.too_many()
            raise RefusedError
        # When no more bytes than the limit were read since the head began, it is within it.
        if (self.head_measured or self.head_bytes > self.max_head_bytes) and (
            len(self.url) + sum(len(n) + len(v) + FIELD_OVERHEAD for n, v in self.headers)
            > self.max_head_bytes
        ):
            self.refusal = self.too_large()
            raise RefusedError
        self.head_bytes = 0
        self.head_measured = False
        self.head_since = None
        super().on_headers_complete()
        self.body_since = self.loop.time()  # until on_message_complete, often in this same read

    def on_message_complete(self) -> None:
        self.body_since = None
        super().on_message_complete()

    def on_body(self, body: bytes) -> None:
        self.head_bytes = 0
        super().on_body(body)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:
            self.head_since = self.loop.time()  # no request queued behind it: the next head's

    def head_deadline(self) -> None:
        """The head timer: closes the connection once its head is late, else looks again when
        it could next be, and every head_timeout while a request is in progress."""
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.head_since is None and self.body_since is not None:
            wait = self.body_since + self.body_timeout - self.loop.time()
            if wait <= 0:
                self.body_late()
                return
        elif self.head_since is None:
            wait = self.head_timeout
        else:
            wait = self.head_since + self.head_timeout - self.loop.time()
            if wait <= 0:
                if self.logger.isEnabledFor(logging.DEBUG):
                    self.logger.debug("%s - request head not received in time", self.peer())
                self.transport.close()
                return
        self.head_timer = self.loop.call_later(wait, self.head_deadline)

    def body_late(self) -> None:
        """The body timer: 408 unless a response has started, then close. The app, waiting for
        the rest of the body, sees the client go away (http.disconnect)."""
        cycle = self.cycle
        if cycle.response_started:
            self.transport.close()
            return
        cycle.disconnected = True
        cycle.message_event.set()
        self.cycle = None  # type: ignore[assignment]  # refuse() answers no request in progress
        self.refuse(408, f"Request body not received within {self.body_timeout:g} s")

    def refuse(self, status: int, detail: str) -> None:
        """Answers `status` and closes; closes only, when a response is already under way."""
        self.logger.info("%s - request refused with %d: %s", self.peer(), status, detail)
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        body = json.dumps(error_body(detail), separators=(",", ":")).encode()
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"connection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.linger()

    def linger(self) -> None:
        """Hands the connection to a protocol that drops what the client still sends: closing
        with unread bytes would reset the connection, and the client could lose the answer."""
        self.stop_timers()
        self.connections.discard(self)
        self.parser = None  # type: ignore[assignment]  # as connection_lost does: frees its buffers
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
        transport.set_protocol(Lingering(transport, self.loop))

    def too_large(self) -> str:
        return f"Request headers are larger than {self.max_head_bytes} bytes"

    def too_many(self) -> str:
        return f"Request has more than {self.max_fields} header fields"

    def peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "-"


class Lingering(asyncio.Protocol):
    """Reads and drops a refused connection's bytes until the client closes its side, or
    LINGER_SECONDS pass, or LINGER_BYTES arrive."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.left = LINGER_BYTES
        self.timer = loop.call_later(LINGER_SECONDS, transport.close)

    def data_received(self, data: bytes) -> None:
        self.left -= len(data)
        if self.left < 0:
            self.transport.close()

    def eof_received(self) -> bool:
        return False  # the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()

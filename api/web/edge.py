"""The application's edge: the one ASGI layer of our own that every request passes before
admission control and FastAPI. It does four cheap things, in one pass over the scope:

- gives the request an id: the caller's X-Request-ID when it is a sane token, else a new one;
  handlers find it in request.state.request_id and the response carries it back;
- marks every response `Cache-Control: no-store`: nearly all of them carry a user's data or a
  token, and none of the rest (health, the API's documentation) is worth a cache's risk; and,
  when the request came over HTTPS, adds `Strict-Transport-Security`. The scheme is https only
  when uvicorn saw TLS itself, or a proxy in FORWARDED_ALLOW_IPS said so in X-Forwarded-Proto;
  a caller elsewhere cannot claim it (how-to/privacy.md);
- refuses a body over the limit with a JSON 413 before anything reads it: at once when
  Content-Length says so, else as soon as a streamed (chunked) body passes the limit;
- brings the routes' other forms to the canonical one FastAPI routes (api.web.paths), so
  each route is registered once.

Each of these as a middleware of its own would be another call frame and closure on every
request (how-to/benchmark.md); together they stay one.
"""

import re
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.web.error_body import error_response
from api.web.paths import canonical_path

REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class BodyTooLargeError(HTTPException):
    """An HTTPException, so that FastAPI's body reader lets it through instead of answering
    400 for a streamed body that grew too large."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body is larger than {max_bytes} bytes")


NO_STORE = (b"cache-control", b"no-store")


class Edge:
    def __init__(self, app: ASGIApp, max_body_bytes: int, hsts_max_age: int = 0) -> None:
        """`hsts_max_age`: seconds browsers keep to HTTPS after an HTTPS response; 0, none."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        hsts = (b"strict-transport-security", b"max-age=%d" % hsts_max_age)
        self.https_headers = (NO_STORE, hsts) if hsts_max_age else (NO_STORE,)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = length = b""
        chunked = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        request_id = given.decode() if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        extra = self.https_headers if scope.get("scheme") == "https" else (NO_STORE,)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Appended, not set: no handler sends these headers itself.
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                    *extra,
                ]
            await send(message)

        if length and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self.too_large(scope, receive, send_with_id)
            return
        canonical_path(scope)
        if not chunked:  # no body, or one whose declared length the server holds it to
            await self.app(scope, receive, send_with_id)
            return
        await self.limited(scope, receive, send_with_id)

    async def limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, reading a streamed body that may not grow past the limit."""
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLargeError:
            if started:
                raise
            await self.too_large(scope, receive, send)

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"Request body is larger than {self.max_body_bytes} bytes"
        await error_response(413, detail)(scope, receive, send)

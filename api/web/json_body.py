"""JSON bodies as the service reads them: one value per key. `{"title": "a", "title": "b"}`
is refused as malformed (400), because parsers disagree on which value wins (Python's, the
last; others, the first or an error), and a proxy or a log that read the other one would see
a different request than the one served."""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise json.JSONDecodeError("duplicate key in an object", "", 0)
    return found


def loads(raw: bytes | str) -> Any:
    """json.loads, refusing an object that names a key twice (json.JSONDecodeError, a
    ValueError, as for any malformed JSON)."""
    return json.loads(raw, object_pairs_hook=no_duplicates)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by `loads`: FastAPI calls the request's json()."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            # The same request, with this json(): cheaper than a second Request around it.
            request.__class__ = StrictJsonRequest
            return await handler(request)

        return strict

"""GET /api/tasks with a query: the filters, orders and pages real frontends ask for, read from
the query string into the one JSON document app.query_tasks (sql/functions) takes. Without any
of them, the list is the whole list, oldest first, as app.list_tasks answers it.

Several spellings name one thing, because frontends spell it differently: `q` and `search`,
`sort` and `sort_by`, `order` and `sort_order`, `status` and `status_filter`. Where a
frontend's parameter names no task field (an unknown sort, say), it is a 422, not ignored.

Pages are keyset pages: `limit` with the opaque `cursor` of the page before, which names the
last row's sort key and id, so a page is one index range and a write between two pages neither
repeats nor skips a row. `page` and `page_size` (an offset) are there for the frontends that
ask for them."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

from api.models import NO_NUL, PRIORITIES, any_case, due, due_columns, storable

Sort = Literal[
    "created", "created_at", "updated", "updated_at", "due_date", "due", "priority", "title",
    "position",
]  # fmt: skip
SORT_KEYS = {
    "created": "created", "created_at": "created", "updated": "updated", "updated_at": "updated",
    "due_date": "due_date", "due": "due_date", "priority": "priority", "title": "title",
    "position": "position",
}  # fmt: skip
StatusFilter = Literal["all", "pending", "completed", "done", "todo", "active"]
DONE = {
    "all": None,
    "pending": False,
    "todo": False,
    "active": False,
    "completed": True,
    "done": True,
}
LIMIT_MAX = 1000
PAGE_MAX = 1_000_000


def priority_filter(value: object) -> object:
    if value is None:
        return None
    text = str(value).lower()
    if text in PRIORITIES:
        return PRIORITIES[text] or 0
    if text in {"0", "1", "2", "3"}:
        return int(text)
    raise ValueError("priority must be low, medium, high, none, or 0 to 3")


def moment(value: object) -> object:
    """A due-date bound: a day is its 00:00 UTC."""
    if value is None:
        return None
    parsed = due(value)
    assert isinstance(parsed, str)
    at = due_columns(parsed)["due_at"]
    assert isinstance(at, datetime)
    return at.isoformat()


def bad_cursor() -> HTTPException:
    return HTTPException(
        status.HTTP_400_BAD_REQUEST,
        detail="Invalid cursor: pass the `cursor` of a Link header or next_cursor unchanged, "
        "with the same sort and order, or leave it out to start again",
    )


def encode_cursor(sort: str, descending: bool, after: list[Any]) -> str:
    raw = json.dumps([sort, descending, *after], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: str, descending: bool) -> list[Any]:
    """The (key, id) a cursor names; 400 for one that is not ours, or from another order."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError):
        raise bad_cursor() from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 4
        or decoded[:2] != [sort, descending]
        or not isinstance(decoded[2], str)
        or len(decoded[2]) > 1000
        or not isinstance(decoded[3], int)
        or isinstance(decoded[3], bool)
        or not 1 <= decoded[3] < 2**63
    ):
        raise bad_cursor()
    key = decoded[2]
    if not valid_key(sort, key):
        raise bad_cursor()
    return [key, decoded[3]]


def valid_key(sort: str, key: str) -> bool:
    """Whether `key` casts to the sort's type in app.query_tasks (a 400 here, not a 500 there)."""
    try:
        if sort in {"created", "priority", "position"}:
            return key.lstrip("-").isascii() and key.lstrip("-").isdigit() and abs(int(key)) < 2**63
        if sort in {"updated", "due_date"}:
            return key == "infinity" or datetime.fromisoformat(key).tzinfo is not None
    except ValueError:
        return False
    return "\x00" not in key  # a title


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """What a list asks for; `plain` when it asks for nothing (the whole list)."""

    filters: dict[str, object]
    sort: str
    descending: bool
    limit: int | None
    cursor: str | None
    page: int | None
    page_size: int | None

    @property
    def plain(self) -> bool:
        return not self.filters and self.sort == "created" and not self.descending and (
            self.limit is None and self.cursor is None and self.page is None
            and self.page_size is None
        )  # fmt: skip

    @property
    def paged(self) -> bool:
        return self.page is not None or self.page_size is not None

    @property
    def size(self) -> int | None:
        return self.page_size if self.paged else self.limit

    def document(self) -> dict[str, object]:
        """app.query_tasks's argument."""
        document: dict[str, object] = {
            **self.filters,
            "sort": self.sort,
            "descending": self.descending,
        }
        if self.cursor is not None:
            document["after"] = decode_cursor(self.cursor, self.sort, self.descending)
        if self.size is not None:
            document["limit"] = self.size
        if self.paged:
            document["offset"] = ((self.page or 1) - 1) * (self.page_size or 0)
            document["count"] = True
        return document


# No NUL, which PostgreSQL text cannot hold: a 422, not a database error.
Text = Annotated[
    str,
    StringConstraints(min_length=1),
    Field(json_schema_extra={"pattern": NO_NUL}),
    AfterValidator(storable),
]
Words = Annotated[Text, StringConstraints(max_length=200)]
PRIORITY_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": any_case(*PRIORITIES)},
        {"type": "integer", "minimum": 0, "maximum": 3},
    ]
}
MOMENT_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
Order = Literal["asc", "desc"]


class ListParams(BaseModel):
    """GET /api/tasks's query string, validated in one pass (a model, not a parameter each:
    the plain list pays next to nothing for the parameters it does not send). Parameters it
    does not name are ignored."""

    model_config = ConfigDict(extra="ignore")

    completed: bool | None = Field(None, description="Only tasks done (true) or not (false).")
    status: StatusFilter | None = Field(
        None, description="all, pending (also todo, active) or completed (also done)."
    )
    status_filter: StatusFilter | None = Field(None, description="The same as `status`.")
    priority: Annotated[
        int | None, BeforeValidator(priority_filter), WithJsonSchema(PRIORITY_SCHEMA)
    ] = Field(None, description="low, medium, high, or none, in any case; or 0 (none) to 3.")
    tag: Text | None = Field(None, max_length=50, description="Tasks with this tag.")
    due_after: Annotated[str | None, BeforeValidator(moment), WithJsonSchema(MOMENT_SCHEMA)] = (
        Field(None, description="Tasks due at or after this day or moment.")
    )
    due_before: Annotated[str | None, BeforeValidator(moment), WithJsonSchema(MOMENT_SCHEMA)] = (
        Field(None, description="Tasks due before this day or moment.")
    )
    q: Words | None = Field(
        None, description="Words the title or description contains, in any case."
    )
    search: Words | None = Field(None, description="The same as `q`.")
    sort: Sort | None = Field(
        None,
        description="The order: created (the default), updated, due_date, priority, title or "
        "position.",
    )
    sort_by: Sort | None = Field(None, description="The same as `sort`.")
    order: Order | None = Field(None, description="asc (the default) or desc.")
    sort_order: Order | None = Field(None, description="The same as `order`.")
    limit: int | None = Field(
        None, ge=1, le=LIMIT_MAX,
        description="At most this many tasks; the Link header names the next page.",
    )  # fmt: skip
    cursor: str | None = Field(
        None, max_length=2000,
        description="The next page's cursor, from the Link header or next_cursor.",
    )  # fmt: skip
    page: int | None = Field(
        None, ge=1, le=PAGE_MAX, description="A page number, from 1, with page_size."
    )
    page_size: int | None = Field(
        None, ge=1, le=LIMIT_MAX, description="Tasks a page, with page (default 20)."
    )


def task_query(request: Request) -> TaskQuery:
    """The list a query string asks for; 422 where a value is bad or two spellings of one
    thing disagree. The query string is validated here, with ListParams, rather than by
    FastAPI parameter by parameter, which cost the plain list four times its time in the
    application (how-to/benchmark.md); OpenAPI still lists every parameter (PARAMETERS)."""
    if not request.query_params:
        return PLAIN
    try:
        params = ListParams.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**issue, "loc": ("query", *issue["loc"])} for issue in exc.errors()]
        ) from None
    return to_query(params)


def to_query(params: ListParams) -> TaskQuery:
    filters: dict[str, object] = {
        name: value
        for name, value in (
            ("tag", params.tag),
            ("due_after", params.due_after),
            ("due_before", params.due_before),
            ("q", params.q if params.q is not None else params.search),
            ("priority", params.priority),
        )
        if value is not None
    }
    done = DONE[params.status or params.status_filter or "all"]
    if params.completed is not None:
        if done is not None and done != params.completed:
            filters["nothing"] = True  # done and not done: no task is both
        done = params.completed
    if done is not None:
        filters["completed"] = done
    if params.cursor is not None and params.page is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="Give cursor or page, not both")
    page_size = 20 if params.page is not None and params.page_size is None else params.page_size
    return TaskQuery(
        filters=filters,
        sort=SORT_KEYS[params.sort or params.sort_by or "created"],
        descending=(params.order or params.sort_order or "asc") == "desc",
        limit=params.limit if params.limit is not None or params.cursor is None else 100,
        cursor=params.cursor,
        page=params.page,
        page_size=page_size,
    )


PLAIN = to_query(ListParams.model_validate({}))


def parameters() -> list[dict[str, Any]]:
    """ListParams as OpenAPI query parameters, for the route's openapi_extra."""
    schema = ListParams.model_json_schema(ref_template="#/components/schemas/{model}")
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.pop("description", ""),
            "schema": field,
        }
        for name, field in schema["properties"].items()
    ]


PARAMETERS = parameters()

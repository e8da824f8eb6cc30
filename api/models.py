"""What crosses the API boundary. Limits mirror the check constraints in sql/migrations."""

import json
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

import pydantic
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    JsonValue,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    computed_field,
    model_validator,
)
from sqlmodel import Field, SQLModel
from typing_extensions import TypeAliasType

TITLE_MAX = 200  # app.tasks.title: 1..200 characters after trimming
# Patterns for OpenAPI, so that what it calls valid is what storable() and strip() let through:
# no NUL anywhere, and for a title or name one character that str.strip() keeps (the others, as
# str.isspace() has them, written out: the \\s of JSON Schema's regular expressions differs in
# U+001C..U+001F, U+0085 and U+FEFF). Lone surrogates, which storable() refuses too, no
# JSON Schema pattern can name.
NO_NUL = "^[^\\x00]*$"
WHITESPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"
    "\\u205f\\u3000"
)
NOT_BLANK = f"^[^\\x00]*[^\\x00{WHITESPACE}][^\\x00]*$"
DESCRIPTION_MAX = 2000  # app.tasks.description
VERSION_MAX = 2**31 - 1  # app.tasks.version is an integer
MAX_TOKEN_LENGTH = 16 * 1024  # far above any token we issue, and a bound on what is hashed
TAGS_MAX, TAG_MAX = 20, 50  # app_private.tags_are_valid
POSITION_MIN, POSITION_MAX = -(2**31), 2**31 - 1  # app.tasks.position is an integer
# Fields a task's JSON has that a client cannot set: taken and ignored when a client sends a
# task back as it read it, never kept as unknown fields.
READ_ONLY = frozenset({"id", "user_id", "version", "created_at", "updated_at"})
# The top-level fields the API does not model (app.tasks.extra, app_private.extra_is_valid).
EXTRA_FIELDS_MAX, EXTRA_KEY_MAX, EXTRA_BYTES_MAX, EXTRA_DEPTH_MAX = 20, 64, 8192, 16


def storable(value: str) -> str:
    """Text PostgreSQL can store: no NUL, and no lone surrogate (JSON's "\\ud800" escapes one;
    it is no character and has no UTF-8 form)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must not contain lone surrogates (unpaired \\ud800-\\udfff)") from None
    return value


def strip(value: object) -> object:
    """str.strip(): all Unicode whitespace, as the title check in sql/migrations trims
    (pydantic's strip_whitespace leaves U+001C..U+001F)."""
    return value.strip() if isinstance(value, str) else value


# The length is checked on the trimmed text; written after the bounds, strip still runs first
# (a before-validator wraps what precedes it), and a refusal reads "String should have at
# least 1 character", not pydantic's generic "Value should have at least 1 item".
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX),
    pydantic.Field(json_schema_extra={"pattern": NOT_BLANK}),
    BeforeValidator(strip),
    AfterValidator(storable),
]
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX),
    pydantic.Field(json_schema_extra={"pattern": NO_NUL}),
    AfterValidator(storable),
]


def integral(value: object) -> object:
    """JSON has one kind of number: 3.0 is the integer 3, as JSON Schema's `integer` says,
    though strict validation refuses a float. 3.5 stays a float, and is refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Version = Annotated[
    int,
    pydantic.Field(  # sqlmodel's Field would write the bounds as floats
        ge=1,
        le=VERSION_MAX,
        description="The version the client last read; a stale one is refused with 409.",
    ),
    BeforeValidator(integral),  # after the bounds, which OpenAPI then shows as they are
]


def not_null(*names: str, **extra: object) -> ConfigDict:
    """A model's config whose JSON Schema offers no null for the fields `names`: None there
    means "not given", and a null sent is refused (or, in a form, cannot be sent). Validation
    is unchanged; only what OpenAPI shows is."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            field = schema["properties"][name]
            options = [o for o in field.pop("anyOf") if o.get("type") != "null"]
            field.pop("default", None)
            (only,) = options
            schema["properties"][name] = {**only, **field}
        schema.update(extra)

    return ConfigDict(json_schema_extra=edit)


def examples(*values: JsonValue) -> ConfigDict:
    """A model's examples in OpenAPI (merged with the config it inherits)."""
    return ConfigDict(json_schema_extra={"examples": list(values)})


class Strict(SQLModel):
    # No unknown fields, and no coercion: "true" is not a boolean, "1" is not a version.
    model_config = ConfigDict(extra="forbid", strict=True)  # type: ignore[assignment]


# Priority: a name or the number frontends send; stored 1 (low) to 3 (high), null for none.
PRIORITIES = {"none": None, "low": 1, "medium": 2, "normal": 2, "high": 3}
PRIORITY_NAMES = ("low", "medium", "high")
# Another way to say `completed`, in the words frontends use.
STATUSES = {
    "pending": False, "todo": False, "open": False, "incomplete": False, "not_started": False,
    "in_progress": False, "completed": True, "complete": True, "done": True,
}  # fmt: skip


def any_case(*words: str) -> str:
    """A JSON Schema pattern for exactly one of `words`, in any case (ECMA-262 patterns have
    no case-insensitive flag)."""
    spelled = ("".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in w) for w in words)
    return f"^({'|'.join(spelled)})$"


def priority_number(value: object) -> object:
    """ "low", "medium" (or "normal"), "high", "none" in any case, 0 to 3 or null: the stored
    number."""
    if isinstance(value, str) and value.lower() in PRIORITIES:
        return PRIORITIES[value.lower()]
    value = integral(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 3:
            return value or None
        raise ValueError("priority must be 0 to 3, or low, medium or high")
    if value is None:
        return None
    raise ValueError("priority must be low, medium, high, none, or a number 0 to 3")


Priority = Annotated[
    int | None,
    BeforeValidator(priority_number),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": any_case(*PRIORITIES)},
                {"type": "integer", "minimum": 0, "maximum": 3},
                {"type": "null"},
            ],
            "description": "low, medium (also normal) or high, or 1 to 3; none, 0 or null for "
            "none. Answered as low, medium, high or null.",
        }
    ),
]


# RFC 3339's full-date and date-time, which JSON Schema's formats "date" and "date-time" name:
# what due_date takes, no more (Python's fromisoformat alone takes week dates, no offset, ...).
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")
NOT_A_DUE_DATE = (
    "due_date must be a date (2026-12-24) or a date-time with an offset (2026-12-24T17:30:00Z)"
)


def in_utc(moment: datetime) -> str:
    """The moment in UTC (PostgreSQL takes offsets up to 15:59 only; RFC 3339 allows 23:59),
    or as given where UTC is past Python's years 1 to 9999 (9999-12-31T23:00:00-05:00), which
    PostgreSQL stores and answers in UTC."""
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        return moment.isoformat()


def due(value: object) -> object:
    """A day (YYYY-MM-DD) or a moment (RFC 3339, with an offset): its ISO text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(NOT_A_DUE_DATE)
    try:
        if DAY.fullmatch(value):
            return date.fromisoformat(value).isoformat()
        if MOMENT.fullmatch(value):
            return in_utc(datetime.fromisoformat(value.upper()))
    except ValueError:  # 2026-02-30
        pass
    raise ValueError(NOT_A_DUE_DATE)


DueDate = Annotated[
    str | None,
    BeforeValidator(due),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
                {"type": "null"},
            ],
            "description": "A day (2026-12-24) or a moment with an offset "
            "(2026-12-24T17:00:00Z). Answered as sent: the day, or the moment in UTC.",
        }
    ),
]
Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TAG_MAX),
    pydantic.Field(json_schema_extra={"pattern": NOT_BLANK}),
    BeforeValidator(strip),
    AfterValidator(storable),
]


def no_repeats(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[
    list[Tag],
    AfterValidator(no_repeats),
    Field(max_length=TAGS_MAX, description="Up to 20 labels of 1 to 50 characters; repeats "
          "are dropped, the order kept."),
]  # fmt: skip
Position = Annotated[
    int,
    pydantic.Field(ge=POSITION_MIN, le=POSITION_MAX, description="A manual order, lowest first."),
    BeforeValidator(integral),
]
Status = Annotated[
    str,
    BeforeValidator(lambda value: value.lower() if isinstance(value, str) else value),
    AfterValidator(lambda value: value if value in STATUSES else invalid_status()),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": any_case(*STATUSES),
            "description": "Another way to say `completed`: completed, complete or done for "
            "true; pending, todo, open, incomplete, not_started or in_progress for false.",
        }
    ),
]


def invalid_status() -> str:
    raise ValueError(f"status must be one of: {', '.join(STATUSES)}")


def disagreeing(done: bool) -> dict[str, object]:
    words = [word for word, says in STATUSES.items() if says == done]
    return {
        "required": ["status", "completed"],
        "properties": {
            "status": {"type": "string", "pattern": any_case(*words)},
            "completed": {"const": not done},
        },
    }


# For OpenAPI: a status and a completed that disagree are refused (status_is_completed).
STATUS_AGREES: list[Any] = [{"not": disagreeing(True)}, {"not": disagreeing(False)}]


def checked_extra(value: object, depth: int = 0) -> None:
    """A field the API does not model holds JSON PostgreSQL can store, nested a bounded depth."""
    if depth > EXTRA_DEPTH_MAX:
        raise ValueError(f"unknown fields may nest at most {EXTRA_DEPTH_MAX} levels")
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            checked_extra(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            checked_extra(item, depth + 1)


# What a field the API does not model may hold: any JSON whose strings and keys have no NUL.
# Typed, so that OpenAPI says so (additionalProperties); checked_extra bounds the rest.
ExtraText = Annotated[str, pydantic.Field(pattern=NO_NUL)]
# Keys without NUL: propertyNames, since pydantic writes a constrained key as patternProperties,
# which leaves other keys free.
ExtraObject = Annotated[
    dict[ExtraText, "UnknownValue"],
    pydantic.Field(json_schema_extra={"propertyNames": {"pattern": NO_NUL}}),
]
UnknownValue = TypeAliasType(
    "UnknownValue",
    "ExtraText | int | float | bool | list[UnknownValue] | ExtraObject | None",
)
KNOWN_FIELDS_MAX = 9  # TaskCreate's and TaskPatch's own, version included
# For OpenAPI: the bounds on the fields the API does not model that a schema can say.
UNKNOWN_FIELDS_SCHEMA: dict[str, Any] = {
    "propertyNames": {"minLength": 1, "maxLength": EXTRA_KEY_MAX, "pattern": NO_NUL},
    "maxProperties": KNOWN_FIELDS_MAX + EXTRA_FIELDS_MAX,
}


class TaskFields(SQLModel):
    """What a client may set on a task. Fields the API does not model are kept as sent
    (`unknown()`), up to 20 of them and 8 KB, unless UNKNOWN_TASK_FIELDS=refuse."""

    model_config = ConfigDict(extra="allow", strict=True)  # type: ignore[assignment]
    # The schema UnknownValue says; the checks are checked_extra's, with clearer words.
    __pydantic_extra__: dict[
        str,
        Annotated[Any, PlainValidator(lambda value: value, json_schema_input_type=UnknownValue)],
    ] = pydantic.Field(init=False)

    def unknown(self) -> dict[str, Any]:
        """The fields this model does not know, but those a task's JSON has (id, user_id,
        version, created_at, updated_at), which a client sending a task back as read cannot
        set."""
        extra = self.model_extra or {}
        return {key: value for key, value in extra.items() if key not in READ_ONLY}

    @model_validator(mode="after")
    def bounded_unknown_fields(self) -> Self:
        unknown = self.unknown()
        if len(unknown) > EXTRA_FIELDS_MAX:
            raise ValueError(f"at most {EXTRA_FIELDS_MAX} fields the API does not model")
        for key in unknown:
            if not 1 <= len(key) <= EXTRA_KEY_MAX:
                raise ValueError(f"an unknown field's name must be 1 to {EXTRA_KEY_MAX} characters")
        checked_extra(unknown)
        size = len(json.dumps(unknown, ensure_ascii=False).encode())
        if size > EXTRA_BYTES_MAX:
            raise ValueError(f"fields the API does not model total at most {EXTRA_BYTES_MAX} bytes")
        return self


def due_columns(due_date: str | None) -> dict[str, object]:
    """app.tasks.due_at and due_all_day for a due_date as the models leave it."""
    if due_date is None:
        return {"due_at": None, "due_all_day": False}
    if len(due_date) == 10:
        return {"due_at": datetime.fromisoformat(due_date).replace(tzinfo=UTC), "due_all_day": True}
    return {"due_at": datetime.fromisoformat(due_date), "due_all_day": False}


class TaskCreate(TaskFields):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": STATUS_AGREES,
            **UNKNOWN_FIELDS_SCHEMA,
            "examples": [
                {"title": "Buy milk", "description": "2 litres", "completed": False},
                {"title": "Call the bank", "priority": "high", "due_date": "2026-12-24",
                 "tags": ["errands"], "status": "todo", "recurrence_rule": "FREQ=WEEKLY"},
            ],
        }
    )  # fmt: skip

    title: Title = Field(description="1 to 200 characters; surrounding whitespace is trimmed.")
    description: Description | None = None
    completed: bool = False
    status: Status | None = Field(default=None, description="Another way to say `completed`.")
    priority: Priority = None
    due_date: DueDate = None
    tags: Tags | None = Field(default=None, description="null for none.")
    position: Position | None = Field(default=None, description="null for 0.")

    @model_validator(mode="after")
    def status_is_completed(self) -> Self:
        if self.status is not None:
            completed = STATUSES[self.status]
            if "completed" in self.model_fields_set and self.completed != completed:
                raise ValueError(f"status {self.status} and completed {self.completed} disagree")
            self.completed = completed
        return self

    def columns(self) -> dict[str, object]:
        """The columns app.create_task and app.replace_task take, but `extra` (unknown())."""
        return {
            "title": self.title,
            "description": self.description,
            "completed": self.completed,
            "priority": self.priority,
            **due_columns(self.due_date),
            "tags": self.tags or [],
            "position": self.position or 0,
        }


class TaskReplace(TaskCreate):
    """PUT: every field is set; those left out take their defaults (unknown fields: none)."""

    version: Version | None = None


class TaskPatch(TaskFields):
    """PATCH: only the fields present change; `description: null` clears it, and so do null
    for priority, due_date and tags. Unknown fields are merged into the task's."""

    # A null title, completed or status is refused, and one field at least must change
    # (changes_something; a field the API does not model counts).
    model_config = not_null(
        "title", "completed", "status", minProperties=1, allOf=STATUS_AGREES,
        **UNKNOWN_FIELDS_SCHEMA,
        examples=[{"completed": True}, {"title": "Buy oat milk", "priority": None, "tags": []}],
    )  # fmt: skip

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None
    status: Status | None = Field(default=None, description="Another way to say `completed`.")
    priority: Priority = None
    due_date: DueDate = None
    tags: Tags | None = None
    position: Position | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def changes_something(self) -> Self:
        for name in ("title", "completed", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if self.status is not None:
            completed = STATUSES[self.status]
            if self.completed is not None and self.completed != completed:
                raise ValueError(f"status {self.status} and completed {self.completed} disagree")
            self.completed = completed
            self.model_fields_set.add("completed")
        if not self.changes():
            raise ValueError(
                "nothing to change: give title, description, completed or another field"
            )
        return self

    def changes(self) -> dict[str, object]:
        """The columns to set, by name, as app.patch_task reads them (JSON)."""
        changes: dict[str, object] = {}
        for name in sorted(self.model_fields_set & PATCHABLE):
            value = getattr(self, name)
            if name == "due_date":
                columns = due_columns(value)
                due_at = columns["due_at"]
                changes["due_at"] = None if due_at is None else due_at.isoformat()  # type: ignore[attr-defined]
                changes["due_all_day"] = columns["due_all_day"]
            elif name == "tags":
                changes["tags"] = value or []
            elif name == "position":
                changes["position"] = value or 0
            else:
                changes[name] = value
        if unknown := self.unknown():
            changes["extra"] = unknown
        return changes


PATCHABLE = frozenset(
    {"title", "description", "completed", "priority", "due_date", "tags", "position"}
)


class TaskToggle(Strict):
    """PATCH .../toggle (or .../complete) with a body: `completed` sets the state instead of
    flipping it, so that sending the same request twice does not undo it."""

    # A null is refused (completed_not_null).
    model_config = not_null("completed", examples=[{}, {"completed": True}])

    completed: bool | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def completed_not_null(self) -> Self:
        if "completed" in self.model_fields_set and self.completed is None:
            raise ValueError("completed cannot be null")
        return self


class TaskDeleted(SQLModel):
    """DELETE's answer when DELETE_RESPONSE=json."""

    model_config = examples({"deleted": 42, "message": "Task deleted"})  # type: ignore[assignment]

    deleted: int = Field(description="The deleted task's id.")
    message: str


TASK_EXAMPLE: dict[str, JsonValue] = {
    "id": 42,
    "title": "Buy milk",
    "description": "2 litres",
    "completed": False,
    "user_id": "alice",
    "version": 3,
    "created_at": "2026-12-01T09:30:00.123456+00:00",
    "updated_at": "2026-12-02T08:00:00+00:00",
    "status": "pending",
    "priority": "high",
    "due_date": "2026-12-24",
    "tags": ["errands"],
    "position": 0,
}


class TaskPublic(SQLModel):
    """A task; after its own fields, those the API does not model, as the client sent them."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="allow", json_schema_extra={"examples": [TASK_EXAMPLE]}
    )

    id: int
    title: str
    description: str | None
    completed: bool
    user_id: str
    version: int = Field(description="Bumped by every update; also sent as the ETag.")
    created_at: datetime
    updated_at: datetime
    status: Literal["pending", "completed"] = Field(description="`completed` as a word.")
    priority: Literal["low", "medium", "high"] | None
    due_date: str | None = Field(
        description="The day (YYYY-MM-DD) or the moment (ISO 8601, UTC) the task is due."
    )
    tags: list[str]
    position: int


class TaskChanges(SQLModel):
    """GET /api/tasks/changes: what changed after the cursor (how-to/sync-a-frontend.md)."""

    model_config = examples(
        {"tasks": [TASK_EXAMPLE], "deleted": [41], "cursor": "MS4xMi4w", "has_more": False}
    )  # type: ignore[assignment]
    tasks: list[TaskPublic] = Field(
        description="Tasks created or changed after the cursor, each as GET sends it, in the "
        "order they were written; merge by id, keeping the higher version."
    )
    deleted: list[int] = Field(description="Ids of tasks deleted after the cursor.")
    cursor: str = Field(
        description="Opaque: pass it as `since` to get what changes after this answer."
    )
    has_more: bool = Field(description="More changes are waiting: call again with `cursor` now.")


class TaskList(SQLModel):
    """GET /api/tasks with TASK_LIST_SHAPE=object."""

    tasks: list[TaskPublic]
    count: int = Field(description="Tasks in this answer.")
    total: int = Field(description="Tasks that match the query, on every page.")
    page: int | None = Field(description="This page's number, when asked for by page.")
    page_size: int | None
    next_cursor: str | None = Field(description="The next page's cursor; null on the last.")


class ErrorResponse(SQLModel):
    """Every error's body (api.web.error_body)."""

    model_config = examples(
        {"detail": "Task not found", "message": "Task not found", "error": "Task not found"}
    )  # type: ignore[assignment]

    detail: str
    message: str = Field(description="A readable sentence; the same as `detail` here.")
    error: str = Field(description="The same sentence, for clients that read `error`.")


class ValidationIssue(SQLModel):
    type: str
    loc: list[str | int] = Field(description='Where: e.g. ["body", "title"].')
    msg: str


class ValidationErrorResponse(SQLModel):
    """A 422: the issues pydantic found, or a sentence when the database refused a value."""

    model_config = examples(
        {
            "detail": [
                {
                    "type": "string_too_short",
                    "loc": ["body", "title"],
                    "msg": "String should have at least 1 character",
                }
            ],
            "message": "title: String should have at least 1 character",
            "error": "title: String should have at least 1 character",
        }
    )  # type: ignore[assignment]

    detail: list[ValidationIssue] | str
    message: str = Field(
        description='One readable sentence: e.g. "title: String should have at least 1 character".'
    )
    error: str = Field(description="The same sentence, for clients that read `error`.")


Email = EmailStr
Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=128),
    pydantic.Field(json_schema_extra={"pattern": NO_NUL}),
    AfterValidator(storable),
]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    pydantic.Field(json_schema_extra={"pattern": NOT_BLANK}),
    BeforeValidator(strip),
    AfterValidator(storable),
]


class SignUp(Strict):
    model_config = examples(
        {"email": "alice@example.com", "password": "correct horse battery", "name": "Alice"}
    )

    email: Email
    password: Password = Field(description="8 to 128 characters.")
    name: Name = pydantic.Field(  # sqlmodel's Field takes one alias only
        validation_alias=AliasChoices("name", "username"),
        description="1 to 200 characters; also accepted as `username`.",
    )


SignInPassword = Annotated[
    str,
    StringConstraints(max_length=128),
    pydantic.Field(json_schema_extra={"pattern": NO_NUL}),
    AfterValidator(storable),
]


class SignIn(Strict):
    model_config = examples({"email": "alice@example.com", "password": "correct horse battery"})

    email: Email = pydantic.Field(
        validation_alias=AliasChoices("email", "username"),
        description="Also accepted as `username`.",
    )
    password: SignInPassword


class PasswordForm(Strict):
    """Sign-in as the OAuth2 password grant's form (RFC 6749, section 4.3), the way FastAPI's
    OAuth2PasswordRequestForm reads it; `username` is the email. The client fields are taken
    and ignored: there are no OAuth2 clients or scopes here."""

    username: Email = Field(description="The email.")
    password: SignInPassword
    model_config = not_null("grant_type", "client_id", "client_secret")  # a form has no null

    grant_type: Literal["password"] | None = None
    scope: str = Field(default="", max_length=1000)
    client_id: str | None = Field(default=None, max_length=1000)
    client_secret: str | None = Field(default=None, max_length=1000)


# A refresh token of any length is only ever looked up by its hash: one that cannot be ours
# (an access token pasted in its place, say) is an invalid token, a 401, not a 422.
class RefreshRequest(Strict):
    model_config = examples({"refresh_token": "rt_3q2-7wEXAMPLE"})

    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class SignOutRequest(Strict):
    model_config = examples({"refresh_token": "rt_3q2-7wEXAMPLE"}, {})

    refresh_token: str | None = Field(default=None, max_length=MAX_TOKEN_LENGTH)


class UserPublic(SQLModel):
    model_config = examples(
        {
            "id": "alice",
            "email": "alice@example.com",
            "name": "Alice",
            "created_at": "2026-12-01T09:30:00+00:00",
        }
    )  # type: ignore[assignment]

    id: str
    email: str | None
    name: str | None
    created_at: datetime


class TokenPair(SQLModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class Session(TokenPair):
    user: UserPublic

    @computed_field  # type: ignore[prop-decorator]
    @property
    def token(self) -> TokenPair:
        """The same token pair again, for frontends that read `token.access_token`."""
        return TokenPair(
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            expires_in=self.expires_in,
        )


class Me(UserPublic):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def user(self) -> UserPublic:
        """The same fields again, for frontends that read `{user}`."""
        return UserPublic(id=self.id, email=self.email, name=self.name, created_at=self.created_at)


class Detail(SQLModel):
    model_config = examples({"detail": "Signed out"})  # type: ignore[assignment]

    detail: str


class AccountErasure(Strict):
    password: str | None = Field(
        default=None,
        max_length=128,
        description="The account's password: required when the account has one (built-in "
        "accounts), ignored otherwise.",
    )

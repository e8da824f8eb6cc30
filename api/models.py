"""What crosses the API boundary. Limits mirror the check constraints in sql/migrations."""

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

import pydantic
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    StringConstraints,
    WithJsonSchema,
    computed_field,
    model_validator,
)
from sqlmodel import Field, SQLModel

TITLE_MAX = 200  # app.tasks.title: 1..200 characters after trimming
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
    BeforeValidator(strip),
    AfterValidator(storable),
]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(storable)
]
Version = Annotated[
    int,
    Field(
        ge=1,
        le=VERSION_MAX,
        description="The version the client last read; a stale one is refused with 409.",
    ),
]


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


def priority_number(value: object) -> object:
    """ "low", "medium" (or "normal"), "high", "none", 0 to 3 or null: the stored number."""
    if isinstance(value, str) and value.strip().lower() in PRIORITIES:
        return PRIORITIES[value.strip().lower()]
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
                {"type": "string", "enum": [*PRIORITIES]},
                {"type": "integer", "minimum": 0, "maximum": 3},
                {"type": "null"},
            ],
            "description": "low, medium (also normal) or high, or 1 to 3; none, 0 or null for "
            "none. Answered as low, medium, high or null.",
        }
    ),
]


def due(value: object) -> object:
    """A day (YYYY-MM-DD) or a moment (ISO 8601; without an offset, UTC): the ISO text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("due_date must be a date (YYYY-MM-DD), a date-time, or null")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("due_date must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


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
            "description": "A day (2026-12-24) or a moment (2026-12-24T17:00:00Z; without an "
            "offset, UTC). Answered as sent: the day, or the moment in UTC.",
        }
    ),
]
Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TAG_MAX),
    BeforeValidator(strip),
    AfterValidator(storable),
]


def no_repeats(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[
    list[Tag],
    BeforeValidator(lambda value: [] if value is None else value),
    AfterValidator(no_repeats),
    Field(max_length=TAGS_MAX, description="Up to 20 labels of 1 to 50 characters; repeats "
          "are dropped, the order kept."),
]  # fmt: skip
Position = Annotated[
    int,
    BeforeValidator(lambda value: 0 if value is None else value),
    Field(ge=POSITION_MIN, le=POSITION_MAX, description="A manual order, lowest first."),
]
Status = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    AfterValidator(lambda value: value if value in STATUSES else invalid_status()),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [*STATUSES],
            "description": "Another way to say `completed`: completed, complete or done for "
            "true; pending, todo, open, incomplete, not_started or in_progress for false.",
        }
    ),
]


def invalid_status() -> str:
    raise ValueError(f"status must be one of: {', '.join(STATUSES)}")


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


class TaskFields(SQLModel):
    """What a client may set on a task. Fields the API does not model are kept as sent
    (`unknown()`), up to 20 of them and 8 KB, unless UNKNOWN_TASK_FIELDS=refuse."""

    model_config = ConfigDict(extra="allow", strict=True)  # type: ignore[assignment]

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
    title: Title = Field(description="1 to 200 characters; surrounding whitespace is trimmed.")
    description: Description | None = None
    completed: bool = False
    status: Status | None = Field(default=None, description="Another way to say `completed`.")
    priority: Priority = None
    due_date: DueDate = None
    tags: Tags = []
    position: Position = 0

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
            "tags": self.tags,
            "position": self.position,
        }


class TaskReplace(TaskCreate):
    """PUT: every field is set; those left out take their defaults (unknown fields: none)."""

    version: Version | None = None


class TaskPatch(TaskFields):
    """PATCH: only the fields present change; `description: null` clears it, and so do null
    for priority, due_date and tags. Unknown fields are merged into the task's."""

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

    completed: bool | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def completed_not_null(self) -> Self:
        if "completed" in self.model_fields_set and self.completed is None:
            raise ValueError("completed cannot be null")
        return self


class TaskDeleted(SQLModel):
    """DELETE's answer when DELETE_RESPONSE=json."""

    deleted: int = Field(description="The deleted task's id.")
    message: str


class TaskPublic(SQLModel):
    """A task; after its own fields, those the API does not model, as the client sent them."""

    model_config = ConfigDict(extra="allow")  # type: ignore[assignment]

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

    detail: str
    message: str = Field(description="A readable sentence; the same as `detail` here.")
    error: str = Field(description="The same sentence, for clients that read `error`.")


class ValidationIssue(SQLModel):
    type: str
    loc: list[str | int] = Field(description='Where: e.g. ["body", "title"].')
    msg: str


class ValidationErrorResponse(SQLModel):
    """A 422: the issues pydantic found, or a sentence when the database refused a value."""

    detail: list[ValidationIssue] | str
    message: str = Field(
        description='One readable sentence: e.g. "title: String should have at least 1 character".'
    )
    error: str = Field(description="The same sentence, for clients that read `error`.")


Email = EmailStr
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(storable)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    BeforeValidator(strip),
    AfterValidator(storable),
]


class SignUp(Strict):
    email: Email
    password: Password = Field(description="8 to 128 characters.")
    name: Name = pydantic.Field(  # sqlmodel's Field takes one alias only
        validation_alias=AliasChoices("name", "username"),
        description="1 to 200 characters; also accepted as `username`.",
    )


SignInPassword = Annotated[str, StringConstraints(max_length=128), AfterValidator(storable)]


class SignIn(Strict):
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
    grant_type: Literal["password"] | None = None
    scope: str = Field(default="", max_length=1000)
    client_id: str | None = Field(default=None, max_length=1000)
    client_secret: str | None = Field(default=None, max_length=1000)


# A refresh token of any length is only ever looked up by its hash: one that cannot be ours
# (an access token pasted in its place, say) is an invalid token, a 401, not a 422.
class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class SignOutRequest(Strict):
    refresh_token: str | None = Field(default=None, max_length=MAX_TOKEN_LENGTH)


class UserPublic(SQLModel):
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
    detail: str


class AccountErasure(Strict):
    password: str | None = Field(
        default=None,
        max_length=128,
        description="The account's password: required when the account has one (built-in "
        "accounts), ignored otherwise.",
    )

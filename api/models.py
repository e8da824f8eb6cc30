"""What crosses the API boundary. Limits mirror the check constraints in sql/migrations."""

from datetime import datetime
from typing import Annotated, Literal, Self

import pydantic
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    JsonValue,
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
TITLE_SCHEMA: dict[str, JsonValue] = {"type": "string", "minLength": 1, "maxLength": TITLE_MAX}
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


def examples(*values: JsonValue) -> ConfigDict:
    """A model's examples in OpenAPI (merged with the config it inherits)."""
    return ConfigDict(json_schema_extra={"examples": list(values)})


class Strict(SQLModel):
    # No unknown fields, and no coercion: "true" is not a boolean, "1" is not a version.
    model_config = ConfigDict(extra="forbid", strict=True)  # type: ignore[assignment]


class TaskCreate(Strict):
    model_config = examples({"title": "Buy milk", "description": "2 litres", "completed": False})

    title: Title = Field(description="1 to 200 characters; surrounding whitespace is trimmed.")
    description: Description | None = None
    completed: bool = False


class TaskReplace(TaskCreate):
    """PUT: every field is set; description and completed fall back to their defaults."""

    model_config = examples({"title": "Buy oat milk", "description": "oat", "completed": True})
    version: Version | None = None


class TaskPatch(Strict):
    """PATCH: only the fields present change; `description: null` clears it."""

    model_config = examples(
        {"completed": True}, {"title": "Buy oat milk", "description": "oat, 1 litre"}
    )
    # null is refused for title and completed (changes_something), so the schema does not offer
    # it. The type still takes None, so that validation, and the location of its errors
    # (["body", "completed"], not one per member of a union), stay what they were.
    title: Annotated[Title | None, WithJsonSchema(TITLE_SCHEMA)] = None
    description: Description | None = None
    completed: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    version: Version | None = None

    @model_validator(mode="after")
    def changes_something(self) -> Self:
        for name in ("title", "completed"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.changes():
            raise ValueError("nothing to change: give title, description or completed")
        return self

    def changes(self) -> dict[str, object]:
        """The columns to set, by name."""
        fields = self.model_fields_set & {"title", "description", "completed"}
        return {name: getattr(self, name) for name in sorted(fields)}


class TaskToggle(Strict):
    """PATCH .../toggle (or .../complete) with a body: `completed` sets the state instead of
    flipping it, so that sending the same request twice does not undo it."""

    model_config = examples({}, {"completed": True})
    completed: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None  # not null
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


class TaskPublic(SQLModel):
    model_config = examples(
        {
            "id": 42,
            "title": "Buy milk",
            "description": "2 litres",
            "completed": False,
            "user_id": "alice",
            "version": 3,
            "created_at": "2026-12-01T09:30:00.123456+00:00",
            "updated_at": "2026-12-02T08:00:00+00:00",
        }
    )  # type: ignore[assignment]

    id: int
    title: str
    description: str | None
    completed: bool
    user_id: str
    version: int = Field(description="Bumped by every update; also sent as the ETag.")
    created_at: datetime
    updated_at: datetime


class TaskChanges(SQLModel):
    """GET /api/tasks/changes: what changed after the cursor (how-to/sync-a-frontend.md)."""

    model_config = examples(
        {
            "tasks": [
                {
                    "id": 42,
                    "title": "Buy milk",
                    "description": "2 litres",
                    "completed": False,
                    "user_id": "alice",
                    "version": 3,
                    "created_at": "2026-12-01T09:30:00.123456+00:00",
                    "updated_at": "2026-12-02T08:00:00+00:00",
                }
            ],
            "deleted": [41],
            "cursor": "MS4xMi4w",
            "has_more": False,
        }
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
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(storable)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
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


SignInPassword = Annotated[str, StringConstraints(max_length=128), AfterValidator(storable)]


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

"""What crosses the API boundary. Limits mirror the check constraints in sql/migrations."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, ConfigDict, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

TITLE_MAX = 200  # app.tasks.title: 1..200 characters after trimming
DESCRIPTION_MAX = 2000  # app.tasks.description
VERSION_MAX = 2**31 - 1  # app.tasks.version is an integer


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    AfterValidator(no_nul),
]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), AfterValidator(no_nul)]
Version = Annotated[
    int,
    Field(
        ge=1,
        le=VERSION_MAX,
        description="The version the client last read; a stale one is refused with 409.",
    ),
]


class Strict(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class TaskCreate(Strict):
    title: Title = Field(description="1 to 200 characters; surrounding whitespace is trimmed.")
    description: Description | None = None
    completed: bool = False


class TaskReplace(TaskCreate):
    """PUT: every field is set; description and completed fall back to their defaults."""

    version: Version | None = None


class TaskPatch(Strict):
    """PATCH: only the fields present change; `description: null` clears it."""

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None
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


class TaskPublic(SQLModel):
    id: int
    title: str
    description: str | None
    completed: bool
    user_id: str
    version: int = Field(description="Bumped by every update; also sent as the ETag.")
    created_at: datetime
    updated_at: datetime


class ErrorResponse(SQLModel):
    detail: str

"""The schema as SQLModel table models: app.users and app.tasks, column by column.

Migrations own the DDL (sql/migrations): these models never create, alter or drop anything,
and nothing calls `SQLModel.metadata.create_all`. tests/sql/test_tables.py compares each model
with the migrated database (name, type, nullability, length limit, default), so a migration
that adds or changes a column fails there until the model says the same. A column's length
limit is a check constraint in the database (`char_length(x) <= n`) and `max_length` here.

For code where an ORM mapping helps and speed does not matter, such as the account export;
never on the request path of the task routes, which run one SQL function each.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Identity,
    Integer,
    SmallInteger,
    Text,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

NOW = sql("now()")


def timestamp() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False, server_default=NOW)


class User(SQLModel, table=True):
    """One row per user that has called the API (app.begin_request creates it)."""

    __tablename__ = "users"
    __table_args__ = {"schema": "app"}

    id: str = Field(sa_column=Column(Text, primary_key=True), max_length=255)
    email: str | None = Field(default=None, sa_column=Column(Text), max_length=320)
    name: str | None = Field(default=None, sa_column=Column(Text), max_length=200)
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class Task(SQLModel, table=True):
    """A user's to-do item. `public_json` is what the API sends, kept by PostgreSQL."""

    __tablename__ = "tasks"
    __table_args__ = {"schema": "app"}

    id: int = Field(sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    user_id: str = Field(
        sa_column=Column(
            Text,
            nullable=False,
            server_default=sql("NULLIF(current_setting('app.user_id'::text, true), ''::text)"),
        )
    )
    title: str = Field(sa_column=Column(Text, nullable=False), max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text), max_length=2000)
    completed: bool = Field(sa_column=Column(Boolean, nullable=False, server_default=sql("false")))
    version: int = Field(sa_column=Column(Integer, nullable=False, server_default=sql("1")))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
    priority: int | None = Field(default=None, sa_column=Column(SmallInteger))
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    due_all_day: bool = Field(
        sa_column=Column(Boolean, nullable=False, server_default=sql("false"))
    )
    tags: list[str] = Field(
        sa_column=Column(ARRAY(Text), nullable=False, server_default=sql("'{}'::text[]"))
    )
    position: int = Field(sa_column=Column(Integer, nullable=False, server_default=sql("0")))
    extra: dict[str, Any] = Field(
        sa_column=Column(JSONB, nullable=False, server_default=sql("'{}'::jsonb"))
    )
    public_json: str = Field(
        sa_column=Column(
            Text,
            Computed(
                "app.task_public_json(id, title, description, completed, user_id, version,"
                ' created_at, updated_at, priority, due_at, due_all_day, tags, "position",'
                " extra)",
                persisted=True,
            ),
            nullable=False,
        )
    )
    # The owner's change counter at the last write (sql/migrations/0009_record_task_changes.sql).
    change_seq: int = Field(sa_column=Column(BigInteger, nullable=False))

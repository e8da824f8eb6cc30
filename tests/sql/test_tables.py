"""The SQLModel table models (api/tables.py) against the migrated database, column by column:
name, type, nullability, length limit, default (identity and generated columns included). A
migration that adds or changes a column fails here until the model says the same."""

import re

import pytest
from annotated_types import MaxLen
from psycopg import Connection
from sqlalchemy import Column
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel

from api.tables import Task, User

POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]
Described = tuple[str, bool, int | None, str | None]  # type, nullable, max length, default


def model_columns(model: type[SQLModel]) -> dict[str, Described]:
    table = SQLModel.metadata.tables[f"app.{model.__tablename__}"]
    described = {}
    for column in table.columns:
        assert isinstance(column, Column)
        field = model.model_fields[column.name]
        lengths = [m.max_length for m in field.metadata if isinstance(m, MaxLen)]
        if column.identity is not None:
            default = "identity always" if column.identity.always else "identity by default"
        elif column.computed is not None:
            default = f"generated always as ({column.computed.sqltext}) stored"
        elif column.server_default is not None:
            default = str(column.server_default.arg)  # type: ignore[attr-defined]
        else:
            default = None
        described[column.name] = (
            column.type.compile(dialect=POSTGRESQL).lower(),
            bool(column.nullable),
            lengths[0] if lengths else None,
            default,
        )
    return described


LENGTH_CHECK = re.compile(r"char_length\((\w+)\) (?:<= (\d+)|BETWEEN \d+ AND (\d+))")


def database_columns(conn: Connection, table: str) -> dict[str, Described]:
    """The same, from the catalog. A text column's length limit is a check constraint."""
    limits: dict[str, int] = {}
    for (definition,) in conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = %s::regclass and contype = 'c'",
        (f"app.{table}",),
    ).fetchall():
        for column, most, most_between in LENGTH_CHECK.findall(definition):
            limits[column] = int(most or most_between)
    described = {}
    for name, type_, not_null, identity, generated, default in conn.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
               a.attgenerated, pg_get_expr(d.adbin, d.adrelid)
          from pg_attribute a
          left join pg_attrdef d on (d.adrelid, d.adnum) = (a.attrelid, a.attnum)
         where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
         order by a.attnum
        """,
        (f"app.{table}",),
    ).fetchall():
        if identity:
            default = "identity always" if identity == "a" else "identity by default"
        elif generated == "s":
            default = f"generated always as ({default}) stored"
        described[name] = (type_, not not_null, limits.get(name), default)
    return described


@pytest.mark.parametrize("model", [User, Task], ids=lambda model: model.__name__)
def test_the_table_model_matches_the_migrated_table(
    conn: Connection, model: type[SQLModel]
) -> None:
    in_database = database_columns(conn, str(model.__tablename__))
    assert list(model_columns(model)) == list(in_database)  # the same columns, in order
    assert model_columns(model) == in_database


def test_a_column_the_model_lacks_is_caught(conn: Connection) -> None:
    conn.execute("alter table app.tasks add column colour text check (char_length(colour) <= 20)")
    in_database = database_columns(conn, "tasks")
    assert in_database["colour"] == ("text", True, 20, None)
    assert set(in_database) - set(model_columns(Task)) == {"colour"}

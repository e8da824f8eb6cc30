"""Where a user could still be found in the database: every table of our schemas, read from the
catalog (so a table added tomorrow is searched too), each row as text, all columns at once."""

import psycopg
from psycopg import sql

OUR_SCHEMAS = ("app", "app_private")


def our_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) of every ordinary or partitioned table in our schemas."""
    cur = conn.execute(
        """
        select n.nspname::text, c.relname::text
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and n.nspname = any (%s)
         order by 1, 2
        """,
        (list(OUR_SCHEMAS),),
    )
    return cur.fetchall()


def tables_mentioning(conn: psycopg.Connection, *needles: str) -> dict[str, int]:
    """{schema.table: rows} of the tables where a row, any column, contains one of `needles`.
    `conn` must see past row-level security (a superuser)."""
    found: dict[str, int] = {}
    for schema, table in our_tables(conn):
        for needle in needles:
            cur = conn.execute(
                sql.SQL("select count(*) from {}.{} as t where strpos(t::text, %s) > 0").format(
                    sql.Identifier(schema), sql.Identifier(table)
                ),
                (needle,),
            )
            count = cur.fetchone()[0]  # type: ignore[index]
            if count:
                found[f"{schema}.{table}"] = found.get(f"{schema}.{table}", 0) + count
    return found

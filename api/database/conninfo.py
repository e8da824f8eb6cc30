"""What a database URL says about the path to PostgreSQL: whether a transaction-mode pooler
stands in the way (then no server-side prepared statements), and whether it asks for TLS.

Read from the URL alone, as libpq will read it (psycopg's parser, plus PGSSLMODE, which libpq
falls back to), so that the answer is known before the first connection and costs nothing on
the request path."""

import ipaddress
import os
from typing import Literal

import psycopg
from psycopg.conninfo import conninfo_to_dict

PreparedStatements = Literal["auto", "on", "off"]

# psycopg's own default: a query is prepared on the server after its fifth run on a connection.
PSYCOPG_PREPARE_THRESHOLD = 5
# Ports that only poolers listen on by convention: PgBouncer's default, and Supabase's
# transaction-mode pooler (Supavisor).
POOLER_PORTS = frozenset({"6432", "6543"})
# libpq modes that refuse a connection without TLS; `prefer` (the default) and `allow` fall
# back to plain text without a word.
TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})


def params(conninfo: str) -> dict[str, str]:
    """The connection parameters of a URL or key=value string; {} when libpq could not read it
    either (the connection then fails with libpq's own message)."""
    try:
        return {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    except psycopg.ProgrammingError:
        return {}


def hosts(conninfo: str) -> list[str]:
    """Every address the URL connects to (libpq takes comma-separated lists; hostaddr, when
    given, is where it connects); "" is libpq's default Unix socket."""
    found = params(conninfo)
    return (found.get("hostaddr") or found.get("host") or "").split(",")


def behind_pooler(conninfo: str) -> bool:
    """Whether the URL names a pooler: a Neon pooled endpoint (`ep-…-pooler.<region>…`), a
    host with a `pooler` label (Supabase's `….pooler.supabase.com`), or a pooler's usual port."""
    found = params(conninfo)
    names = found.get("host", "").lower().split(",")
    labels = {label for name in names for label in name.split(".")}
    ports = set(found.get("port", "").split(","))
    return any(label.endswith("-pooler") or label == "pooler" for label in labels) or bool(
        ports & POOLER_PORTS
    )


def prepare_threshold(mode: PreparedStatements, conninfo: str) -> int | None:
    """psycopg's prepare_threshold for this URL: None (never prepare) when prepared statements
    are off, or `auto` finds a pooler. A transaction-mode pooler such as PgBouncer before 1.21
    hands each transaction to any server connection, where a statement prepared on another
    does not exist, or one of the same name already does."""
    if mode == "on" or (mode == "auto" and not behind_pooler(conninfo)):
        return PSYCOPG_PREPARE_THRESHOLD
    return None


def is_loopback(host: str) -> bool:
    """A Unix socket (a path, or libpq's default when no host is given), localhost, or a
    loopback address."""
    if host == "" or host.startswith(("/", "@")) or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def asks_for_tls(conninfo: str) -> bool:
    mode = params(conninfo).get("sslmode") or os.environ.get("PGSSLMODE", "prefer")
    return mode in TLS_SSLMODES


def plain_text_warning(name: str, conninfo: str) -> str | None:
    """A start-up warning when the URL in setting `name` reaches another machine without
    asking for TLS; None when it stays on this machine or insists on TLS."""
    remote = [host for host in hosts(conninfo) if not is_loopback(host)]
    if not remote or asks_for_tls(conninfo):
        return None
    return (
        f"{name} reaches {', '.join(remote)} without asking for TLS: add sslmode=verify-full "
        "(or at least sslmode=require) to it, or passwords and data may cross the network in "
        "plain text"
    )


def start_up_warnings(database_url: str | None, migration_database_url: str | None) -> list[str]:
    """What `todo-api` says before it connects: each URL that would cross the network in plain
    text, and migrations sent through a pooler (yoyo sets its schema with a session-level `set
    search_path`, which a transaction-mode pooler does not keep: migrations belong on the
    direct endpoint)."""
    urls = {"DATABASE_URL": database_url, "MIGRATION_DATABASE_URL": migration_database_url}
    found = [
        warning
        for name, url in urls.items()
        if url is not None and (warning := plain_text_warning(name, url)) is not None
    ]
    migration_url = migration_database_url or database_url
    if migration_url is not None and behind_pooler(migration_url):
        name = "MIGRATION_DATABASE_URL" if migration_database_url else "DATABASE_URL"
        found.append(
            f"migrations go through a pooler ({name}): set MIGRATION_DATABASE_URL to the "
            "direct endpoint (on Neon, the host without -pooler)"
        )
    return found

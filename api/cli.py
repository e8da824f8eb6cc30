"""The `todo-api` command: serve, migrate, rollback, purge, openapi."""

import argparse
import json
import logging
import os
import resource
import signal
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from api.database.conninfo import prepare_threshold, start_up_warnings
from api.observability import logs
from api.settings import ConfigError, Settings, load_settings

log = logging.getLogger("api")
SHUTDOWN_MARGIN_SECONDS = 2.0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="todo-api",
        description="Multi-user task API on PostgreSQL. Configured by environment variables "
        "(or .env): DATABASE_URL, MIGRATION_DATABASE_URL, BETTER_AUTH_SECRET, FRONTEND_URL, "
        "HOST, PORT, WORKERS, POOL_MIN_SIZE, POOL_MAX_SIZE, POOL_TIMEOUT, LOG_LEVEL, DATA_DIR, "
        "BETTER_AUTH_URL and more: see how-to/configure-the-service.md.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="migrate the database, then serve HTTP",
        description="Serves the API on HOST:PORT. Without DATABASE_URL, starts an embedded "
        "PostgreSQL with its data in DATA_DIR (default .data) and a development secret.",
    )
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate before serving")
    commands.add_parser("migrate", help="apply pending migrations, functions and policies")
    rollback = commands.add_parser("rollback", help="roll back the newest migration")
    rollback.add_argument("--all", action="store_true", help="roll back every migration")
    commands.add_parser(
        "purge",
        help="delete what is past its retention period (for cron)",
        description="Runs app_private.purge_expired with AUDIT_RETENTION_DAYS, "
        "EXPIRED_TOKEN_RETENTION_DAYS, RATE_LIMIT_RETENTION_HOURS and TOMBSTONE_RETENTION_DAYS, "
        "as MIGRATION_DATABASE_URL "
        "(or DATABASE_URL), and prints how many rows went from each table.",
    )
    openapi = commands.add_parser(
        "openapi",
        help="write the OpenAPI document (the committed openapi.json)",
        description="Writes the API's OpenAPI document, as /openapi.json serves it, to --output "
        "(or stdout). Needs no database and no configuration.",
    )
    openapi.add_argument("--output", type=Path, help="the file to write; stdout without it")
    return top


def openapi_document() -> str:
    """The OpenAPI document as `todo-api openapi` writes it: the app's own, built with
    placeholder settings (nothing in the document depends on them), as indented JSON."""
    from api.main import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://localhost/todo",
        better_auth_secret=SecretStr("x" * 32),
    )
    spec = create_app(settings).openapi()
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


PURGE = (
    "select purged_from, purged_rows"
    " from app_private.purge_expired(%(audit)s, %(tokens)s, %(rate_limits)s, %(tombstones)s)"
)


def purge(settings: Settings, database_url: str) -> list[tuple[str, int]]:
    """Deletes what is past its retention period, in one transaction; (table, rows) for each."""
    periods = {
        "audit": timedelta(days=settings.audit_retention_days),
        "tokens": timedelta(days=settings.expired_token_retention_days),
        "rate_limits": timedelta(hours=settings.rate_limit_retention_hours),
        "tombstones": timedelta(days=settings.tombstone_retention_days),
    }
    with psycopg.connect(database_url) as conn:
        return [(table, count) for table, count in conn.execute(PURGE, periods).fetchall()]


def raise_file_limit() -> None:
    """Every open connection is a file: allow as many as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def multiprocess_metrics() -> "tempfile.TemporaryDirectory[str] | None":
    """With several worker processes, Prometheus metrics go through files in a directory they
    share (prometheus-client's multiprocess mode): a fresh one, unless PROMETHEUS_MULTIPROC_DIR
    names one already (which its owner then empties between runs)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    directory = tempfile.TemporaryDirectory(prefix="todo-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory.name
    return directory


def better_auth_at_frontend(settings: Settings) -> Settings:
    """For the embedded development database only: with no Better Auth setting at all, Better
    Auth is taken to run in the frontend at FRONTEND_URL (the first origin), as it does in a
    Next.js app, so its JWTs work at once. A service with DATABASE_URL guesses nothing."""
    if settings.better_auth_url or settings.better_auth_jwks_url or not settings.frontend_url:
        return settings
    frontend = settings.frontend_url[0]
    if not frontend.startswith(("http://", "https://")):
        return settings
    log.warning(
        "BETTER_AUTH_URL is not set: for development, accepting Better Auth JWTs from the "
        "frontend at %s (keys from %s/api/auth/jwks, issuer and audience %s)",
        frontend,
        frontend,
        frontend,
    )
    return settings.model_copy(update={"better_auth_url": frontend})


def serve(settings: Settings, *, run_migrations: bool) -> None:
    import uvicorn

    from api import memory
    from api.database import embedded
    from api.main import MIGRATE_VARIABLE, create_app
    from api.web.server import http_protocol

    server = None
    metrics_dir = None
    try:
        for warning in start_up_warnings(settings.database_url, settings.migration_database_url):
            log.warning("%s", warning)
        if settings.database_url is None:
            if settings.migration_database_url is not None:
                raise ConfigError(
                    "MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set both, or "
                    "neither for the embedded PostgreSQL"
                )
            server = embedded.start(settings.data_dir)
            database_url = migration_url = server.url
            log.info(
                "embedded PostgreSQL: data in %s",
                settings.data_dir.resolve() / "postgres",
            )
            if settings.better_auth_secret is None:
                secret = embedded.development_secret(settings.data_dir)
                settings = settings.model_copy(update={"better_auth_secret": SecretStr(secret)})
                log.warning(
                    "BETTER_AUTH_SECRET is not set: using a development secret kept in %s; "
                    "set your own before anyone else uses this service",
                    settings.data_dir / "dev-secret",
                )
            settings = better_auth_at_frontend(settings)
        else:
            database_url = settings.database_url
            migration_url = settings.owner_database_url or database_url
        settings.require_secret()
        threshold = prepare_threshold(settings.database_prepared_statements, database_url)
        log.info("server-side prepared statements: %s", "off" if threshold is None else "on")
        # The migrate step is the app's start-up (api/main.py): retried while the database
        # does not answer, with /readyz saying 503 meanwhile.
        migrate_with = migration_url if run_migrations else None
        base = f"http://{settings.host}:{settings.port}"
        log.info("serving on %s; API docs at %s/docs", base, base)
        raise_file_limit()
        logs.hide_settings(settings, database_url, migration_url)
        # uvicorn re-raises the signal that stopped it once it has shut down; SIGTERM then
        # ends like Ctrl-C, through the `finally` below, instead of killing the process.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level,
            # Every worker process configures its logging from this (api.observability.logs).
            "log_config": logs.config(settings.log_level, settings.log_format),
            # The application writes each request's line itself (api.observability.requests).
            "access_log": False,
            "backlog": settings.backlog,
            # Limits on reading a request, which uvicorn does not set (api/web/server.py).
            "http": http_protocol(
                max_header_bytes=settings.max_header_bytes,
                max_headers=settings.max_headers,
                header_timeout=settings.header_timeout,
                body_timeout=settings.body_timeout,
            ),
            "timeout_keep_alive": settings.keep_alive_timeout,
            # The app answers what is left at SHUTDOWN_TIMEOUT itself (api/web/shutdown.py);
            # uvicorn cancels, with a plain-text 500, only what is still running after that.
            "timeout_graceful_shutdown": settings.shutdown_timeout + SHUTDOWN_MARGIN_SECONDS,
        }
        if settings.workers == 1:
            app = create_app(settings, database_url, migration_url=migrate_with)
            memory.tune_for_serving()
            uvicorn.run(app, **options)
        else:  # each process builds its app from the environment
            metrics_dir = multiprocess_metrics()
            os.environ["DATABASE_URL"] = database_url
            os.environ["BETTER_AUTH_SECRET"] = settings.secret
            if migrate_with is not None:
                os.environ["MIGRATION_DATABASE_URL"] = migrate_with
                os.environ[MIGRATE_VARIABLE] = "1"
            if settings.better_auth_url is not None:
                os.environ["BETTER_AUTH_URL"] = settings.better_auth_url
            uvicorn.run(
                "api.main:app_from_environment", factory=True, workers=settings.workers, **options
            )
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()
        if server is not None:
            server.stop()
            log.info("embedded PostgreSQL stopped")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "openapi":
        if args.output is None:
            sys.stdout.write(openapi_document())
        else:
            args.output.write_text(openapi_document(), encoding="utf-8")
        return
    try:
        settings = load_settings()
        logs.configure(settings.log_level, settings.log_format)
        if args.command == "serve":
            serve(settings, run_migrations=not args.no_migrate)
            return
        from api.database.migrate import migrate, rollback

        for warning in start_up_warnings(settings.database_url, settings.migration_database_url):
            log.warning("%s", warning)
        url = settings.owner_database_url
        if url is None:
            raise ConfigError("DATABASE_URL (or MIGRATION_DATABASE_URL) is not set")
        if args.command == "migrate":
            print("applied:", ", ".join(migrate(url)) or "nothing pending")
        elif args.command == "purge":
            for table, count in purge(settings, url):
                print(f"purged {count} from {table}")
        else:
            print(
                "rolled back:",
                ", ".join(rollback(url, all_steps=args.all)) or "nothing",
            )
    except ConfigError as exc:
        sys.exit(f"todo-api: {exc}")
    except psycopg.OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        sys.exit(f"todo-api: cannot reach the database: {reason or 'no answer'}")
    except psycopg.Error as exc:
        sys.exit(f"todo-api: database error: {exc.diag.message_primary or type(exc).__name__}")
    except KeyboardInterrupt:
        sys.exit(130)

"""The `todo-api` command: serve, migrate, rollback, purge."""

import argparse
import logging
import os
import resource
import sys
from datetime import timedelta
from typing import Any

import psycopg
from pydantic import SecretStr

from api.settings import ConfigError, Settings, load_settings

log = logging.getLogger("api")


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
        "EXPIRED_TOKEN_RETENTION_DAYS and RATE_LIMIT_RETENTION_HOURS, as MIGRATION_DATABASE_URL "
        "(or DATABASE_URL), and prints how many rows went from each table.",
    )
    return top


PURGE = (
    "select purged_from, purged_rows"
    " from app_private.purge_expired(%(audit)s, %(tokens)s, %(rate_limits)s)"
)


def purge(settings: Settings, database_url: str) -> list[tuple[str, int]]:
    """Deletes what is past its retention period, in one transaction; (table, rows) for each."""
    periods = {
        "audit": timedelta(days=settings.audit_retention_days),
        "tokens": timedelta(days=settings.expired_token_retention_days),
        "rate_limits": timedelta(hours=settings.rate_limit_retention_hours),
    }
    with psycopg.connect(database_url) as conn:
        return [(table, count) for table, count in conn.execute(PURGE, periods).fetchall()]


def raise_file_limit() -> None:
    """Every open connection is a file: allow as many as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(settings: Settings, *, run_migrations: bool) -> None:
    import uvicorn

    from api import memory
    from api.database import embedded
    from api.database.migrate import migrate
    from api.main import create_app
    from api.web.server import http_protocol

    server = None
    try:
        if settings.database_url is None:
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
        else:
            database_url = settings.database_url
            migration_url = settings.owner_database_url or database_url
        settings.require_secret()
        if run_migrations:
            applied = migrate(migration_url)
            log.info("migrations applied: %s", ", ".join(applied) or "none pending")
        base = f"http://{settings.host}:{settings.port}"
        log.info("serving on %s; API docs at %s/docs", base, base)
        raise_file_limit()
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level,
            # Access lines are logged at info: above it uvicorn would still format each one
            # and then drop it.
            "access_log": settings.log_level.lower() in ("info", "debug"),
            "backlog": settings.backlog,
            # Limits on reading a request's head, which uvicorn does not set (api/web/server.py).
            "http": http_protocol(
                max_header_bytes=settings.max_header_bytes,
                max_headers=settings.max_headers,
                header_timeout=settings.header_timeout,
            ),
            "timeout_keep_alive": settings.keep_alive_timeout,
        }
        if settings.workers == 1:
            app = create_app(settings, database_url)
            memory.tune_for_serving()
            uvicorn.run(app, **options)
        else:  # each process builds its app from the environment
            os.environ["DATABASE_URL"] = database_url
            os.environ["BETTER_AUTH_SECRET"] = settings.secret
            uvicorn.run(
                "api.main:app_from_environment", factory=True, workers=settings.workers, **options
            )
    finally:
        if server is not None:
            server.stop()
            log.info("embedded PostgreSQL stopped")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(levelname)s:     %(message)s"
        )
        logging.getLogger("yoyo").setLevel(logging.WARNING)
        if args.command == "serve":
            serve(settings, run_migrations=not args.no_migrate)
            return
        from api.database.migrate import migrate, rollback

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

"""Log lines: JSON on stdout, one object a line (python-json-logger), or text for a person when
stdout is a terminal; the same in every server process, uvicorn's own loggers included.

`todo-api serve` hands `config()` to uvicorn as its log_config: uvicorn applies it in each
worker process it starts (with WORKERS > 1 a worker is a new interpreter, which a
logging.basicConfig in the parent would not reach), and the parent applies the same one.

What a request sent is not trusted to be harmless in a log: every line is scrubbed of what
looks like a credential (a bearer token, a JWT, a password in a URL or a conninfo string, a
`password=`/`secret=`/`token=` pair) and of the secrets the process knows (`hide`), after
formatting, so a traceback or an exception's message is scrubbed too. JSON escapes control
characters by itself; the text form escapes them in the message and fields, so a request cannot
forge a line.
"""

import contextlib
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from api.settings import Settings

LogFormat = Literal["auto", "json", "text"]

REDACTED = "[redacted]"
# Each pattern keeps its first group and replaces the rest. Each runs only on a line that holds
# one of its markers, in lower case: a substring test costs far less than a regular
# expression's scan, and most lines hold none.
KEYWORDS = ("password", "passwd", "secret", "token", "api_key")
CREDENTIALS = (
    (("bearer",), re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")),  # an Authorization credential
    (("eyj",), re.compile(r"()eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")),  # a JWT
    (("://",), re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s\"']*:)[^@/\s\"']+(?=@)")),  # URL pw
    (  # password=..., "token": "..."
        KEYWORDS,
        re.compile(rf"(?i)((?:{'|'.join(KEYWORDS)})[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}}]+"),
    ),
)
# C0 and C1 control characters and DEL, as \xNN (the text form; JSON escapes them itself).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_hidden: set[str] = set()


def hide(secret: str | None) -> None:
    """Masks this exact string in every later line (the signing secret, a database password)."""
    if secret and len(secret) >= 4:
        _hidden.add(secret)


def hide_settings(settings: Settings, *database_urls: str | None) -> None:
    """Masks the signing secret, the scrape token and the databases' passwords: each process
    calls it for itself (api.main.create_app, and `todo-api serve` before it)."""
    if settings.better_auth_secret is not None:
        hide(settings.better_auth_secret.get_secret_value())
    if settings.metrics_token is not None:
        hide(settings.metrics_token.get_secret_value())
    for url in (settings.database_url, settings.migration_database_url, *database_urls):
        with contextlib.suppress(psycopg.ProgrammingError):
            hide(conninfo_to_dict(url or "").get("password"))  # type: ignore[arg-type]


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = next((group for group in match.groups() if group is not None), "")
    return prefix + REDACTED


def scrub(line: str) -> str:
    for secret in _hidden:
        if secret in line:
            line = line.replace(secret, REDACTED)
    lowered = line.lower()
    for markers, pattern in CREDENTIALS:
        if any(marker in lowered for marker in markers):
            line = pattern.sub(_keep_prefix, line)
    return line


def escape(text: str) -> str:
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class ScrubbedJsonFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, the record's extra fields,
    and the traceback of an error as `exc_info`.

    A request's line (its fields in the record's `request`, api.observability.requests) comes
    on every request, so it is built directly, to the same layout: the general path walks every
    attribute of the record looking for extra fields, which cost several times the rest."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__.get("request")
        if fields is None or record.exc_info:
            return scrub(super().format(record))
        line = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg,
            **fields,
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
        }
        return scrub(json.dumps(line))


# uvicorn adds its message with terminal colours as an extra field; the line has it without.
NOT_FIELDS = ("color_message",)
# The standard attributes of a LogRecord; any other is a field a caller added with `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    *NOT_FIELDS,
}


class ScrubbedTextFormatter(logging.Formatter):
    """`12:00:01 INFO     api.request  request  method=GET route=/api/tasks ...`: for a person
    at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-8s %(name)s  %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        extra = {key: value for key, value in record.__dict__.items() if key not in _STANDARD}
        extra.update(extra.pop("request", None) or {})  # a request's line: its fields
        fields = " ".join(f"{key}={value}" for key, value in extra.items() if value is not None)
        record.message = escape(record.message + (f"  {fields}" if fields else ""))
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


# The note api.web.errors adds to an exception it has logged.
LOGGED = "logged by api.web.errors"


class LoggedOnce(logging.Filter):
    """Drops a line whose exception api.web.errors has logged already (its LOGGED note): the
    server's own "Exception in ASGI application", for the error the app answered 500 for."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or LOGGED not in getattr(error, "__notes__", ())


def choose(log_format: LogFormat) -> Literal["json", "text"]:
    if log_format != "auto":
        return log_format
    return "text" if sys.stdout.isatty() else "json"


def formatter(log_format: LogFormat = "auto") -> logging.Formatter:
    if choose(log_format) == "text":
        return ScrubbedTextFormatter()
    return ScrubbedJsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",  # ISO 8601, UTC
        reserved_attrs=[*RESERVED_ATTRS, *NOT_FIELDS],
    )


def config(level: str, log_format: LogFormat = "auto") -> dict[str, Any]:
    """A logging.config.dictConfig for the whole process: one handler on stdout at the root,
    and uvicorn's loggers passing their lines to it. The format is chosen here, in the parent,
    so that every worker writes the same one."""
    chosen = choose(log_format)
    passing = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter, "log_format": chosen}},
        "filters": {"logged_once": {"()": LoggedOnce}},
        "handlers": {
            "stdout": {
                "filters": ["logged_once"],
                # A thread writes the lines (api/observability/log_writer.py), so a stdout
                # that blocks never blocks the event loop.
                "class": "api.observability.log_writer.QueuedStreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            "uvicorn": passing,
            "uvicorn.error": passing,
            "uvicorn.access": passing,
            "yoyo": {**passing, "level": "WARNING"},
        },
    }


def configure(level: str, log_format: LogFormat = "auto") -> None:
    import logging.config

    logging.config.dictConfig(config(level, log_format))

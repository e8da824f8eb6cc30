"""The service's configuration: one Settings object, read from the environment and `.env`."""

from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.database.conninfo import PreparedStatements

MIN_SECRET_LENGTH = 32
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105 - a command, not a secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL the service connects with; none starts an embedded PostgreSQL.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="URL of a role allowed to run DDL, used by migrate, rollback and serve's "
        "migrate step; defaults to DATABASE_URL. On Neon: the direct (non-pooled) endpoint.",
    )
    database_prepared_statements: PreparedStatements = Field(
        default="auto",
        description="Server-side prepared statements on the service's connections: on, off, "
        "or auto (off when DATABASE_URL names a pooler: a -pooler host, port 6432 or 6543).",
    )
    better_auth_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key shared with the frontend; at least 32 characters.",
    )
    frontend_url: Annotated[list[str], NoDecode] = Field(
        default=["http://localhost:3000"], description="CORS origins, comma-separated."
    )
    better_auth_url: str | None = Field(
        default=None,
        description="Base URL of the Better Auth server; enables its JWTs and session tokens.",
    )
    better_auth_jwks_url: str | None = Field(
        default=None, description="Defaults to {BETTER_AUTH_URL}/api/auth/jwks."
    )
    better_auth_issuer: str | None = Field(
        default=None, description="Defaults to BETTER_AUTH_URL's origin."
    )
    better_auth_audience: str | None = Field(
        default=None, description="Defaults to BETTER_AUTH_URL's origin."
    )
    better_auth_session_table: str = Field(
        default="public.session",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$",
        description="Better Auth's session table, schema-qualified (schema.table).",
    )
    access_token_expire_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=365)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes, each with its own pool."
    )
    backlog: int = Field(
        default=16384,
        ge=64,
        description="Connections waiting to be accepted (Linux caps it at net.core.somaxconn).",
    )
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for its turn, and then for a connection, before "
        "a 503.",
    )
    database_retry_max_delay: float = Field(
        default=2.0,
        gt=0,
        description="Longest pause, in seconds, between attempts to reach a database that does "
        "not answer, at start-up and during an outage; the first is 0.1 s, each next twice as "
        "long. Meanwhile /readyz and every request that needs the database answer 503 at once.",
    )
    shutdown_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds requests in progress get to finish after SIGTERM; those still "
        "waiting then are answered 503.",
    )
    max_active_requests: int | None = Field(
        default=None,
        ge=1,
        description="Requests each process works on at once; the rest queue in arrival order "
        "for up to POOL_TIMEOUT. Defaults to POOL_MAX_SIZE: an admitted request finds a free "
        "connection, and requests wait in one queue, not also in the pool's.",
    )
    delete_response: Literal["empty", "json"] = Field(
        default="empty",
        description="DELETE's answer: 204 with no body (empty), or 200 with "
        '{"deleted": id, "message": "Task deleted"} (json), for frontends that parse every '
        "answer as JSON.",
    )
    unknown_task_fields: Literal["keep", "refuse"] = Field(
        default="keep",
        description="A task field the API does not model: kept as sent and sent back (keep, "
        "up to 20 fields and 8 KB), or refused with 422 (refuse).",
    )
    task_list_shape: Literal["array", "object"] = Field(
        default="array",
        description="GET /api/tasks answers a bare array (array), or an object with the tasks "
        'and their counts, {"tasks", "count", "total", "page", "page_size", "next_cursor"} '
        "(object), for frontends that read one.",
    )
    validation_detail: Literal["list", "message"] = Field(
        default="list",
        description="A 422's detail: the list of issues FastAPI clients read (list), or the "
        "same one sentence as its message (message), for frontends that show detail as text.",
    )
    log_level: str = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="json: one JSON object a line; text: for a person; auto: text when stdout "
        "is a terminal, else json.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a scraper sends to read /metrics from any address; unset, "
        "/metrics answers loopback clients only.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the embedded PostgreSQL and dev secret live.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Bytes a request's line and header fields may total; beyond, 431.",
    )
    max_headers: int = Field(
        default=100, ge=1, description="Header fields a request may have; beyond, 431."
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request's head may take to arrive, from the connection's start "
        "or the previous response; then the connection closes.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a request's body may take to arrive once its head has; then 408 "
        "and the connection closes.",
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a connection may wait idle for its next (or first) request.",
    )

    hsts_max_age: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        description="Strict-Transport-Security max-age, in seconds, on responses to requests "
        "that came over HTTPS (through a proxy in FORWARDED_ALLOW_IPS); 0 sends none.",
    )
    audit_retention_days: int = Field(
        default=180, ge=1, description="`todo-api purge` deletes audit events older than this."
    )
    expired_token_retention_days: int = Field(
        default=7,
        ge=0,
        description="`todo-api purge` deletes a refresh family this long after its last token "
        "expired.",
    )
    rate_limit_retention_hours: int = Field(
        default=24,
        ge=1,
        description="`todo-api purge` deletes sign-in failure counts whose window started this "
        "long ago.",
    )
    tombstone_retention_days: int = Field(
        default=30,
        ge=1,
        description="`todo-api purge` deletes the change feed's record of a deleted task this "
        "long after the deletion; a client that last synced before then must resync in full.",
    )

    @field_validator("frontend_url", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("better_auth_secret")
    @classmethod
    def long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters; make one with: {MAKE_A_SECRET}"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return level

    @field_validator("pool_max_size")
    @classmethod
    def max_not_below_min(cls, value: int, info: object) -> int:
        data = getattr(info, "data", {})
        if value < data.get("pool_min_size", 0):
            raise ValueError("must not be smaller than POOL_MIN_SIZE")
        return value

    @property
    def active_requests(self) -> int:
        return self.max_active_requests or self.pool_max_size

    def require_secret(self) -> None:
        """Raises ConfigError, saying what to do, when there is no BETTER_AUTH_SECRET."""
        if self.better_auth_secret is None:
            raise ConfigError(f"BETTER_AUTH_SECRET is not set; make one with: {MAKE_A_SECRET}")

    @property
    def secret(self) -> str:
        self.require_secret()
        assert self.better_auth_secret is not None
        return self.better_auth_secret.get_secret_value()

    @field_validator(
        "better_auth_url", "better_auth_jwks_url", "better_auth_issuer", "better_auth_audience"
    )
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def jwks_needs_issuer_and_audience(self) -> Self:
        explicit = self.better_auth_issuer and self.better_auth_audience
        if self.better_auth_jwks_url and not self.better_auth_url and not explicit:
            raise ValueError(
                "BETTER_AUTH_JWKS_URL without BETTER_AUTH_URL needs BETTER_AUTH_ISSUER"
                " and BETTER_AUTH_AUDIENCE"
            )
        return self

    @property
    def better_auth_origin(self) -> str | None:
        """Better Auth (1.7) writes its base URL's origin, no path or trailing slash, as the
        iss and aud of its JWTs."""
        if self.better_auth_url is None:
            return None
        parts = urlsplit(self.better_auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def jwt_issuer(self) -> str | None:
        return self.better_auth_issuer or self.better_auth_origin

    @property
    def jwt_audience(self) -> str | None:
        return self.better_auth_audience or self.better_auth_origin

    @property
    def jwks_url(self) -> str | None:
        if self.better_auth_jwks_url:
            return self.better_auth_jwks_url
        if self.better_auth_url is None:
            return None
        return f"{self.better_auth_url.rstrip('/')}/api/auth/jwks"

    @property
    def owner_database_url(self) -> str | None:
        return self.migration_database_url or self.database_url


class ConfigError(Exception):
    """A misconfiguration, described in one line a person can act on."""


def load_settings(**overrides: object) -> Settings:
    """Reads the settings, turning pydantic's report into one ConfigError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: "
            f"{error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None

"""Built-in accounts: sign up, sign in, refresh, sign out, and who am I.

Each handler owns its transactions, because some outcomes must commit and still answer with an
error: a failed sign-in is counted, a reused refresh token revokes its family."""

import contextlib
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from psycopg import AsyncConnection
from pydantic import BaseModel, ValidationError

from api.database.requests import anonymous_transaction
from api.deps import JSON, JSON_BODY, Db, is_json, unauthorized
from api.identity import accounts, audit
from api.models import (
    Detail,
    Me,
    PasswordForm,
    RefreshRequest,
    Session,
    SignIn,
    SignOutRequest,
    SignUp,
    TokenPair,
    UserPublic,
)
from api.observability import metrics
from api.routes.responses import (
    BAD_AUTHORIZATION,
    BODY_ERRORS,
    BODY_TOO_LARGE,
    INVALID,
    UNAUTHORIZED,
    UNAVAILABLE,
    error,
)
from api.settings import Settings
from api.web import json_body
from api.web.json_body import StrictJsonRoute

WAIT_SECONDS = "select app.auth_wait_seconds(%(email)s, %(client)s)"
# Sign-up and sign-in also take the refresh token's hash and the access token's id that they
# store if they succeed (NewSession.params).
SIGN_UP = (
    "select outcome, id, created_at, wait_seconds from app.sign_up(%(email)s, %(hash)s, %(name)s,"
    " %(client)s, %(refresh_hash)s, %(refresh_expires_at)s, %(access_token_id)s,"
    " %(access_expires_at)s)"
)
PARAMETERS = "select app.password_parameters(%(email)s)"
ATTEMPT = (
    "select attempt_id, wait_seconds from app.sign_in_attempt(%(email)s, %(client)s, %(hash)s)"
)
SIGN_IN = (
    "select outcome, user_id, name, created_at from app.sign_in(%(attempt)s, %(new_hash)s,"
    " %(refresh_hash)s, %(refresh_expires_at)s, %(access_token_id)s, %(access_expires_at)s,"
    " %(user_agent)s, %(request_id)s)"
)
ROTATE = (
    "select outcome, user_id from app.rotate_refresh_token(%(old)s, %(new)s, %(expires_at)s,"
    " %(access_token_id)s, %(access_expires_at)s)"
)
SIGN_OUT = "select app.sign_out(%(refresh_hash)s, %(token_id)s, %(expires_at)s)"
ME = "select id, email, name, created_at from app.users where id = app.current_user_id()"

INVALID_CREDENTIALS = "Invalid email or password"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 16

router = APIRouter(
    prefix="/api/auth", tags=["auth"], responses=UNAVAILABLE, route_class=StrictJsonRoute
)
CALLER_ERRORS = {**UNAUTHORIZED, **BAD_AUTHORIZATION}  # the routes that take a bearer credential

RATE_LIMITED = error(429, "Too many failures for this email or address; see Retry-After")
HASHING_BUSY = error(503, "Too many passwords waiting to be hashed; retry after Retry-After")
PASSWORD_ERRORS = {**BODY_ERRORS, **RATE_LIMITED, **HASHING_BUSY}  # sign-up's and sign-in's


def too_many(wait: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail="Too many attempts, try again later",
        headers={"Retry-After": str(wait)},
    )


async def wait_seconds(conn: AsyncConnection, request: Request, email: str, client: str) -> int:
    """Seconds this email or address must still wait before trying again (0: go ahead); a
    refusal goes to the audit trail."""
    cur = await conn.execute(WAIT_SECONDS, {"email": email, "client": client})
    row = await cur.fetchone()
    wait = int(row[0]) if row else 0
    if wait:
        await audit.record(conn, request, "rate_limited", None)
    return wait


@dataclass(frozen=True)
class NewSession:
    """The tokens a sign-up or sign-in hands out if the database lets it: the refresh token's
    hash and the access token's id go into its call, which stores them only on success."""

    refresh: accounts.RefreshToken
    access: accounts.AccessToken

    @classmethod
    def start(cls, settings: Settings) -> "NewSession":
        return cls(accounts.new_refresh_token(settings), accounts.new_access_token(settings))

    @property
    def params(self) -> dict[str, object]:
        return {
            "refresh_hash": self.refresh.hash,
            "refresh_expires_at": self.refresh.expires_at,
            "access_token_id": self.access.token_id,
            "access_expires_at": self.access.expires_at,
        }

    def for_user(self, settings: Settings, user: UserPublic) -> Session:
        return Session(
            user=user,
            access_token=self.access.sign(settings, user.id),
            refresh_token=self.refresh.token,
            expires_in=self.access.lifetime,
        )


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    dependencies=JSON_BODY,
    responses={**PASSWORD_ERRORS, **error(409, "Email already registered")},
    summary="Create an account",
    description="Also at `/api/auth/register`; `username` is another name for `name`.",
)
async def sign_up(request: Request, body: SignUp) -> Session:
    settings: Settings = request.app.state.settings
    pool, client = request.app.state.pool, audit.client_address(request)
    email = str(body.email)
    async with anonymous_transaction(pool) as conn:
        wait = await wait_seconds(conn, request, email, client)
    if wait:  # refused before the costly hash
        raise too_many(wait)
    password_hash = await accounts.hash_password(body.password)
    new = NewSession.start(settings)
    async with anonymous_transaction(pool) as conn:
        cur = await conn.execute(
            SIGN_UP,
            {"email": email, "hash": password_hash, "name": body.name, "client": client,
             **new.params},
        )  # fmt: skip
        row = await cur.fetchone()
        assert row is not None
        outcome, user_id, created_at, wait = row
        event = {"ok": "sign_up", "taken": "sign_up_failed"}.get(outcome, "rate_limited")
        await audit.record(conn, request, event, user_id)
    if outcome == "rate_limited":  # the failures reached the limit while this one was hashed
        raise too_many(wait)
    if outcome == "taken":
        raise HTTPException(status.HTTP_409_CONFLICT, detail="Email already registered")
    return new.for_user(
        settings, UserPublic(id=user_id, email=email, name=body.name, created_at=created_at)
    )


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: object) -> Model:
    """`data` as `model`, or the 422 FastAPI gives a body that does not fit its model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = [{**issue, "loc": ("body", *issue["loc"])} for issue in exc.errors()]
        raise RequestValidationError(issues) from None


def form_fields(raw: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body's fields; 400 when it is not one, 422 for a
    field given twice (which one a framework keeps differs)."""
    try:
        pairs = parse_qsl(
            raw.decode(), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except ValueError:  # not UTF-8, or too many fields
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="Malformed form body") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            issue = {"type": "duplicate", "loc": ("body", name), "msg": "Given more than once"}
            raise RequestValidationError([issue])
        fields[name] = value
    return fields


async def sign_in_body(request: Request) -> SignIn:
    """Sign-in's body: JSON (`email` or `username`, and `password`), or the OAuth2 password
    form that FastAPI's tutorials teach frontends to send."""
    content_type = request.headers.get("content-type", "")
    raw = await request.body()
    if content_type.split(";", 1)[0].strip().lower() == FORM:
        form = validated(PasswordForm, form_fields(raw))
        return SignIn(email=form.username, password=form.password)
    if not is_json(content_type):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Request body must be {JSON} or {FORM}",
        )
    try:
        data = json_body.loads(raw) if raw else None
    except (ValueError, RecursionError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="Malformed JSON body") from None
    return validated(SignIn, data)


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}


# What sign_in_body reads, for OpenAPI (a dependency's body is not documented by itself).
SIGN_IN_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: body_schema(SignIn), FORM: body_schema(PasswordForm)},
    }
}


@router.post(
    "/signin",
    responses={**PASSWORD_ERRORS, **error(401, INVALID_CREDENTIALS)},
    summary="Sign in with email and password",
    description="Also at `/api/auth/login`. The body is JSON, or the OAuth2 password form "
    "(`username` is the email).",
    openapi_extra=SIGN_IN_BODY,
)
async def sign_in(request: Request, body: Annotated[SignIn, Depends(sign_in_body)]) -> Session:
    """The password is checked by the database: it hands out the account's hash parameters,
    this hashes the password with them, app.sign_in_attempt counts and records that hash, and
    app.sign_in, in the next transaction, compares it and issues the tokens."""
    settings: Settings = request.app.state.settings
    email = str(body.email)
    for _ in range(2):  # a second time only when a concurrent sign-in upgraded the hash
        tried = await try_password(request, email, body.password)
        if tried.outcome != "stale":
            break
    if tried.outcome != "ok" or tried.user is None:
        metrics.auth_failure("sign_in_failed")  # its audit row is app.sign_in's
        raise unauthorized(INVALID_CREDENTIALS)
    return tried.session.for_user(settings, tried.user)


async def attempt_password(
    request: Request, email: str, parameters: str | None, password: str
) -> UUID:
    """Hashes `password` with an account's parameters and has app.sign_in_attempt count and
    record the hash, in a transaction of its own, which commits before anything compares it.
    Returns the attempt's id; 429 when the email or the address is past its limit."""
    password_hash = await accounts.hash_with(parameters, password)
    async with anonymous_transaction(request.app.state.pool) as conn:
        cur = await conn.execute(
            ATTEMPT,
            {"email": email, "client": audit.client_address(request), "hash": password_hash},
        )
        attempt_id: UUID | None
        attempt_id, wait = await cur.fetchone() or (None, 0)
        if attempt_id is None:
            await audit.record(conn, request, "rate_limited", None)
    if attempt_id is None:  # the failures reached the limit while this one was hashed
        raise too_many(wait)
    return attempt_id


@dataclass(frozen=True)
class Tried:
    """What one sign-in attempt came to: app.sign_in's outcome, the user when it is ok, and the
    session the tokens belong to."""

    outcome: str
    user: UserPublic | None
    session: NewSession


async def try_password(request: Request, email: str, password: str) -> Tried:
    """One sign-in attempt, from the account's parameters to app.sign_in's answer."""
    settings: Settings = request.app.state.settings
    pool, client = request.app.state.pool, audit.client_address(request)
    async with anonymous_transaction(pool) as conn:
        wait = await wait_seconds(conn, request, email, client)
        if not wait:
            cur = await conn.execute(PARAMETERS, {"email": email})
            parameters = (await cur.fetchone() or (None,))[0]
    if wait:  # refused before the costly hash
        raise too_many(wait)
    attempt_id = await attempt_password(request, email, parameters, password)
    new_hash = None
    if accounts.needs_rehash(parameters):  # stored with older parameters than today's
        # The attempt is counted already: a full hashing queue must not waste it, and the
        # upgrade waits for a later sign-in.
        with contextlib.suppress(accounts.HashingBusyError):
            new_hash = await accounts.hash_password(password)
    new = NewSession.start(settings)
    params = {
        **audit.event_params(request, "sign_in", None),
        **new.params,
        "attempt": attempt_id,
        "new_hash": new_hash,
    }
    async with anonymous_transaction(pool) as conn:
        cur = await conn.execute(SIGN_IN, params)
        row = await cur.fetchone()
        assert row is not None
        outcome, user_id, name, created_at = row
        if outcome == "ok":
            await audit.record(conn, request, "sign_in", user_id)
    if outcome != "ok":
        return Tried(outcome, None, new)
    return Tried(
        outcome, UserPublic(id=user_id, email=email, name=name, created_at=created_at), new
    )


@router.post(
    "/refresh",
    dependencies=JSON_BODY,
    responses={**BODY_ERRORS, **error(401, "Invalid, expired or reused refresh token")},
    summary="Exchange a refresh token for new tokens",
)
async def refresh(request: Request, body: RefreshRequest) -> TokenPair:
    """The refresh token is rotated: the one presented stops working. Presenting it again is
    taken for theft, and revokes every refresh token issued from the same sign-in."""
    settings: Settings = request.app.state.settings
    new = accounts.new_refresh_token(settings)
    access = accounts.new_access_token(settings)
    async with anonymous_transaction(request.app.state.pool) as conn:
        cur = await conn.execute(
            ROTATE,
            {"old": accounts.refresh_hash(body.refresh_token), "new": new.hash,
             "expires_at": new.expires_at, "access_token_id": access.token_id,
             "access_expires_at": access.expires_at},
        )  # fmt: skip
        row = await cur.fetchone()
        assert row is not None
        outcome, user_id = row
        if outcome in ("ok", "reused"):
            event = "refresh" if outcome == "ok" else "refresh_reused"
            await audit.record(conn, request, event, user_id)
    if outcome == "reused":
        raise unauthorized("Refresh token reuse detected; sign in again")
    if outcome != "ok":
        metrics.auth_failure("refresh_invalid")  # no audit row: nobody to attribute it to
        raise unauthorized("Invalid refresh token")
    return TokenPair(
        access_token=access.sign(settings, user_id),
        refresh_token=new.token,
        expires_in=access.lifetime,
    )


@router.post(
    "/signout",
    responses={**CALLER_ERRORS, **INVALID, **BODY_TOO_LARGE},
    summary="Sign out this session",
)
async def sign_out(request: Request, db: Db, body: SignOutRequest | None = None) -> Detail:
    """Revokes the access token used for this request and, when given, the refresh token's
    whole family. The user's other sessions keep working. Better Auth's own tokens are revoked
    by signing out at Better Auth; this revokes only what this service issued."""
    refresh_token = body.refresh_token if body else None
    async with db.transaction() as (conn, user_id):
        await conn.execute(
            SIGN_OUT,
            {
                "refresh_hash": accounts.refresh_hash(refresh_token) if refresh_token else None,
                "token_id": db.caller.token_id,
                "expires_at": db.caller.expires_at,
            },
        )
        await audit.record(conn, request, "sign_out", user_id)
    return Detail(detail="Signed out")


@router.get("/me", responses=CALLER_ERRORS, summary="The caller")
async def me(db: Db) -> Me:
    """The caller's fields, and the same again under `user`."""
    async with db.transaction() as (conn, _):
        cur = await conn.execute(ME)
        row = await cur.fetchone()
    assert row is not None  # begin_request created the row
    user_id, email, name, created_at = row
    return Me(id=user_id, email=email, name=name, created_at=created_at)

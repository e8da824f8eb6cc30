"""Built-in accounts: password hashing and the tokens we issue.

Passwords are hashed with argon2id (argon2-cffi) in worker threads of their own, one per core
at most and at the lowest CPU priority, so that hashing never blocks the event loop and yields
the CPU to the requests around it. The database, not this module, decides whether a password is
right: it hands out an account's hash parameters and salt, never the hash, and compares the hash
made here with the one it holds (app.sign_in). Access tokens are HS256 JWTs signed with
BETTER_AUTH_SECRET; refresh tokens are random strings of which only a SHA-256 is stored."""

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import HashingError
from argon2.low_level import hash_secret

from api.settings import Settings
from api.web.admission import stepping_aside

ISSUER = "todo-api"
# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): tens of milliseconds a hash, so a burst
# of sign-ins stays well under a second on two cores (how-to/benchmark.md).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# The hashing threads run under Linux's SCHED_IDLE policy. A hash is CPU for tens of
# milliseconds, and sixteen at once would take both cores from every other request. At nice 10
# the kernel still let a hash finish its time slice before a woken request ran, which showed in
# the other requests' tail latency (bench/interference.py); an idle-policy thread gives way the
# moment anything else is runnable. The price: while the other requests keep both
# cores busy, sign-in gets only the CPU they leave (how-to/benchmark.md has the numbers).
# Where that policy is refused, the threads fall back to this nice value.
HASHING_NICENESS = 10
# What the database holds every stored hash to (migrations 0010 and 0011): argon2id, version 19,
# a 32-byte hash. Parameters and salt are what app.password_parameters hands out; this process
# takes salts of 8 to 64 bytes (11 to 86 base64 characters; it makes 16).
PARAMETERS = re.compile(
    r"[$]argon2id[$]v=19[$]m=(?P<memory>[0-9]+),t=(?P<time>[0-9]+),p=(?P<lanes>[0-9]+)"
    r"[$](?P<salt>[A-Za-z0-9+/]{11,86})"
)
MAX_PARAMETERS_LENGTH = 160  # a 64-byte salt's parameters are about 120 characters
HASH_LENGTH = hasher.hash_len
# The most a stored hash may ask of this process. A hash is only ever made here, with
# `hasher`, but raw SQL can sign up an account with a hash of its own making; that must not
# make each sign-in against it take gigabytes, seconds or more than one thread: such an
# account cannot sign in. Memory and passes each up to four times today's, and their product
# (argon2's work) too, so that both at once cost no more than four of today's hashes; lanes
# no more than today's, which the hashing queue's one hash per core assumes. Raise these with
# the parameters.
MAX_MEMORY_KIB = 4 * hasher.memory_cost
MAX_TIME_COST = 4 * hasher.time_cost
MAX_WORK = 4 * hasher.memory_cost * hasher.time_cost
MAX_LANES = hasher.parallelism


def _lower_priority() -> None:
    """Runs first in each hashing thread. On Linux a thread has a scheduling policy and a nice
    value of its own, set by its thread id; elsewhere hashing keeps the process's priority."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    except OSError:
        with contextlib.suppress(OSError):  # a sandbox that forbids both: normal priority
            os.setpriority(os.PRIO_PROCESS, thread, HASHING_NICENESS)


# At most one hash per core at a time; the others queue here, not on the loop.
HASHING_THREADS = max(1, os.cpu_count() or 1)
_hashing = ThreadPoolExecutor(
    max_workers=HASHING_THREADS,
    thread_name_prefix="argon2",
    initializer=_lower_priority,
)


class HashingBusyError(Exception):
    """The hashing queue is full: the request gets 503 with Retry-After (api/web/errors.py)."""


class HashingQueue:
    """Bounds the hashes waiting or running in this process. A request waiting for its hash
    holds no admission place (api.web.admission.stepping_aside), so this bound is what limits how
    many password guesses are in flight before the failure limit has counted the first of them,
    and how long the queue grows while hashing gets little CPU."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.size >= self.limit:
            raise HashingBusyError
        self.size += 1
        try:
            async with stepping_aside():  # the request's admission place is not needed meanwhile
                yield
        finally:
            self.size -= 1


queue = HashingQueue(limit=8 * HASHING_THREADS)


def parameters_of(password_hash: str) -> str:
    """A hash without its last field: what app_private.hash_parameters hands out."""
    return password_hash.rpartition("$")[0]


# Hashing with these when the email is unknown makes both failures take the same time.
_DUMMY_PARAMETERS = parameters_of(hasher.hash(secrets.token_urlsafe(16)))


def accepted(parameters: str | None) -> tuple[int, int, int, str] | None:
    """(memory, passes, lanes, salt) of parameters this process hashes with; None for those it
    refuses (see MAX_WORK)."""
    if parameters is None or len(parameters) > MAX_PARAMETERS_LENGTH:
        return None
    match = PARAMETERS.fullmatch(parameters)
    if match is None:
        return None
    memory, time_cost, lanes = (int(match[name]) for name in ("memory", "time", "lanes"))
    if (
        memory > MAX_MEMORY_KIB
        or time_cost > MAX_TIME_COST
        or memory * time_cost > MAX_WORK
        or lanes > MAX_LANES
    ):
        return None
    return memory, time_cost, lanes, match["salt"]


def make_hash(parameters: str, password: str) -> str | None:
    """The encoded argon2id hash of `password` with these parameters and salt; None when they
    are not ones this process makes or accepts."""
    parts = accepted(parameters)
    if parts is None:
        return None
    memory, time_cost, lanes, salt = parts
    try:
        salt_bytes = base64.b64decode(salt + "=" * (-len(salt) % 4), validate=True)
    except binascii.Error:
        return None
    try:
        encoded = hash_secret(
            password.encode(), salt_bytes, time_cost=time_cost, memory_cost=memory,
            parallelism=lanes, hash_len=HASH_LENGTH, type=Type.ID, version=19,
        )  # fmt: skip
    except HashingError:  # argon2's own refusal (a memory cost below 8 KiB a lane, say)
        return None
    return encoded.decode()


async def hash_password(password: str) -> str:
    """A new hash with today's parameters and a new salt. Raises HashingBusyError when the
    hashing queue is full, as hash_with does."""
    loop = asyncio.get_running_loop()
    async with queue.turn():
        return await loop.run_in_executor(_hashing, hasher.hash, password)


async def hash_with(parameters: str | None, password: str) -> str:
    """The hash of `password` with an account's parameters and salt, for the database to
    compare with the one it holds. With none (no such account), or ones this process refuses,
    it spends the same time on made-up ones, and the result matches no account."""
    loop = asyncio.get_running_loop()
    async with queue.turn():
        made = None
        if parameters is not None:
            made = await loop.run_in_executor(_hashing, make_hash, parameters, password)
        if made is None:
            await loop.run_in_executor(_hashing, make_hash, _DUMMY_PARAMETERS, password)
            return ""  # no stored hash is empty (the database's check): matches nothing
        return made


def needs_rehash(parameters: str | None) -> bool:
    """Whether a stored hash with these parameters was made with other ones than today's: a
    sign-in then also sends a new hash (app.sign_in stores it if the password was right)."""
    parts = accepted(parameters)
    if parts is None:
        return False  # refused by make_hash: that account cannot sign in to be upgraded
    return parts[:3] != (hasher.memory_cost, hasher.time_cost, hasher.parallelism)


@dataclass(frozen=True)
class RefreshToken:
    token: str
    hash: bytes
    expires_at: datetime


def refresh_hash(refresh_token: str) -> bytes:
    return hashlib.sha256(refresh_token.encode()).digest()


def new_refresh_token(settings: Settings) -> RefreshToken:
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=settings.refresh_token_expire_days)
    return RefreshToken(token=token, hash=refresh_hash(token), expires_at=expires_at)


@dataclass(frozen=True)
class AccessToken:
    """An access token before it is signed: its id and expiry are stored with the refresh token
    issued alongside (so that erasing the account can revoke it) before the user is known."""

    token_id: uuid.UUID
    issued_at: int
    lifetime: int  # seconds

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.issued_at + self.lifetime, UTC)

    def sign(self, settings: Settings, user_id: str) -> str:
        """The signed JWT. Its `jti` is what sign-out and erasure revoke."""
        claims = {
            "sub": user_id,
            "iss": ISSUER,
            "iat": self.issued_at,
            "exp": self.issued_at + self.lifetime,
            "jti": str(self.token_id),
        }
        return jwt.encode(claims, settings.secret, algorithm="HS256")


def new_access_token(settings: Settings) -> AccessToken:
    return AccessToken(
        token_id=uuid.uuid4(),
        issued_at=int(time.time()),
        lifetime=settings.access_token_expire_minutes * 60,
    )

"""api.identity.better_auth against a real JWKS server on 127.0.0.1: every algorithm Better Auth
can sign with is accepted, forgeries are refused, and the key cache stays cheap, fresh and
available."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from api.identity.better_auth import Jwks, verify_jwt
from api.identity.tokens import InvalidTokenError, caller_from_claims

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class SigningKey:
    alg: str
    kid: str
    private: PrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            data = OKPAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            data = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**data, "alg": self.alg, "kid": self.kid, "use": "sig"}


def new_key(alg: str) -> SigningKey:
    private: PrivateKey
    if alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "ES512":
        private = ec.generate_private_key(ec.SECP521R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(alg, f"{alg.lower()}-{uuid.uuid4().hex[:8]}", private)


ALGS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"]


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {alg: new_key(alg) for alg in ALGS}


# --- a JWKS server -------------------------------------------------------------------------


@dataclass
class JwksServer:
    """Serves `keys` as a JWKS at /api/auth/jwks; counts requests; can hang or trickle."""

    keys: list[Any]
    body: bytes | None = None  # served instead of the key set when set
    mode: str = "ok"  # "ok", "hang" (never answers), "trickle" (one byte every 100 ms)
    requests: int = 0
    port: int = 0
    _listener: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set["asyncio.Task[Any]"] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/api/auth/jwks"

    async def start(self) -> None:
        self._listener = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self._writers.add(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, OSError):
            request = await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            path = request.split(b" ", 2)[1]
            if self.mode == "hang":
                await asyncio.sleep(30)  # bounded; stop() cancels it first
            elif self.mode == "trickle":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                for _ in range(100):  # 10 s at most
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(0.1)
            elif path == b"/api/auth/jwks":
                body = self.body or json.dumps({"keys": self.keys}).encode()
                await self._respond(writer, b"200 OK", body)
            else:
                await self._respond(writer, b"404 Not Found", b"{}")
        writer.transport.abort()
        self._writers.discard(writer)
        self._handlers.discard(handler)

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: bytes, body: bytes) -> None:
        head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
            status,
            len(body),
        )
        writer.write(head + b"Connection: close\r\n\r\n" + body)
        await writer.drain()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server(keys: dict[str, SigningKey]) -> AsyncIterator[JwksServer]:
    jwks_server = JwksServer(keys=[key.jwk for key in keys.values()])
    await jwks_server.start()
    try:
        yield jwks_server
    finally:
        await jwks_server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def jwks(server: JwksServer, clock: Clock) -> AsyncIterator[Jwks]:
    cache = Jwks(server.jwks_url, timeout=5, min_refetch_seconds=30, clock=clock)
    try:
        yield cache
    finally:
        await cache.aclose()


# --- tokens --------------------------------------------------------------------------------


def claims_for(base_url: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "email": "alice@example.com",
        "name": "Alice",
        "iat": now,
        "exp": now + 15 * 60,
        "iss": base_url,
        "aud": base_url,
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def mint(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    headers = {"kid": key.kid, **header}
    return jwt.encode(claims, key.private, algorithm=headers.pop("alg", key.alg), headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(data: dict[str, Any]) -> str:
    return b64(json.dumps(data).encode())


def signed_by_hand(key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token PyJWT would refuse to encode (e.g. a non-string kid), signed by `key`."""
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    algorithm = jwt.get_algorithm_by_name(key.alg)
    return f"{signing_input}.{b64(algorithm.sign(signing_input.encode(), key.private))}"


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token built by hand: PyJWT itself refuses a public key as an HMAC secret."""
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


async def verify(token: str, jwks: Jwks, server: JwksServer) -> dict[str, Any]:
    """The claims, once both the signature check and the claim check (the caller) pass."""
    claims = await verify_jwt(token, jwks, issuer=server.base_url, audience=server.base_url)
    caller_from_claims(claims)
    return claims


async def refused(token: str, jwks: Jwks, server: JwksServer) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        await verify(token, jwks, server)
    return caught.value.detail


# --- what is accepted ----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
async def test_each_algorithm_is_accepted(
    alg: str, keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer
) -> None:
    claims = claims_for(server.base_url)
    assert await verify(mint(keys[alg], claims), jwks, server) == claims


def test_defaults() -> None:
    cache = Jwks("http://127.0.0.1:1/api/auth/jwks")
    assert (cache.timeout, cache.min_refetch_seconds) == (3.0, 30.0)


# --- what is refused -----------------------------------------------------------------------


Forgery = Callable[[dict[str, SigningKey], str], str]


def none_token(keys: dict[str, SigningKey], base_url: str) -> str:
    header = {"alg": "none", "kid": keys["EdDSA"].kid}
    return f"{b64json(header)}.{b64json(claims_for(base_url))}."


def tampered(keys: dict[str, SigningKey], base_url: str) -> str:
    head, _, signature = mint(keys["EdDSA"], claims_for(base_url)).split(".")
    return f"{head}.{b64json(claims_for(base_url, sub='someone-else'))}.{signature}"


def impostor(keys: dict[str, SigningKey], base_url: str) -> str:
    """Signed by a fresh Ed25519 key, under the kid of the published one."""
    fake = SigningKey("EdDSA", keys["EdDSA"].kid, ed25519.Ed25519PrivateKey.generate())
    return mint(fake, claims_for(base_url))


def with_claims(alg: str, **overrides: Any) -> Forgery:
    return lambda keys, base_url: mint(keys[alg], claims_for(base_url, **overrides))


def with_header(alg: str, **header: Any) -> Forgery:
    return lambda keys, base_url: mint(keys[alg], claims_for(base_url), **header)


def hmac_with(alg: str, secret: Callable[[SigningKey], bytes]) -> Forgery:
    def forge(keys: dict[str, SigningKey], base_url: str) -> str:
        key = keys[alg]
        return hs256(
            {"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims_for(base_url), secret(key)
        )

    return forge


FORGERIES: dict[str, Forgery] = {
    "alg none": none_token,
    "alg none, no signature part": lambda keys, base_url: none_token(keys, base_url)[:-1],
    "HS256, RSA public PEM as secret": hmac_with("RS256", lambda key: key.public_pem),
    "HS256, Ed25519 public PEM as secret": hmac_with("EdDSA", lambda key: key.public_pem),
    "HS256, EC JWK JSON as secret": hmac_with("ES256", lambda key: json.dumps(key.jwk).encode()),
    "HS256, RSA JWK n as secret": hmac_with("RS256", lambda key: key.jwk["n"].encode()),
    "RS256 signed by the PS256 key": lambda keys, base_url: mint(
        keys["PS256"], claims_for(base_url), alg="RS256"
    ),
    "ES256 token under the EdDSA kid": lambda keys, base_url: mint(
        keys["ES256"], claims_for(base_url), kid=keys["EdDSA"].kid
    ),
    "ES512 token under the ES256 kid": lambda keys, base_url: mint(
        keys["ES512"], claims_for(base_url), kid=keys["ES256"].kid
    ),
    "tampered payload": tampered,
    "signed by another key, same kid": impostor,
    "wrong issuer": with_claims("EdDSA", iss="https://evil.example"),
    "wrong audience": with_claims("ES256", aud="https://other.example"),
    "audience list without ours": with_claims("RS256", aud=["https://other.example"]),
    "no issuer": with_claims("EdDSA", iss=None),
    "no audience": with_claims("EdDSA", aud=None),
    "no exp": with_claims("EdDSA", exp=None),
    "missing sub": with_claims("EdDSA", sub=None),
    "empty sub": with_claims("EdDSA", sub=""),
    "numeric sub": with_claims("ES512", sub=42),
    "issued in the future": with_claims("EdDSA", iat=int(time.time()) + 3600),
    "not yet valid": with_claims("EdDSA", nbf=int(time.time()) + 3600),
    "unknown kid": with_header("EdDSA", kid="no-such-kid"),
    "missing kid": lambda keys, base_url: jwt.encode(
        claims_for(base_url), keys["EdDSA"].private, algorithm="EdDSA"
    ),
    "non-string kid": lambda keys, base_url: signed_by_hand(
        keys["EdDSA"], {"alg": "EdDSA", "kid": 7}, claims_for(base_url)
    ),
    "empty kid": with_header("EdDSA", kid=""),
    "not a JWT": lambda keys, base_url: "not-a-jwt",
    "empty": lambda keys, base_url: "",
}


@pytest.mark.parametrize("name", list(FORGERIES))
async def test_forgeries_are_refused(
    name: str, keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer
) -> None:
    token = FORGERIES[name](keys, server.base_url)
    assert await refused(token, jwks, server) == "Invalid token"


async def test_expired_token_says_so(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer
) -> None:
    expired = claims_for(server.base_url, iat=int(time.time()) - 1000, exp=int(time.time()) - 60)
    assert await refused(mint(keys["EdDSA"], expired), jwks, server) == "Token has expired"


async def test_expired_forgery_is_not_called_expired(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer
) -> None:
    expired = claims_for(server.base_url, exp=int(time.time()) - 60)
    forged = mint(keys["ES256"], expired, kid=keys["RS256"].kid, alg="ES256")
    assert await refused(forged, jwks, server) == "Invalid token"


async def test_private_key_material_in_the_jwks_is_not_used(
    keys: dict[str, SigningKey], server: JwksServer, clock: Clock
) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    key = SigningKey("ES256", "leaked", private)
    private_jwk = {**ECAlgorithm.to_jwk(private, as_dict=True), "kid": key.kid, "alg": "ES256"}
    server.keys = [private_jwk]
    cache = Jwks(server.jwks_url, timeout=5, clock=clock)
    try:
        token = mint(key, claims_for(server.base_url))
        assert await refused(token, cache, server) == "Invalid token"
    finally:
        await cache.aclose()


# --- the cache -----------------------------------------------------------------------------


async def test_keys_are_fetched_once_and_cached(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer
) -> None:
    for key in keys.values():
        for _ in range(3):
            await verify(mint(key, claims_for(server.base_url)), jwks, server)
    assert server.requests == 1
    assert jwks.kids == {key.kid for key in keys.values()}


async def test_unknown_kid_flood_costs_one_fetch_per_interval(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer, clock: Clock
) -> None:
    eddsa = keys["EdDSA"]
    good = claims_for(server.base_url)
    await verify(mint(eddsa, good), jwks, server)
    assert server.requests == 1

    def bogus() -> str:
        return mint(eddsa, good, kid=uuid.uuid4().hex)

    async def flood(count: int) -> None:
        outcomes = await asyncio.gather(
            *(verify(bogus(), jwks, server) for _ in range(count)), return_exceptions=True
        )
        assert all(isinstance(outcome, InvalidTokenError) for outcome in outcomes)

    await flood(200)  # within the interval of the first fetch: none
    for _ in range(50):
        await refused(bogus(), jwks, server)
    assert server.requests == 1

    clock.now += 30  # a new interval: 200 concurrent unknown kids share one fetch
    await flood(200)
    assert server.requests == 2

    clock.now += 29.9
    await flood(200)
    assert server.requests == 2
    assert await verify(mint(eddsa, good), jwks, server) == good  # known keys unaffected


async def test_rotated_key_is_picked_up_with_one_refetch(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer, clock: Clock
) -> None:
    old = keys["EdDSA"]
    good = claims_for(server.base_url)
    await verify(mint(old, good), jwks, server)
    assert server.requests == 1

    clock.now += 300  # time passes; then the server rotates in a new key
    rotated = new_key("EdDSA")
    server.keys = [*server.keys, rotated.jwk]
    assert await verify(mint(rotated, good), jwks, server) == good
    assert server.requests == 2
    assert await verify(mint(old, good), jwks, server) == good
    assert await verify(mint(rotated, good), jwks, server) == good
    assert server.requests == 2


async def test_rotation_right_after_a_fetch_waits_for_the_interval(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer, clock: Clock
) -> None:
    good = claims_for(server.base_url)
    await verify(mint(keys["EdDSA"], good), jwks, server)
    rotated = new_key("ES256")
    server.keys = [*server.keys, rotated.jwk]
    assert await refused(mint(rotated, good), jwks, server) == "Invalid token"
    assert server.requests == 1
    clock.now += 30
    assert await verify(mint(rotated, good), jwks, server) == good
    assert server.requests == 2


async def test_key_withdrawn_by_the_server_stops_working_after_a_refetch(
    keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer, clock: Clock
) -> None:
    good = claims_for(server.base_url)
    await verify(mint(keys["RS256"], good), jwks, server)
    server.keys = [keys["EdDSA"].jwk]
    clock.now += 30
    await refused(mint(keys["EdDSA"], good, kid="unknown"), jwks, server)  # triggers the refetch
    assert server.requests == 2
    assert await refused(mint(keys["RS256"], good), jwks, server) == "Invalid token"


async def test_cached_keys_keep_working_while_the_server_is_down(
    keys: dict[str, SigningKey],
    jwks: Jwks,
    server: JwksServer,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = claims_for(server.base_url)
    tokens = [mint(key, good) for key in keys.values()]
    for token in tokens:
        await verify(token, jwks, server)
    await server.stop()

    for token in tokens:
        assert await verify(token, jwks, server) == good
    clock.now += 30  # an unknown kid now makes the cache try the dead server
    with caplog.at_level(logging.WARNING, logger="api.identity.better_auth"):
        assert await refused(mint(keys["EdDSA"], good, kid="new"), jwks, server)
    assert "JWKS fetch" in caplog.text
    assert "keeping 5 cached key(s)" in caplog.text
    for token in tokens:
        assert await verify(token, jwks, server) == good


TIMEOUT = 1.0


@pytest.mark.parametrize("mode", ["hang", "trickle"])
async def test_fetch_timeout_does_not_hang(
    mode: str, keys: dict[str, SigningKey], server: JwksServer, clock: Clock
) -> None:
    """ "hang" never answers; "trickle" sends a byte every 100 ms, which no per-read timeout
    would catch: the timeout bounds the whole fetch."""
    cache = Jwks(server.jwks_url, timeout=TIMEOUT, clock=clock)
    try:
        good = claims_for(server.base_url)
        cached = mint(keys["ES256"], good)
        await verify(cached, cache, server)
        server.mode = mode
        clock.now += 30

        started = time.monotonic()
        assert await refused(mint(keys["ES256"], good, kid="new"), cache, server)
        assert TIMEOUT * 0.9 < time.monotonic() - started < TIMEOUT + 1.5
        assert server.requests == 2
        assert await verify(cached, cache, server) == good
    finally:
        await cache.aclose()


async def test_first_fetch_that_times_out_fails_within_the_timeout(
    keys: dict[str, SigningKey], server: JwksServer
) -> None:
    server.mode = "hang"
    cache = Jwks(server.jwks_url, timeout=TIMEOUT)
    try:
        started = time.monotonic()
        token = mint(keys["EdDSA"], claims_for(server.base_url))
        assert await refused(token, cache, server) == "Invalid token"
        assert time.monotonic() - started < TIMEOUT + 1.5
    finally:
        await cache.aclose()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"keys": {}}', b'{"nokeys": []}'],
)
async def test_malformed_jwks_keeps_the_cache(
    body: bytes, keys: dict[str, SigningKey], jwks: Jwks, server: JwksServer, clock: Clock
) -> None:
    good = claims_for(server.base_url)
    await verify(mint(keys["PS256"], good), jwks, server)
    server.body = body
    clock.now += 30
    await refused(mint(keys["PS256"], good, kid="new"), jwks, server)
    assert server.requests == 2
    assert await verify(mint(keys["PS256"], good), jwks, server) == good


async def test_malformed_key_does_not_hide_the_others(
    keys: dict[str, SigningKey], server: JwksServer, clock: Clock
) -> None:
    server.keys = [
        {"kid": "bad-1", "kty": "EC", "crv": "P-256", "x": 1, "y": None},
        {"kid": "bad-2", "kty": "nope"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
        "not an object",
        {**keys["EdDSA"].jwk, "kid": "enc-only", "use": "enc"},
        keys["EdDSA"].jwk,
    ]
    cache = Jwks(server.jwks_url, timeout=5, clock=clock)
    try:
        good = claims_for(server.base_url)
        assert await verify(mint(keys["EdDSA"], good), cache, server) == good
        assert cache.kids == {keys["EdDSA"].kid}
    finally:
        await cache.aclose()

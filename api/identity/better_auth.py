"""Better Auth's JWT plugin tokens: a cached JWKS and the verification of one token against it.

Better Auth signs its JWTs (`GET /api/auth/token`) with an asymmetric key whose public half it
publishes at `{BETTER_AUTH_URL}/api/auth/jwks`; `iss` and `aud` are its base URL, `sub` the user
id. Verification never trusts the token's header beyond picking a key: the algorithm must be one
of ours, and the key found under the `kid` must be of that very algorithm.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from api.identity.tokens import InvalidTokenError

log = logging.getLogger(__name__)

JWKS_PATH: Final = "/api/auth/jwks"
MAX_JWKS_BYTES: Final = 1024 * 1024  # a key set is a few KiB; refuse to buffer more than this

# Asymmetric only: a symmetric algorithm (HS*) would let a token be "signed" with the public key.
ALGORITHMS: Final = frozenset({"EdDSA", "ES256", "ES512", "RS256", "PS256"})
_EC_CURVES: Final = {"ES256": "secp256r1", "ES512": "secp521r1"}


def _key_fits(key: jwt.PyJWK, alg: str) -> bool:
    """True when `key` is a public key made for `alg`: its JWK's own `alg` (or, without one, the
    algorithm PyJWT derives from `kty`/`crv`) is `alg`, and the key material is of that type."""
    if key.algorithm_name != alg:
        return False
    material = key.key
    if alg == "EdDSA":
        return isinstance(material, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    if alg in _EC_CURVES:
        return (
            isinstance(material, ec.EllipticCurvePublicKey)
            and material.curve.name == _EC_CURVES[alg]
        )
    if alg in {"RS256", "PS256"}:
        return isinstance(material, rsa.RSAPublicKey)
    return False


class Jwks:
    """The signing keys published at one JWKS URL, cached by `kid`.

    An unknown `kid` triggers a refetch, but at most one per `min_refetch_seconds` for all
    callers together (attempts count, failed or not), so a flood of made-up kids costs one
    request per interval. Concurrent refetches share one request. A failed fetch (network,
    timeout, HTTP status, malformed body) is logged and leaves the cached keys in use; a
    successful one replaces the cache, so a key the server no longer publishes stops working.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 3.0,
        min_refetch_seconds: float = 30.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.min_refetch_seconds = min_refetch_seconds
        self._client = client
        self._owns_client = client is None
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()

    @property
    def kids(self) -> frozenset[str]:
        """The key ids cached now."""
        return frozenset(self._keys)

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        """The key published under `kid`, or None; never raises for a fetch failure."""
        key = self._keys.get(kid)
        if key is not None or not self._may_fetch():
            return key
        async with self._lock:
            # Whoever held the lock before us may have fetched already.
            if kid not in self._keys and self._may_fetch():
                self._last_attempt = self._clock()
                await self._refresh()
        return self._keys.get(kid)

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _may_fetch(self) -> bool:
        return (
            self._last_attempt is None
            or self._clock() - self._last_attempt >= self.min_refetch_seconds
        )

    async def _refresh(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        try:
            async with asyncio.timeout(self.timeout):  # the whole exchange, not each read
                body = await self._get(self._client)
            keys = self._parse(body)
        except Exception as exc:  # noqa: BLE001 - any failure means "keep what we have"
            log.warning(
                "JWKS fetch from %s failed (%s: %s); keeping %d cached key(s)",
                self.url,
                type(exc).__name__,
                exc,
                len(self._keys),
            )
            return
        self._keys = keys
        log.info("JWKS fetched from %s: %d key(s)", self.url, len(keys))

    async def _get(self, client: httpx.AsyncClient) -> bytes:
        async with client.stream(
            "GET", self.url, headers={"Accept": "application/json"}
        ) as response:
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"response larger than {MAX_JWKS_BYTES} bytes")
            return bytes(body)

    def _parse(self, body: bytes) -> dict[str, jwt.PyJWK]:
        """The usable keys of a JWKS document; raises ValueError when it is not one."""
        document = json.loads(body)  # JSONDecodeError is a ValueError
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("no 'keys' list")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in entries:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            if not isinstance(kid, str) or not kid:
                log.warning("JWKS %s: skipping a key without a kid", self.url)
                continue
            if entry.get("use", "sig") != "sig":
                continue
            try:
                keys[kid] = jwt.PyJWK(entry)
            except Exception as exc:  # noqa: BLE001 - one malformed key must not hide the others
                log.warning("JWKS %s: skipping key %r: %s", self.url, kid, exc)
        return keys


async def verify_jwt(
    token: str,
    jwks: Jwks,
    *,
    issuer: str,
    audience: str,
    leeway: float = 0,
) -> dict[str, Any]:
    """The claims of a Better Auth JWT whose signature, issuer, audience and expiry hold (`sub`
    is the user id, validated with the other claims by api.identity.tokens.caller_from_claims).

    Raises InvalidTokenError: "Token has expired" for a valid but expired token, "Invalid token"
    for anything else (bad header, algorithm, kid, signature, issuer, audience, claims)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidTokenError() from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ALGORITHMS or not isinstance(kid, str) or not kid:
        raise InvalidTokenError()
    key = await jwks.key_for(kid)
    if key is None or not _key_fits(key, alg):
        raise InvalidTokenError()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("Token has expired") from None
    except jwt.PyJWTError:
        raise InvalidTokenError() from None
    return claims

"""From a bearer credential to the Caller a request acts for: the one place that decides which
kind of credential it is and how it is checked (api.identity.tokens says what each kind is).

A function of the credential, the settings and the caches, not of an HTTP request, so that a
command or a worker can authenticate the same way a route does.
"""

from api.identity.better_auth import ALGORITHMS, Jwks, verify_jwt
from api.identity.tokens import (
    Caller,
    InvalidTokenError,
    VerifiedTokens,
    caller_from_claims,
    jwt_algorithm,
    session_token,
    verify_hs256,
)
from api.settings import Settings

CLOCK_SKEW_SECONDS = 5  # Better Auth runs on another host, with its own clock


async def authenticate(
    credential: str, settings: Settings, *, verified: VerifiedTokens, jwks: Jwks | None
) -> Caller:
    """The caller `credential` stands for; raises InvalidTokenError when it cannot be trusted.

    - an HS256 JWT is checked against BETTER_AUTH_SECRET;
    - an asymmetric JWT against Better Auth's JWKS, when BETTER_AUTH_URL (or its JWKS URL) is
      set (`jwks`), with its issuer and audience;
    - anything else, with BETTER_AUTH_URL set, is taken for a session token, which only the
      database can resolve (Caller.user_id is None).
    A verified JWT's caller is kept in `verified` until the token expires."""
    if (known := verified.get(credential)) is not None:
        return known
    algorithm = jwt_algorithm(credential)
    if algorithm == "HS256":
        caller = caller_from_claims(verify_hs256(credential, settings.secret))
    elif algorithm in ALGORITHMS and jwks is not None:
        claims = await verify_jwt(
            credential,
            jwks,
            issuer=str(settings.jwt_issuer),
            audience=str(settings.jwt_audience),
            leeway=CLOCK_SKEW_SECONDS,
        )
        caller = caller_from_claims(claims)
    elif algorithm is None and settings.better_auth_url is not None:
        return Caller(user_id=None, session_token=session_token(credential, settings.secret))
    else:
        raise InvalidTokenError()
    verified.put(credential, caller)
    return caller

"""The caller as the SQL tests pass it: api.database.requests.request_params for a verified JWT
with this user id (no jti, no session token, no user in the URL)."""

from api.database.requests import request_params
from api.identity.tokens import Caller


def user_context(user_id: str | None) -> dict[str, object]:
    return request_params(Caller(user_id=user_id))

"""GET /metrics, and who may read it.

With METRICS_TOKEN unset, only a loopback client (127.0.0.0/8, ::1) is answered: a Prometheus on
the same host, or a sidecar. The address is the one uvicorn gives the request, which is the
X-Forwarded-For client when the peer is a trusted proxy (FORWARDED_ALLOW_IPS), so a client
coming through a proxy on the same host is not taken for a loopback one. With METRICS_TOKEN set,
any address is answered that sends `Authorization: Bearer <METRICS_TOKEN>`, and no other.
"""

import hmac
import ipaddress

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.deps import bearer_credential, unauthorized
from api.identity.tokens import InvalidTokenError
from api.observability.metrics import exposition

router = APIRouter()


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_scraper(request: Request) -> None:
    """Raises 401 or 403 unless the settings let this request read the metrics."""
    token = request.app.state.settings.metrics_token
    if token is None:
        if not is_loopback(request.client.host if request.client else None):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="Metrics are served to loopback clients only; set METRICS_TOKEN to "
                "scrape from elsewhere",
            )
        return
    try:
        given = bearer_credential(request.scope["headers"])
    except InvalidTokenError:
        raise unauthorized("Send Authorization: Bearer <METRICS_TOKEN>") from None
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise unauthorized("Wrong metrics token")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    require_scraper(request)
    body, content_type = exposition(request.app)
    return Response(body, media_type=content_type)

"""GET /metrics: Prometheus text, summed over every worker; optionally behind a bearer token."""

import hmac

from fastapi import APIRouter, Request, Response
from pydantic import SecretStr

from adapters.metrics import exposition
from application.errors import AuthenticationFailed


def router(token: SecretStr | None) -> APIRouter:
    routes = APIRouter()

    @routes.get("/metrics", include_in_schema=False)
    async def get_metrics(request: Request) -> Response:
        if token is not None:
            sent = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
            if not hmac.compare_digest(sent, token.get_secret_value().encode()):
                raise AuthenticationFailed("the metrics need the bearer token set in SHOP_METRICS_TOKEN")
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    return routes

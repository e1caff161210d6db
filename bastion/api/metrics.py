"""``GET /metrics``: the Prometheus exposition (open by default, as Prometheus scrapes)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.errors import Forbidden, NotFound

router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every Bastion metric; with several workers, their sum (prometheus multiprocess mode).

    ``observability.metrics_require_key`` makes it need a key with the operator role.
    """
    svc = services(request)
    found = svc.metrics
    if found is None:
        raise NotFound("metrics are disabled; set observability.metrics_enabled: true to enable")
    if svc.settings.observability.metrics_require_key:
        principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
        if not principal.has_any("operator"):
            raise Forbidden("GET /metrics needs a key with the operator or admin role")
    found.sample()  # on the event loop: it reads live breakers and bulkheads
    body, content_type = await asyncio.to_thread(found.collect, request.headers.get("accept"))
    return Response(body, headers={"content-type": content_type})

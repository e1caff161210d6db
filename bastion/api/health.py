"""Liveness and readiness: live while the process serves, ready once models are loaded."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.context import services
from bastion.api.render import json_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def live() -> Response:
    return json_response({"status": "live"})


@router.get("/readyz")
async def ready(request: Request) -> Response:
    svc = services(request)
    deployments = {d.name: d.current is not None for d in svc.deployments.all()}
    ok = svc.deployments.ready
    return json_response({"ready": ok, "deployments": deployments}, 200 if ok else 503)

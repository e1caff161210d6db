"""Rollout admin API: shadow reports, canary status / start / abort, A/B reports (operators)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.authn import authenticate_first
from bastion.api.context import services
from bastion.api.known import require_known
from bastion.api.owned import deployment_owner
from bastion.api.params import BodyId
from bastion.api.render import json_response
from bastion.errors import Forbidden
from bastion.routing.rollouts import RolloutService
from bastion.routing.rollouts.operations import run_view
from bastion.security import Principal

router = APIRouter(
    prefix="/v1/admin/deployments",
    tags=["rollouts"],
    dependencies=[Depends(authenticate_first)],  # 401 before any body is read
)


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: BodyId
    reason: str = Field("", max_length=1000)


class AbortBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000)


async def _operator(
    request: Request, name: str, *, change: bool = False
) -> tuple[RolloutService, Principal]:
    """The rollouts and the caller, an operator who may see (``change``: manage) deployment
    ``name``: another tenant's answers 404, a shared one a tenant may not manage 403."""
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    if not principal.has_any("operator"):
        raise Forbidden("this route needs one of the roles: admin, operator")
    await require_known(svc, name, principal)
    await deployment_owner(svc, principal, name, change=change)
    return svc.rollouts, principal


@router.get("/{name}/shadow")
async def shadow_report(name: str, request: Request) -> Response:
    """Shadow candidates of a deployment: agreement with the live version, errors, latency."""
    rollouts, _ = await _operator(request, name)
    return json_response(await rollouts.ops.shadow_report(name))


@router.get("/{name}/canary")
async def canary_status(name: str, request: Request) -> Response:
    """The deployment's current (or last) canary: step, traffic, per-arm figures, history."""
    rollouts, _ = await _operator(request, name)
    return json_response(await rollouts.ops.canary_status(name))


@router.post("/{name}/canary", status_code=201)
async def canary_start(name: str, body: StartBody, request: Request) -> Response:
    """Start a canary of ``version`` (moves the canary alias; the driver takes it from there)."""
    rollouts, principal = await _operator(request, name, change=True)
    run = await rollouts.ops.start_canary(
        name, body.version, actor=principal.name, reason=body.reason
    )
    await rollouts.refresh()
    return json_response(run_view(run), 201)


@router.post("/{name}/canary/abort")
async def canary_abort(name: str, body: AbortBody, request: Request) -> Response:
    """Stop the running canary: its traffic goes to 0 and the canary alias points back."""
    rollouts, principal = await _operator(request, name, change=True)
    run = await rollouts.ops.abort_canary(name, actor=principal.name, reason=body.reason)
    await rollouts.refresh()
    return json_response(run_view(run))


@router.get("/{name}/ab")
async def ab_report(name: str, request: Request) -> Response:
    """Per-arm figures of the deployment's A/B test, significance tests and a verdict."""
    rollouts, _ = await _operator(request, name)
    return json_response(await rollouts.ops.ab_report(name))

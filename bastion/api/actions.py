"""Admin API of the action layer: list, show, retry and drop actions (``/v1/admin/actions``).

Operators (and admins) see their own tenant's actions; admins see every tenant's, or one
with ``?tenant=``. Another tenant's action answers 404.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from bastion.actions import ActionsService
from bastion.actions.async_requests import Render
from bastion.api.context import services
from bastion.api.render import json_response
from bastion.errors import InvalidRequest, NotFound
from bastion.pipeline import Call
from bastion.security import Principal
from bastion.security.access import require_roles

router = APIRouter(prefix="/v1/admin/actions", tags=["actions"])
public = APIRouter(tags=["predict"])

Status = Literal[
    "held",
    "pending",
    "compensating",
    "conflict",
    "done",
    "compensated",
    "dead",
    "dropped",
    "skipped",
]


async def _actions(request: Request) -> tuple[ActionsService, Principal]:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    require_roles(principal, "operator")
    if svc.actions is None:
        raise NotFound("no actions are configured on this server (actions: in the config)")
    return svc.actions, principal


@router.get("")
async def list_actions(
    request: Request,
    status: Status | None = None,
    deployment: str | None = None,
    tenant: str | None = Query(None, description="admins: one tenant (default: all)"),
    limit: int = Query(100, ge=1, le=1000),
) -> Response:
    """Actions newest first, filtered by status and deployment."""
    actions, principal = await _actions(request)
    found = await actions.list(
        principal, status=status, deployment=deployment, tenant=tenant, limit=limit
    )
    return json_response({"data": found})


@router.get("/{action_id}")
async def show_action(request: Request, action_id: str) -> Response:
    """One action: its state, context, and every step with every attempt and outcome."""
    actions, principal = await _actions(request)
    return json_response(await actions.show(action_id, principal))


@router.post("/{action_id}/retry")
async def retry_action(request: Request, action_id: str) -> Response:
    """Put a dead (or conflicted) action back in the queue, from where it stopped."""
    actions, principal = await _actions(request)
    return json_response(await actions.operate(action_id, principal, "retry"))


@router.post("/{action_id}/drop")
async def drop_action(request: Request, action_id: str) -> Response:
    """Give up an action that has not finished (it is never delivered again)."""
    actions, principal = await _actions(request)
    return json_response(await actions.operate(action_id, principal, "drop"))


async def submit_async(request: Request, call: Call, render: Render) -> Response:
    """``?async=true``: record the request, answer 202 with its id, run it in the background."""
    svc = services(request)
    params = request.query_params
    if params.get("async") not in ("true", "1"):
        raise InvalidRequest("async: use async=true (or leave it out)", details={"field": "async"})
    jobs = svc.async_requests
    call.principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    await jobs.submit(call, svc.pipeline, render, params.get("callback"))
    location = f"/v1/predictions/{call.request_id}"
    body = {"id": call.request_id, "status": "running", "result_url": location}
    return json_response(body, status=202, headers={"location": location})


@public.get("/v1/predictions/{request_id}")
async def async_result(request: Request, request_id: str) -> Response:
    """The status of an ``?async=true`` request, then its result (the predict answer)."""
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    return json_response(await svc.async_requests.get(request_id, principal))

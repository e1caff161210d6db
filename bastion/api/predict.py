"""Bastion's own API: ``POST /v1/deployments/{name}/predict`` and the deployment listing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.accounting import call_headers
from bastion.api.actions import submit_async
from bastion.api.authn import authenticated
from bastion.api.body import read_json, require_object
from bastion.api.context import new_call, services, version_headers
from bastion.api.render import json_response
from bastion.errors import InvalidRequest
from bastion.pipeline import Call, Result
from bastion.security import require_usable

router = APIRouter(tags=["predict"])

_PREDICT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "exactly one of `input` (one item) or `inputs` (a list)",
                "properties": {
                    "input": {"description": "one input, as the deployment's input_schema"},
                    "inputs": {"type": "array", "description": "several inputs"},
                },
            },
            "example": {"input": "I want my money back for order 1234"},
        }
    },
}


def _inputs(body: dict[str, Any]) -> tuple[list[Any], bool]:
    has_one, has_many = "input" in body, "inputs" in body
    if has_one == has_many:
        raise InvalidRequest(
            "send exactly one of 'input' (one item) or 'inputs' (a list of items)",
            details={"field": "input"},
        )
    if len(body) > 1:  # one of the two is there: anything more is unknown
        unknown = sorted(set(body) - {"input", "inputs"})
        raise InvalidRequest(f"unknown fields: {', '.join(unknown)}", details={"field": unknown[0]})
    if has_one:
        return [body["input"]], False
    items = body["inputs"]
    if not isinstance(items, list):
        raise InvalidRequest("inputs: must be a list", details={"field": "inputs"})
    return items, True


@router.post("/v1/deployments/{name}/predict", openapi_extra={"requestBody": _PREDICT_BODY})
async def predict(name: str, request: Request) -> Response:
    """Run one input (``input``) or a batch (``inputs``) through the deployment's pipeline."""
    svc = services(request)
    await authenticated(request)  # before the body is read: no work for unknown callers
    body = require_object(await read_json(request, svc.settings.limits))
    inputs, batched = _inputs(body)
    call = new_call(request, name, "predict", inputs, batched=batched)
    if b"async=" in request.scope["query_string"]:  # ?async=true: 202 now, the result later
        return await submit_async(request, call, render_predict)
    result = await svc.pipeline(call)
    out = render_predict(call, result)
    headers = {**version_headers(result.model, result.version), **result.headers}
    headers.update(call_headers(call))  # x-ratelimit-*, x-bastion-cost-usd
    return json_response(out, headers=headers)


def render_predict(call: Call, result: Result) -> dict[str, Any]:
    """The JSON body of a predict answer (also kept for an ``?async=true`` request)."""
    batched = call.batched
    out: dict[str, Any] = {
        "id": call.request_id,
        "deployment": result.deployment,
        "model": result.model,
        "version": result.version,
    }
    if batched:
        out["outputs"] = [
            {"output": p.output, "confidence": p.confidence} for p in result.predictions
        ]
    else:
        p = result.predictions[0]
        out["output"], out["confidence"] = p.output, p.confidence
    if call.review is not None:  # review ids and statuses (see bastion/review/stage.py)
        out["review"] = call.review.to_dict()
    return out


@router.get("/v1/deployments")
async def list_deployments(request: Request) -> Response:
    """Every served deployment the caller may use, with its alias, live version and contract."""
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    usable = [
        d.status()
        for d in svc.deployments.all()
        if principal.can_use(d.name)
        and svc.ownership.visible(principal, svc.deployments.owner(d.name))
    ]
    return json_response({"data": usable})


@router.get("/v1/deployments/{name}")
async def get_deployment(name: str, request: Request) -> Response:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    require_usable(principal, name, svc.deployments.owner(name))
    return json_response(svc.deployments.get(name).status())

"""Open Inference Protocol v2 (KServe / Triton / MLServer REST dataplane) adapter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.accounting import call_headers
from bastion.api.authn import authenticated
from bastion.api.body import read_inference, require_object
from bastion.api.context import new_call, services, version_headers
from bastion.api.oip_outputs import render, requested, select
from bastion.api.oip_tensors import decode_inputs, encode_outputs, tensor_metadata
from bastion.api.openapi_bodies import OIP_INFER
from bastion.api.render import json_response
from bastion.errors import BastionError, InvalidRequest, NotFound
from bastion.security import require_usable

router = APIRouter(prefix="/v2", tags=["open-inference-protocol"])


@router.get("")
async def server_metadata() -> Response:
    return json_response(
        {"name": "bastion", "version": "0.1.0", "extensions": ["binary_tensor_data"]}
    )


@router.get("/health/live")
async def live() -> Response:
    return json_response({"live": True})


@router.get("/health/ready")
async def ready(request: Request) -> Response:
    ok = services(request).deployments.ready
    return json_response({"ready": ok}, 200 if ok else 503)


def _version(version: str | None) -> int | None:
    if version is None:
        return None
    if not (version.isascii() and version.isdigit()) or not 0 < int(version) < 2**63:
        raise InvalidRequest(
            f"model version must be a positive integer, got {version!r:.40}",
            details={"field": "version"},
        )
    return int(version)


async def _metadata(request: Request, name: str, version: str | None) -> Response:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    require_usable(principal, name, svc.deployments.owner(name))
    dep = svc.deployments.get(name)
    pinned = _version(version)
    loaded = await svc.deployments.pinned(name, pinned) if pinned else dep.live()
    versions = [str(v.version) for v in await svc.registry.list_versions(dep.settings.model_name)]
    inputs, outputs = tensor_metadata(loaded.signature)
    return json_response(
        {
            "name": name,
            "versions": versions,
            "platform": loaded.flavor,
            "inputs": inputs,
            "outputs": outputs,
        }
    )


async def _ready(request: Request, name: str, version: str | None) -> Response:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    require_usable(principal, name, svc.deployments.owner(name))
    dep = svc.deployments.get(name)
    pinned = _version(version)
    if pinned is None:
        ok = dep.current is not None
    else:
        try:
            ok = (await svc.deployments.pinned(name, pinned)) is not None
        except NotFound:
            raise
        except BastionError:
            ok = False
    return json_response({"name": name, "ready": ok}, 200 if ok else 503)


async def _infer(request: Request, name: str, version: str | None) -> Response:
    svc = services(request)
    await authenticated(request)  # before the body is read: no work for unknown callers
    raw, binary = await read_inference(request, svc.settings.limits)
    body = require_object(raw)
    inputs = decode_inputs(body, binary)
    wanted, binary_default = requested(body)  # refused before the model runs
    call = new_call(request, name, "oip", inputs, batched=True, version=_version(version))
    result = await svc.pipeline(call)
    chosen = select(encode_outputs(result.predictions), wanted, binary_default)
    out: dict[str, Any] = {
        "model_name": name,
        "model_version": str(result.version),
        "id": str(body.get("id") or call.request_id),
    }
    if call.review is not None:  # OIP's free-form parameters carry the review ids
        out["parameters"] = {"review": call.review.to_dict()}
    headers = version_headers(result.model, result.version)
    headers.update(call_headers(call))  # x-ratelimit-*, x-bastion-cost-usd
    return render(out, chosen, headers)


@router.get("/models/{name}")
async def model_metadata(name: str, request: Request) -> Response:
    return await _metadata(request, name, None)


@router.get("/models/{name}/versions/{version}")
async def model_version_metadata(name: str, version: str, request: Request) -> Response:
    return await _metadata(request, name, version)


@router.get("/models/{name}/ready")
async def model_ready(name: str, request: Request) -> Response:
    return await _ready(request, name, None)


@router.get("/models/{name}/versions/{version}/ready")
async def model_version_ready(name: str, version: str, request: Request) -> Response:
    return await _ready(request, name, version)


@router.post("/models/{name}/infer", openapi_extra=OIP_INFER)
async def infer(name: str, request: Request) -> Response:
    return await _infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", openapi_extra=OIP_INFER)
async def infer_version(name: str, version: str, request: Request) -> Response:
    return await _infer(request, name, version)

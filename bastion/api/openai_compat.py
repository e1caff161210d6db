"""OpenAI-compatible routes served by in-process models: ``/v1/embeddings``, ``/v1/models``."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.body import read_json, require_object
from bastion.api.context import new_call, services, version_headers
from bastion.api.render import json_response
from bastion.errors import InvalidRequest

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def _texts(body: dict[str, Any]) -> list[str]:
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise InvalidRequest("input: a string or a non-empty list of strings is required",
                             details={"field": "input"})
    if not all(isinstance(t, str) for t in texts):
        raise InvalidRequest(
            "input: token-id arrays are not supported by in-process embedding models; send text",
            details={"field": "input"},
        )
    return texts


def _encode(vector: list[float], fmt: str) -> Any:
    if fmt == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return vector


@router.post("/embeddings")
async def embeddings(request: Request) -> Response:
    svc = services(request)
    body = require_object(await read_json(request, svc.settings.limits))
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model: the deployment name is required", details={"field": "model"})
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise InvalidRequest("encoding_format: 'float' or 'base64'",
                             details={"field": "encoding_format"})
    texts = _texts(body)
    call = new_call(request, model, "openai.embeddings", list(texts), batched=True)
    result = await svc.pipeline(call)
    data = []
    for i, p in enumerate(result.predictions):
        vector = p.output["embedding"] if isinstance(p.output, dict) else p.output
        data.append({"object": "embedding", "index": i, "embedding": _encode(vector, fmt)})
    tokens = sum(len(t.split()) for t in texts)
    out = {"object": "list", "data": data, "model": model,
           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    return json_response(out, headers=version_headers(result.model, result.version))


@router.get("/models")
async def models(request: Request) -> Response:
    svc = services(request)
    await svc.authenticator.authenticate(request.headers.get("authorization"))
    data = [{"id": d.name, "object": "model", "created": 0, "owned_by": "bastion"}
            for d in svc.deployments.all()]
    return json_response({"object": "list", "data": data})

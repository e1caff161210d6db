"""OpenAI-compatible routes: chat and text completions (LLM groups), embeddings, models."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bastion.api import openapi_bodies as bodies
from bastion.api.accounting import call_headers, llm_request
from bastion.api.authn import authenticated
from bastion.api.body import read_json, require_object
from bastion.api.context import header, new_call, services, version_headers
from bastion.api.openai_wire import DONE, error_event
from bastion.api.prompt_calls import (
    ROUTE_FIELDS,
    chat_with_prompt,
    prompt_headers,
    prompt_ref,
    prompt_use,
    render_prompt,
    with_prompt,
)
from bastion.api.render import json_response
from bastion.core.deadline import Deadline
from bastion.errors import InvalidRequest, NotFound
from bastion.pipeline import Call, Result
from bastion.pipeline.call import LlmKind
from bastion.pipeline.ending import StreamEnd, end_call, end_stream
from bastion.prompts.rendering import Rendered
from bastion.services import Services

router = APIRouter(prefix="/v1", tags=["openai-compatible"])

DEADLINE_HEADER = "x-bastion-timeout"
_DEADLINE = DEADLINE_HEADER.encode()


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest(
            "model: the model (group or deployment) name is required", details={"field": "model"}
        )
    return model


def _check(svc: Services, kind: LlmKind, body: dict[str, Any]) -> None:
    svc.openai_check.check(kind, body)


def _deadline(request: Request) -> Deadline | None:
    raw = header(request, _DEADLINE)
    return Deadline.from_header(raw) if raw else None


async def _run_llm(request: Request, kind: LlmKind) -> Response:
    svc = services(request)
    principal = await authenticated(request)  # before the body: no work for unknown callers
    body = require_object(await read_json(request, svc.settings.limits))
    if kind == "chat" and "prompt" in body:  # OpenAI chat naming a registered prompt
        rendered = await chat_with_prompt(svc, principal, body)
        chat = rendered.body(stream=body.get("stream") is True)
        return await serve_llm(request, chat, kind, rendered)
    return await serve_llm(request, body, kind)


async def serve_llm(
    request: Request,
    body: dict[str, Any],
    kind: LlmKind,
    rendered: Rendered | None = None,
    api: str | None = None,
) -> Response:
    """One call to an LLM group through the pipeline, answered in OpenAI's shape; with
    ``rendered``, the prompt version (and its citations) it came from."""
    svc = services(request)
    _check(svc, kind, body)  # before anything is reserved or charged
    name = _model(body)
    stream = body.get("stream") is True
    if name not in svc.gateway:
        raise NotFound(f"no LLM model group named '{name}'; see GET /v1/models")
    if stream and kind != "chat":
        raise InvalidRequest(
            "stream: streaming is served on /v1/chat/completions", details={"field": "stream"}
        )
    call = new_call(request, name, api or f"openai.{kind}", [body], batched=False)
    call.stream, call.deadline = stream, _deadline(request)
    call.llm = llm_request(body, kind, svc.settings.governance)
    call.prompt = prompt_use(rendered) if rendered is not None else None
    try:
        result = await svc.pipeline(call)
    except BaseException as exc:
        await end_call(call, None, exc)
        raise
    headers = {**version_headers(result.model, result.version), **result.headers}
    headers.update(call_headers(call))  # x-ratelimit-*, x-bastion-cost-usd
    if rendered is not None:
        headers.update(prompt_headers(rendered))
    if result.stream is not None:
        return StreamingResponse(
            _sse(call, result), headers=headers, media_type="text/event-stream"
        )
    await end_call(call, result, None)
    output = result.predictions[0].output
    if rendered is not None:
        output = with_prompt(output, rendered)
    return json_response(output, headers=headers)


async def _sse(call: Call, result: Result) -> AsyncIterator[bytes]:
    """The stream's chunks, then — once the call's finishers have run — its end: ``[DONE]``
    when it is complete, else an explicit error event and no ``[DONE]``, so that a client
    never takes a truncated answer for a finished one."""
    end = StreamEnd()
    async for chunk in end_stream(call, result, end):
        yield chunk
    yield DONE if end.error is None else error_event(end.error, call.request_id)


@router.post("/chat/completions", openapi_extra=bodies.CHAT)
async def chat_completions(request: Request) -> Response:
    """OpenAI chat completions, streamed (SSE) or not, through the group's fallback chain."""
    return await _run_llm(request, "chat")


@router.post("/prompts/{name}/completions")
async def prompt_completions(name: str, request: Request) -> Response:
    """``POST /v1/prompts/{name}/completions``: the prompt's version (``alias``, default
    ``production``, or ``version``) rendered with ``variables``, streamed or not."""
    svc = services(request)
    principal = await authenticated(request)
    body = require_object(await read_json(request, svc.settings.limits))
    extra = sorted(set(body) - ROUTE_FIELDS)
    if extra:
        raise InvalidRequest(
            f"{extra[0]}: not a field of a prompt call (variables, alias, version, stream, "
            "stream_options)",
            details={"field": extra[0]},
        )
    ref = prompt_ref(body.get("alias"), body.get("version"), "")
    rendered = await render_prompt(svc, principal, name, ref, body.get("variables", {}))
    chat = rendered.body(stream=body.get("stream") is True)
    if "stream" in body and not isinstance(body["stream"], bool):
        chat["stream"] = body["stream"]  # serve_llm names the field
    if "stream_options" in body:
        chat["stream_options"] = body["stream_options"]
    return await serve_llm(request, chat, "chat", rendered, api="openai.prompt")


@router.post("/completions", openapi_extra=bodies.COMPLETIONS)
async def completions(request: Request) -> Response:
    """OpenAI (legacy) text completions."""
    return await _run_llm(request, "completions")


def _texts(body: dict[str, Any]) -> list[str]:
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts:
        raise InvalidRequest(
            "input: a string or a non-empty list of strings is required", details={"field": "input"}
        )
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


@router.post("/embeddings", openapi_extra=bodies.EMBEDDINGS)
async def embeddings(request: Request) -> Response:
    """Embeddings from an upstream group, or from an in-process embedding model."""
    svc = services(request)
    await authenticated(request)  # before the body is read: no work for unknown callers
    if (await _peek_model(request)) in svc.gateway:
        return await _run_llm(request, "embeddings")
    body = require_object(await read_json(request, svc.settings.limits))
    _check(svc, "embeddings", body)
    model = _model(body)
    fmt = body.get("encoding_format") or "float"
    texts = _texts(body)
    call = new_call(request, model, "openai.embeddings", list(texts), batched=True)
    result = await svc.pipeline(call)
    data = []
    for i, p in enumerate(result.predictions):
        vector = p.output["embedding"] if isinstance(p.output, dict) else p.output
        data.append({"object": "embedding", "index": i, "embedding": _encode(vector, fmt)})
    tokens = sum(len(t.split()) for t in texts)
    out = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    headers = {**version_headers(result.model, result.version), **result.headers}
    headers.update(call_headers(call))  # x-ratelimit-*, x-bastion-cost-usd
    return json_response(out, headers=headers)


async def _peek_model(request: Request) -> Any:
    svc = services(request)
    body = await read_json(request, svc.settings.limits)  # Starlette caches the raw body
    return body.get("model") if isinstance(body, dict) else None


@router.get("/models")
async def models(request: Request) -> Response:
    svc = services(request)
    principal = await svc.authenticator.authenticate(request.headers.get("authorization"))
    names = [*svc.gateway.names, *(d.name for d in svc.deployments.all())]
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": "bastion"}
        for name in names
        if principal.can_use(name) and svc.ownership.visible(principal, svc.deployments.owner(name))
    ]
    return json_response({"object": "list", "data": data})

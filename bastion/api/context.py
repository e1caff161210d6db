"""Per-request access to the app's Services and the Call an adapter builds."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request

from bastion.pipeline import Call
from bastion.services import Services

RESPONSE_HEADERS = "response_headers"


def header(request: Request, name: bytes) -> str | None:
    """The request's first ``name`` header (lower-case bytes, as ASGI sends names), as
    ``request.headers.get`` gives it, without building the headers' mapping or raising
    and catching a ``KeyError`` when the header is absent."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def services(request: Request) -> Services:
    svc: Services = request.scope["state"]["services"]
    return svc


def new_call(
    request: Request,
    deployment: str,
    api: str,
    inputs: list[Any],
    *,
    batched: bool,
    version: int | None = None,
) -> Call:
    call = Call(
        request_id=request.scope["state"]["request_id"],
        deployment=deployment,
        api=api,
        inputs=inputs,
        batched=batched,
        started_at=time.perf_counter(),
        requested_version=version,
        headers=request.headers,
    )
    # Stages add response headers (x-ratelimit-*, cost) here; render.py also sends them
    # with an error response (e.g. a 429), so the one dict is shared with the request state.
    request.scope["state"][RESPONSE_HEADERS] = call.response_headers
    return call


def version_headers(model: str, version: int) -> dict[str, str]:
    return {"x-bastion-model": model, "x-bastion-model-version": str(version)}

"""HotEdge answers exactly as the three layers it fuses, composed as ``hot_stack`` did:
``ServerErrorMiddleware(RequestEdge(ExceptionMiddleware(endpoint)))``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from bastion.api.edge import RequestEdge
from bastion.api.hot_edge import HotEdge
from bastion.api.hot_stack import HotPathFirst, _matched, hot_stack
from bastion.api.render import handle_bastion_error, handle_unexpected
from bastion.errors import BastionError, NotFound
from tests.api.test_edge import LIMITS, services


class Boom(Exception):
    pass


async def endpoint(request: Request) -> Response:
    what = request.path_params.get("what", "plain")
    body = await request.body()  # counted: over max_bytes raises PayloadTooLarge
    if what == "missing":
        raise NotFound("no model named 'x'; see GET /v1/models")
    if what == "teapot":
        raise HTTPException(418, "short and stout")
    if what == "bug":
        raise Boom("a bug")
    if what == "late":

        async def chunks() -> Any:
            yield b"first"
            raise NotFound("gone mid-stream")

        return StreamingResponse(chunks())
    return JSONResponse({"body": body.decode()}, headers={"x-model": "m"})


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


ROUTES = [
    Route("/v1/chat/completions", endpoint, methods=["POST"]),
    Route("/v1/deployments/{what}/predict", endpoint, methods=["POST"]),
]
HANDLERS: dict[Any, Any] = {BastionError: handle_bastion_error, HTTPException: http_error}


def app() -> FastAPI:
    made = FastAPI()
    for key, handler in (*HANDLERS.items(), (Exception, handle_unexpected)):
        made.add_exception_handler(key, handler)
    made.add_middleware(RequestEdge, **LIMITS)
    return made


def composed() -> ASGIApp:
    inner = ExceptionMiddleware(_matched, handlers=HANDLERS)
    return ServerErrorMiddleware(RequestEdge(inner, **LIMITS), handler=handle_unexpected)


async def run(stack: ASGIApp, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    svc = services()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"x-request-id", b"req-1"), *headers],
        "client": ("127.0.0.1", 1),
        "state": {"services": svc},
    }
    assert HotPathFirst(stack, stack, ROUTES).matched(scope)
    chunks = [body[:6], body[6:]]
    sent: list[Message] = []

    async def receive() -> Message:
        if not chunks:
            return {"type": "http.disconnect"}
        part = chunks.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    raised = ""
    try:
        await stack(scope, receive, send)
    except Exception as exc:
        raised = f"{type(exc).__name__}: {exc}"
    return sent, svc.refusals.refusals, scope["state"], raised


GOOD = [(b"authorization", b"Bearer good")]
CASES = [
    ("/v1/chat/completions", GOOD, b"{}"),
    ("/v1/chat/completions", [], b"{}"),  # 401 before the body
    ("/v1/chat/completions", GOOD, b"x" * 20),  # over the limit while read: 413
    ("/v1/chat/completions", [*GOOD, (b"content-length", b"20")], b"x" * 20),  # declared 413
    ("/v1/deployments/missing/predict", GOOD, b"{}"),  # a BastionError: its handler
    ("/v1/deployments/teapot/predict", GOOD, b"{}"),  # an HTTP exception: its handler
    ("/v1/deployments/bug/predict", GOOD, b"{}"),  # unexpected: 500, raised again
    ("/v1/deployments/late/predict", GOOD, b"{}"),  # handled, but the response started
]


@pytest.mark.parametrize(("path", "headers", "body"), CASES)
async def test_the_hot_edge_answers_as_the_layers_it_fuses(
    path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    fused = hot_stack(app(), composed(), ROUTES)
    assert isinstance(fused.hot, HotEdge)
    expected = await run(composed(), path, headers, body)
    got = await run(fused.hot, path, headers, body)
    assert got[0] == expected[0]  # every message, headers in the same order
    assert got[1] == expected[1]  # the refusals recorded
    assert {k: v for k, v in got[2].items() if k != "services"} == {
        k: v for k, v in expected[2].items() if k != "services"
    }
    assert got[3] == expected[3]  # what reaches the server: the same exception, or none


def test_other_middleware_or_debug_keep_the_composed_layers() -> None:
    debug = app()
    debug.debug = True
    assert isinstance(hot_stack(debug, composed(), ROUTES).hot, ServerErrorMiddleware)
    extra = app()
    extra.add_middleware(RequestEdge, **LIMITS)  # a second middleware (as CORS would be)
    assert isinstance(hot_stack(extra, composed(), ROUTES).hot, ServerErrorMiddleware)


def test_exact_paths_are_looked_up_and_patterns_keep_their_order() -> None:
    first = Route("/v1/{kind}/completions", endpoint, methods=["POST"])
    exact = Route("/v1/chat/completions", endpoint, methods=["POST"])
    other = Route("/v1/embeddings", endpoint, methods=["POST"])
    dispatch = HotPathFirst(composed(), composed(), [first, exact, other])
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/v1/chat/completions"}
    assert dispatch.matched(scope) and scope["path_params"] == {"kind": "chat"}  # the first
    scope = {"type": "http", "method": "POST", "path": "/v1/embeddings"}
    assert dispatch.matched(scope) and scope["path_params"] == {}
    assert not dispatch.matched({"type": "http", "method": "POST", "path": "/v1/models"})

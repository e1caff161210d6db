"""The one place where results and BastionErrors become HTTP responses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response

from bastion.errors import BastionError

log = structlog.get_logger(__name__)

JSON = "application/json"
ERROR_TYPE_HEADER = "x-bastion-error-type"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JsonAnswer(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status, headers)


_SET_BY_RESPONSE = frozenset({b"content-length", b"content-type"})
_CONTENT_TYPE = (b"content-type", JSON.encode())


class JsonAnswer(Response):
    """``Response(body, status, headers, media_type=JSON)`` for JSON bytes, with the same
    headers in the same order (the given ones lower-cased, then Content-Length, then
    Content-Type), built in one pass instead of Starlette's render and header passes."""

    media_type = JSON

    def __init__(
        self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        raw: list[tuple[bytes, bytes]] = []
        if headers:
            for key, value in headers.items():
                name = key.lower().encode("latin-1")
                if name in _SET_BY_RESPONSE:  # the caller's own: Starlette's rules apply
                    self.init_headers(headers)
                    return
                raw.append((name, value.encode("latin-1")))
        if status >= 200 and status not in (204, 304):
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append(_CONTENT_TYPE)
        self.raw_headers = raw


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_body(exc: BastionError, request_id: str) -> dict[str, Any]:
    """Bastion's error shape, which also satisfies OpenAI's (message/type/param/code)."""
    error: dict[str, Any] = {
        "type": exc.type,
        "message": exc.message,
        "request_id": request_id,
        "code": exc.type,
        "param": exc.details.get("field"),
    }
    extra = {k: v for k, v in exc.details.items() if k != "field"}
    if extra:
        error["details"] = extra
    return {"error": error}


_OPENAI_PATHS = (
    "/v1/chat/",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/models",
    "/v1/files",
    "/v1/batches",
    "/v1/prompts/",
)


Wire = Literal["bastion", "openai", "oip"]


def wire_of(path: str) -> Wire:
    """Which protocol's error shape a path answers in."""
    if path.startswith(_OPENAI_PATHS):
        return "openai"
    if path == "/v2" or path.startswith("/v2/"):
        return "oip"
    return "bastion"


def error_response(
    exc: BastionError, request_id: str, *, openai: bool = False, wire: Wire | None = None
) -> Response:
    """The JSON error response. On OpenAI routes a contract error is a 400 (as OpenAI answers,
    so SDKs raise BadRequestError), and a 5xx carries ``x-should-retry: false``: Bastion has
    already retried and fallen back, and a client retrying on top would multiply an outage.
    On the Open Inference Protocol's routes (``/v2``) the body is the protocol's own,
    ``{"error": "<message>"}``, a contract error is a 400 as there too, and the stable type
    travels in the ``x-bastion-error-type`` header."""
    wire = wire or ("openai" if openai else "bastion")
    headers: dict[str, str] = {}
    status = exc.status_on(wire)
    if exc.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(exc.retry_after)))
    if wire == "openai" and status >= 500 and status != 503:
        headers["x-should-retry"] = "false"
    if status >= 500:
        log.warning(
            "request_failed", error_type=exc.type, message=exc.message, request_id=request_id
        )
    if wire == "oip":
        headers[ERROR_TYPE_HEADER] = exc.type
        return json_response({"error": exc.message}, status, headers)
    return json_response(error_body(exc, request_id), status, headers)


async def handle_bastion_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BastionError)
    if exc.status in (401, 403) or request.method not in ("GET", "HEAD"):
        request.scope.setdefault("state", {})["refusal_message"] = exc.message  # for the audit
    response = error_response(exc, request_id_of(request), wire=wire_of(request.url.path))
    # Headers the pipeline set before failing (x-ratelimit-* on a 429; see api/context.py).
    for name, value in (request.scope.get("state", {}).get("response_headers") or {}).items():
        response.headers.setdefault(name, value)
    return response


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """The ASGI boundary: a bug. Logged with its traceback, answered without internals."""
    request_id = request_id_of(request)
    log.exception("unhandled_error", request_id=request_id, path=request.url.path)
    err = BastionError(f"internal error; quote request id {request_id} when reporting it")
    return error_response(err, request_id, wire=wire_of(request.url.path))

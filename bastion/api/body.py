"""Reading a JSON request body strictly: content type, UTF-8, no NaN, structural limits."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from bastion.api.context import header
from bastion.api.oip_binary import HEADER_LENGTH, decompress, split
from bastion.contracts import check_limits
from bastion.errors import MalformedBody, UnsupportedMediaType
from bastion.settings import LimitsSettings


def _media(request: Request) -> tuple[str, str]:
    ctype = header(request, b"content-type") or ""
    return ctype, ctype.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _parse(raw: bytes, limits: LimitsSettings) -> Any:
    if not raw:
        raise MalformedBody("request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"request body is not valid JSON (UTF-8, no NaN or Infinity): {exc}"
        ) from exc
    if not within_limits_by_size(raw, limits):
        check_limits(body, limits)
    return body


def within_limits_by_size(raw: bytes, limits: LimitsSettings) -> bool:
    """Whether ``raw`` is too small to break any structural limit, so that the walk over
    the parsed value (``check_limits``) cannot fail and is skipped.

    A JSON text of n bytes holds no string of more than n characters and no list of more
    than n items (each character and each item takes at least one byte), and no value
    nested deeper than its count of ``[`` and ``{`` (brackets inside strings only make the
    count larger). Most request bodies are a few hundred bytes: two ``bytes.count`` calls
    instead of a walk that names the path of every value."""
    if len(raw) > limits.max_string_length or len(raw) > limits.max_list_length:
        return False
    return raw.count(b"[") + raw.count(b"{") <= limits.max_depth


async def read_json(request: Request, limits: LimitsSettings) -> Any:
    ctype, media = _media(request)
    if not _is_json(media):
        raise UnsupportedMediaType(
            f"expected Content-Type: application/json, got {ctype or 'none'!r}"
        )
    return _parse(await request.body(), limits)


async def read_inference(request: Request, limits: LimitsSettings) -> tuple[Any, bytes]:
    """An Open Inference Protocol request: its JSON header and its binary tensor data.

    As the protocol's clients send it: JSON with or without a Content-Type (``tritonclient``
    sends none), ``application/octet-stream`` too when ``Inference-Header-Content-Length``
    marks the binary data extension, and a ``Content-Encoding`` of gzip or deflate."""
    ctype, media = _media(request)
    if media and not _is_json(media) and media != "application/octet-stream":
        raise UnsupportedMediaType(
            f"expected a JSON body (Content-Type application/json, or none), got {ctype!r}"
        )
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "identity")
    if encoding.lower() != "identity":
        raw = decompress(raw, encoding, limits.max_body_bytes)
    head, binary = split(raw, request.headers.get(HEADER_LENGTH))
    return _parse(head, limits), binary


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedBody(f"request body must be a JSON object, got {type(body).__name__}")
    return body

"""Reading a JSON request body strictly: content type, UTF-8, no NaN, structural limits."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from bastion.contracts import check_limits
from bastion.errors import MalformedBody, UnsupportedMediaType
from bastion.settings import LimitsSettings


async def read_json(request: Request, limits: LimitsSettings) -> Any:
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"expected Content-Type: application/json, got {ctype or 'none'!r}"
        )
    raw = await request.body()
    if not raw:
        raise MalformedBody("request body is empty; send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"request body is not valid JSON (UTF-8, no NaN or Infinity): {exc}"
        ) from exc
    check_limits(body, limits)
    return body


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedBody(f"request body must be a JSON object, got {type(body).__name__}")
    return body

"""Server-sent events to the client: a stream that never passes a truncated answer off as done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import structlog

from bastion.errors import BastionError
from bastion.gateway.group import OpenStream
from bastion.gateway.usage import StreamTally

log = structlog.get_logger(__name__)

DONE = b"data: [DONE]\n\n"


def sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def error_event(exc: BastionError, request_id: str) -> bytes:
    """The explicit end of a broken stream: an ``error`` event and no ``[DONE]``."""
    return sse(
        {
            "error": {
                "type": exc.type,
                "message": exc.message,
                "code": exc.type,
                "param": None,
                "request_id": request_id,
            }
        }
    )


async def relay(
    opened: OpenStream,
    *,
    public_model: str,
    include_usage: bool,
    request_id: str,
    tally: StreamTally,
    on_end: Callable[[BaseException | None], Awaitable[None]],
) -> AsyncIterator[bytes]:
    """Forward chunks as they arrive, renamed to the public model.

    Bastion always asks upstreams for usage; the usage chunk is passed on only if the client
    asked for it. A failure after the first forwarded chunk cannot be retried without
    duplicating text, so it ends the stream with an explicit error event — never ``[DONE]``.
    """
    error: BaseException | None = None
    try:
        async for chunk in _chunks(opened):
            tally.add(chunk)
            if _is_usage_only(chunk) and not include_usage:
                continue
            chunk["model"] = public_model
            yield sse(chunk)
        if include_usage and not tally.usage_seen:
            yield sse(tally.usage_chunk(public_model))
        yield DONE
    except BastionError as exc:
        error = exc
        log.warning(
            "stream_broken",
            request_id=request_id,
            upstream=opened.member.name,
            error=exc.type,
            message=exc.message,
        )
        yield error_event(exc, request_id)
    except BaseException as exc:  # client went away (GeneratorExit) or cancellation
        error = exc
        raise
    finally:
        await opened.close(error)
        await on_end(error)


async def _chunks(opened: OpenStream) -> AsyncIterator[dict[str, Any]]:
    yield opened.first
    async for chunk in opened.rest:
        yield chunk


def _is_usage_only(chunk: dict[str, Any]) -> bool:
    return bool(chunk.get("usage")) and not chunk.get("choices")

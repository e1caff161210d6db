"""Relaying an upstream's stream to the client, chunk by chunk, renamed to the public model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog

from bastion.backends.sse import encode_event
from bastion.errors import BastionError
from bastion.gateway.group import OpenStream
from bastion.gateway.usage import StreamTally

log = structlog.get_logger(__name__)


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
    duplicating text: it is logged and raised, and the adapter ends the stream with an
    explicit error event — never ``[DONE]`` (``bastion.pipeline.ending``).
    """
    error: BaseException | None = None
    try:
        async for chunk in _chunks(opened):
            tally.add(chunk)
            if _is_usage_only(chunk) and not include_usage:
                continue
            chunk["model"] = public_model
            yield encode_event(chunk)
        if include_usage and not tally.usage_seen:
            yield encode_event(tally.usage_chunk(public_model))
    except BastionError as exc:
        error = exc
        log.warning(
            "stream_broken",
            request_id=request_id,
            upstream=opened.member.name,
            error=exc.type,
            message=exc.message,
        )
        raise
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

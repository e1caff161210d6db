"""Relaying a stream to the client, chunk by chunk, and continuing it when it breaks.

Bastion always asks upstreams for usage; the usage is held back and sent once at the end
(summed over every upstream that contributed), and only if the client asked for it. A failure
after the first forwarded chunk is not retried from scratch — that would duplicate text — but
continued: ``resume`` finds another upstream (``bastion.gateway.route``) and its chunks are
spliced on (``bastion.gateway.splice``), announced by an SSE comment. When nothing can
continue it, the failure is raised and the adapter ends the stream with an explicit error
event — never ``[DONE]`` (``bastion.pipeline.ending``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from bastion.backends.sse import encode_event
from bastion.errors import BastionError
from bastion.gateway.completions import ChatAssembly
from bastion.gateway.group import ModelGroup, OpenStream
from bastion.gateway.splice import ContinuationMismatch, Splice
from bastion.gateway.usage import StreamTally

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Segment:
    """The part of the answer one upstream sent."""

    group: ModelGroup
    opened: OpenStream
    tally: StreamTally
    splice: Splice
    closed: bool = False

    async def close(self, error: BaseException | None, *, blame: bool = True) -> None:
        if not self.closed:
            self.closed = True
            await self.opened.close(error, blame=blame)


@dataclass(slots=True)
class Relayed:
    """What the client received: every segment, the assembled answer, the switches."""

    segments: list[Segment]
    answer: ChatAssembly = field(default_factory=ChatAssembly)
    switches: list[str] = field(default_factory=list)
    continuable: bool = True  # false once a tool call or a second choice went out


Resume = Callable[[Segment, str, int], Awaitable[Segment | None]]


async def relay(
    first: Segment,
    *,
    include_usage: bool,
    request_id: str,
    resume: Resume,
    on_end: Callable[[Relayed, BaseException | None], Awaitable[None]],
) -> AsyncIterator[bytes]:
    """Forward the chunks of ``first`` and of whatever continues it, then the usage."""
    seen = Relayed([first])
    seg, error = first, None
    try:
        while True:
            try:
                async for chunk in _chunks(seg.opened):
                    for out in _take(seg, chunk, seen):
                        yield encode_event(out)
            except ContinuationMismatch as exc:
                await seg.close(exc, blame=False)  # the upstream did nothing wrong
                raise
            except BastionError as exc:
                await seg.close(exc)
                _log_break(request_id, seg, exc)
                nxt = await _continue(seg, seen, resume)
                if nxt is None:
                    raise
                seen.switches.append(_switch(seg, nxt, exc))
                yield b": bastion-continued " + seen.switches[-1].encode() + b"\n\n"
                seg = nxt
                seen.segments.append(seg)
                continue
            await seg.close(None)
            break
        if include_usage:
            yield encode_event(_usage_chunk(seen))
    except BaseException as exc:  # broken, or the client went away (GeneratorExit)
        error = exc
        await seg.close(exc, blame=not isinstance(exc, ContinuationMismatch))
        raise
    finally:
        await on_end(seen, error)


def _take(seg: Segment, chunk: dict[str, Any], seen: Relayed) -> list[dict[str, Any]]:
    """Count the chunk, hold back its usage, and splice it: what to forward now."""
    seg.tally.add(chunk)
    if chunk.get("usage") is not None:
        chunk = {k: v for k, v in chunk.items() if k != "usage"}
        if not chunk.get("choices"):
            return []
    outs = seg.splice.apply(chunk)
    for out in outs:
        for choice in out.get("choices") or []:
            if not _plain_text(choice):
                seen.continuable = False
        seen.answer.add(out)
    return outs


def _plain_text(choice: Any) -> bool:
    """Whether a choice is the first one and carries no tool call (those are not continued)."""
    if not isinstance(choice, dict) or choice.get("index", 0) != 0:
        return False
    delta = choice.get("delta")
    return not (isinstance(delta, dict) and (delta.get("tool_calls") or delta.get("function_call")))


async def _continue(seg: Segment, seen: Relayed, resume: Resume) -> Segment | None:
    if not seen.continuable:
        return None
    delivered = "".join(seen.answer.parts)
    deltas = sum(s.tally.deltas for s in seen.segments)
    return await resume(seg, delivered, deltas)


def _switch(old: Segment, new: Segment, exc: BastionError) -> str:
    return (
        f"from={old.opened.member.name} to={new.opened.member.name} "
        f"group={new.group.name} mode={new.opened.mode} reason={exc.type}"
    )


def _log_break(request_id: str, seg: Segment, exc: BastionError) -> None:
    log.warning(
        "stream_broken",
        request_id=request_id,
        upstream=seg.opened.member.name,
        error=exc.type,
        message=exc.message,
    )


def summed_usage(seen: Relayed) -> tuple[dict[str, Any], bool]:
    """Usage over every segment (each upstream read the prompt and was paid for what it
    generated), and whether any part of it is an estimate."""
    total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    estimated = False
    for seg in seen.segments:
        usage = seg.tally.final_usage()
        estimated = estimated or seg.tally.estimated
        for key in total:
            total[key] += int(usage.get(key) or 0)
    if len(seen.segments) == 1:
        return dict(seen.segments[0].tally.final_usage()), estimated
    return total, estimated


def _usage_chunk(seen: Relayed) -> dict[str, Any]:
    head = seen.segments[0].splice
    usage, _ = summed_usage(seen)
    return {
        "id": head.id,
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "choices": [],
        "usage": usage,
    }


async def _chunks(opened: OpenStream) -> AsyncIterator[dict[str, Any]]:
    yield opened.first
    async for chunk in opened.rest:
        yield chunk

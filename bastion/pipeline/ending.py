"""How a call ends, streamed or not: its finishers, in one order, then the protocol's end.

Stages with work after the answer either do it as ``next`` returns (a non-streamed call) or
append a finisher (a stream, whose answer is complete only after its last chunk). Finishers
run innermost first — the order in which the stages unwind — so that an outer stage sees
what the inner ones settled (admit's reconciled cost before the audit record, both before
the request log). ``end_stream`` relays a stream's chunks, runs the finishers once it is
over, and returns how it ended; the adapter then sends its protocol's terminator (for the
OpenAI routes, ``[DONE]`` or an explicit error event). A finisher that raises a
``BastionError`` (the audit record could not be committed) turns a complete stream into a
failed one: the client must not take the answer as complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from bastion.errors import BastionError
from bastion.pipeline.call import Call, Result

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class StreamEnd:
    """Filled in by ``end_stream`` when the stream is over: ``error`` None means complete."""

    error: BastionError | None = None
    over: bool = False


async def end_call(
    call: Call, result: Result | None, error: BaseException | None
) -> BastionError | None:
    """Run the call's finishers innermost first; the first ``BastionError`` one of them raised
    (none: None). A finisher's other failures are logged, never raised."""
    failed: BastionError | None = None
    for finisher in call.finishers:
        try:
            await finisher(result, error if error is not None else failed)
        except BastionError as exc:
            failed = failed or exc
        except Exception:
            log.exception("call_finisher_failed", request_id=call.request_id)
    call.finishers.clear()
    return failed


async def end_stream(call: Call, result: Result, end: StreamEnd) -> AsyncIterator[bytes]:
    """Relay ``result.stream``; when it is over, run the finishers and fill ``end``.

    A ``BastionError`` from the stream (cut, stall, malformed chunk) is how it breaks: it is
    recorded, not raised. A client that went away (cancellation, ``GeneratorExit``) still runs
    the finishers, with that as the error, and is re-raised.
    """
    assert result.stream is not None
    error: BastionError | None = None
    try:
        async for chunk in result.stream:
            yield chunk
    except BastionError as exc:
        error = exc
    except (asyncio.CancelledError, GeneratorExit) as exc:
        end.over = True
        await asyncio.shield(end_call(call, result, exc))
        raise
    failed = await end_call(call, result, error)
    end.error, end.over = error or failed, True

"""The audit stage: one committed record per call, success or error, before the answer leaves."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, TypeGuard

from bastion.core.columns import Canonical
from bastion.core.shutdown import cut_by_shutdown
from bastion.errors import BastionError
from bastion.observability.audit.log import AuditLog
from bastion.observability.audit.record import AuditEntry, canonical, payload_aad, sha256_hex

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result

_ACTIONS = {"oip": "infer", "predict": "predict"}


class AuditStage:
    """Records who asked what of which deployment and version, and what came back.

    Inputs are hashed as they arrived (before any guard redacts them). The principal is read
    after ``next``, so the stage can sit outside authentication and still record failed
    logins. A stream's record is committed by a finisher after its last chunk and before the
    adapter sends the stream's end (``bastion.pipeline.ending``); if it cannot be committed
    the finisher raises ``Overloaded``, and the stream ends with an error event, not as
    complete.
    """

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    async def __call__(self, call: Call, next: Next) -> Result:
        inputs = _canonical(call.inputs)
        try:
            result = await next(call)
        except asyncio.CancelledError as exc:  # client gone, or shutdown: record it, no wait
            why = "shutting_down" if cut_by_shutdown(exc) else "cancelled"
            self._audit.append_soon(self._entry(call, inputs, None, why))
            raise
        except Exception as exc:
            await self._audit.append(self._entry(call, inputs, None, _error_type(exc)))
            raise
        if result.stream is None:
            answers = result.predictions
            outputs = (
                answers.canonical()
                if _is_canonical(answers)  # a columnar batch: one pass, not per row
                else canonical([p.output for p in answers])
            )
            await self._audit.append(self._entry(call, inputs, result, None, outputs))
            return result
        parts: list[bytes] = []

        async def finish(_: Result | None, error: BaseException | None) -> None:
            if isinstance(error, asyncio.CancelledError | GeneratorExit):
                why = "shutting_down" if cut_by_shutdown(error) else "cancelled"
                entry = self._stream_entry(call, inputs, result, parts, why)
                self._audit.append_soon(entry)
                return
            failed = None if error is None else _error_type(error)
            await self._audit.append(self._stream_entry(call, inputs, result, parts, failed))

        call.finishers.append(finish)
        return dataclasses.replace(result, stream=_kept(result.stream, parts))

    def _stream_entry(
        self, call: Call, inputs: bytes, result: Result, parts: list[bytes], error: str | None
    ) -> AuditEntry:
        text = b"".join(parts).decode("utf-8", "replace")
        return self._entry(call, inputs, result, error, canonical(text))

    def _entry(
        self,
        call: Call,
        inputs: bytes,
        result: Result | None,
        error: str | None,
        outputs: bytes | None = None,
    ) -> AuditEntry:
        principal = call.principal
        input_sha, output_sha = sha256_hex(inputs), None
        if outputs is not None:
            output_sha = sha256_hex(outputs)
        payload, key_id = self._seal(inputs, outputs, input_sha, output_sha)
        details: dict[str, Any] = {"api": call.api, "inputs": len(call.inputs)}
        if result is not None:
            details["model"] = result.model
        if call.cache is not None:
            details["cache"] = call.cache
        if call.served_by is not None:
            details["served_by"] = call.served_by
        if call.prompt is not None:  # the template version and what grounded its answer
            details["prompt"] = call.prompt.to_dict()
        if call.stream:
            details["stream"] = True
        if call.started_at > 0:  # the time to the answer, as the console's request page shows
            details["duration_ms"] = round((time.perf_counter() - call.started_at) * 1000, 3)
        outbox = call.outbox if error is None else ()
        if outbox:  # the action intents committed with this record, named in its hash
            details["actions"] = [intent.id for intent in outbox]
        if call.usage_estimated:  # the cost below is priced on estimated tokens
            details["cost_estimated"] = True
        return AuditEntry(
            kind="interaction",
            action=_ACTIONS.get(call.api, call.api.rsplit(".", 1)[-1]),
            at=self._audit.clock(),
            actor_key_id=principal.key_id if principal is not None else None,
            actor_name=principal.name if principal is not None else None,
            tenant=call.tenant,
            deployment=call.deployment,
            version=result.version if result is not None else call.version,
            request_id=call.request_id,
            status="ok" if error is None else "error",
            error_type=error,
            input_sha256=input_sha,
            output_sha256=output_sha,
            cost=call.cost_usd,
            decision=_decision(call, result) if error is None else None,
            guards=call.guards.to_dict() if call.guards is not None else None,
            details=details,
            payload=payload,
            payload_key=key_id,
            outbox=outbox,
        )

    def _seal(
        self, inputs: bytes, outputs: bytes | None, input_sha: str, output_sha: str | None
    ) -> tuple[bytes | None, str | None]:
        encryptor = self._audit.encryptor
        if encryptor is None or not self._audit.settings.payloads:
            return None, None
        body = b'{"inputs":' + inputs + b',"outputs":' + (outputs or b"null") + b"}"
        if len(body) > self._audit.settings.max_payload_bytes:
            return None, None
        return encryptor.encrypt(body, payload_aad(input_sha, output_sha)), encryptor.active_key_id


async def _kept(stream: AsyncIterator[bytes], parts: list[bytes]) -> AsyncIterator[bytes]:
    """``stream`` passed through, each chunk kept for the record's output hash."""
    async for chunk in stream:
        parts.append(chunk)
        yield chunk


def _error_type(exc: object) -> str:
    if isinstance(exc, BastionError):
        return exc.type
    if isinstance(exc, str):
        return exc
    return "internal_error"


def _decision(call: Call, result: Result | None) -> str:
    if call.review is not None:
        return f"review_{call.review.status}"
    if call.stream_fallback is not None:
        return "fallback"
    if result is not None and "x-bastion-fallback" in result.headers:
        return "fallback"
    return "answered"


def _is_canonical(values: object) -> TypeGuard[Canonical]:
    """Whether ``values`` writes its own canonical bytes (a columnar batch). A plain list is
    answered at once: ``isinstance`` against a runtime-checkable Protocol walks its members
    (~5 µs), and every call pays it twice (inputs and predictions)."""
    return type(values) is not list and isinstance(values, Canonical)


def _canonical(inputs: Any) -> bytes:
    """A call's inputs as hashed: a columnar batch writes its own (``core/columns.py``)."""
    return inputs.canonical() if _is_canonical(inputs) else canonical(inputs)

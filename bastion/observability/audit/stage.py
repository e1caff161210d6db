"""The audit stage: one committed record per call, success or error, before the answer leaves."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from bastion.errors import BastionError, Overloaded
from bastion.observability.audit.log import AuditLog
from bastion.observability.audit.record import AuditEntry, canonical, payload_aad, sha256_hex

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result

_ACTIONS = {"oip": "infer", "predict": "predict"}
DONE = b"data: [DONE]\n\n"  # the end of an OpenAI-style event stream (bastion.gateway.streaming)


class AuditStage:
    """Records who asked what of which deployment and version, and what came back.

    Inputs are hashed as they arrived (before any guard redacts them). The principal is read
    after ``next``, so the stage can sit outside authentication and still record failed
    logins. For a stream the record is committed after its last chunk and before its final
    ``data: [DONE]``, which is held back until then; if the record cannot be committed the
    stream ends with an ``overloaded`` error event instead of ``[DONE]``.
    """

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    async def __call__(self, call: Call, next: Next) -> Result:
        inputs = canonical(call.inputs)
        try:
            result = await next(call)
        except asyncio.CancelledError:  # the client went away: record it, without waiting
            self._audit.append_soon(self._entry(call, inputs, None, "cancelled"))
            raise
        except Exception as exc:
            await self._audit.append(self._entry(call, inputs, None, _error_type(exc)))
            raise
        if result.stream is not None:
            return dataclasses.replace(result, stream=self._audited(call, inputs, result))
        outputs = canonical([p.output for p in result.predictions])
        await self._audit.append(self._entry(call, inputs, result, None, outputs))
        return result

    async def _audited(self, call: Call, inputs: bytes, result: Result) -> AsyncIterator[bytes]:
        assert result.stream is not None
        parts: list[bytes] = []
        done: bytes | None = None
        try:
            async for chunk in result.stream:
                if chunk == DONE:
                    done = chunk  # held back until the record is committed
                    continue
                parts.append(chunk)
                yield chunk
        except (asyncio.CancelledError, GeneratorExit):
            self._audit.append_soon(self._stream_entry(call, inputs, result, parts, "cancelled"))
            raise
        except Exception as exc:
            await self._audit.append(
                self._stream_entry(call, inputs, result, parts, _error_type(exc))
            )
            raise
        broken = call.annotations.get("stream_error")
        error = None if done is not None and broken is None else _error_type(broken)
        try:
            await self._audit.append(self._stream_entry(call, inputs, result, parts, error))
        except Overloaded as exc:
            if done is not None:  # not [DONE]: the client must not take the answer as complete
                yield _error_event(exc, call.request_id)
            return
        if done is not None:
            yield done

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
        ann = call.annotations
        principal = call.principal
        input_sha, output_sha = sha256_hex(inputs), None
        if outputs is not None:
            output_sha = sha256_hex(outputs)
        payload, key_id = self._seal(inputs, outputs, input_sha, output_sha)
        details: dict[str, Any] = {"api": call.api, "inputs": len(call.inputs)}
        if result is not None:
            details["model"] = result.model
        for name in ("cache", "served_by"):
            if ann.get(name) is not None:
                details[name] = ann[name]
        if call.stream:
            details["stream"] = True
        outbox = call.outbox if error is None else ()
        if outbox:  # the action intents committed with this record, named in its hash
            details["actions"] = [intent.id for intent in outbox]
        cost = ann.get("cost_usd")
        return AuditEntry(
            kind="interaction",
            action=_ACTIONS.get(call.api, call.api.rsplit(".", 1)[-1]),
            at=self._audit.clock(),
            actor_key_id=getattr(principal, "key_id", None),
            actor_name=getattr(principal, "name", None),
            tenant=getattr(principal, "tenant", None),
            deployment=call.deployment,
            version=result.version if result is not None else call.version,
            request_id=call.request_id,
            status="ok" if error is None else "error",
            error_type=error,
            input_sha256=input_sha,
            output_sha256=output_sha,
            cost=float(cost) if isinstance(cost, int | float) else None,
            decision=_decision(call, result) if error is None else None,
            guards=ann.get("guards"),
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


def _error_event(exc: BastionError, request_id: str) -> bytes:
    """An explicit error event in place of ``[DONE]``, shaped as the gateway's."""
    error = {"type": exc.type, "message": exc.message, "code": exc.type, "param": None}
    return b"data: " + orjson.dumps({"error": {**error, "request_id": request_id}}) + b"\n\n"


def _error_type(exc: object) -> str:
    if isinstance(exc, BastionError):
        return exc.type
    if isinstance(exc, str):
        return exc
    return "internal_error" if exc is not None else "stream_truncated"


def _decision(call: Call, result: Result | None) -> str:
    review = call.annotations.get("review")
    if isinstance(review, dict) and review.get("status"):
        return f"review_{review['status']}"
    if result is not None and "x-bastion-fallback" in result.headers:
        return "fallback"
    return "answered"

"""Event-driven inference in: a deployment consumes requests from a NATS JetStream subject.

A durable pull consumer takes at most ``max_in_flight`` requests at once (its
``max_ack_pending`` too). Each message runs through the same pipeline as HTTP — the key in
its ``Authorization`` (or ``X-Bastion-Key``) header becomes the principal — and its result is
published, acknowledged by JetStream, to ``reply_subject`` before the request is acked. A
consumer killed before the ack gets the request redelivered after ``ack_wait``; the result of
a redelivery carries the same id (``Bastion-Request-Id`` and ``Nats-Msg-Id: result-<id>``), so
the reply stream drops a duplicate publish within its window and any other duplicate is
recognisable. A refusal (4xx) is published as an error result and acked; a server-side
failure (5xx) is nak'ed for redelivery.

Body: ``{"input": ...}`` or ``{"inputs": [...]}``; the request id is the message's
``Nats-Msg-Id`` header if it has one, else ``<stream>-<sequence>`` (stable across redeliveries).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
import structlog

from bastion.actions.destinations.nats import connect, ensure_stream
from bastion.actions.metrics import ActionMetrics
from bastion.errors import BastionError, InvalidRequest
from bastion.pipeline import Call, Next
from bastion.settings.actions import IntakeSettings

log = structlog.get_logger(__name__)


class NatsIntake:
    def __init__(self, settings: IntakeSettings, pipeline: Next, metrics: ActionMetrics) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._metrics = metrics
        self._room = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._nc: Any = None

    async def run(self) -> None:
        """Consume until cancelled; reconnects (with a pause) after a failure."""
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("intake_failed", deployment=self.settings.deployment, error=str(exc))
                await asyncio.sleep(1.0)

    async def _consume(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig

        s = self.settings
        self._nc, js = await connect(s.url, f"intake-{s.deployment}")
        await ensure_stream(js, s.stream, [s.subject, s.reply_subject])
        config = ConsumerConfig(
            durable_name=s.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=s.ack_wait_s,
            max_ack_pending=s.max_in_flight,
        )
        sub = await js.pull_subscribe(s.subject, durable=s.durable, stream=s.stream, config=config)
        gauges = asyncio.get_running_loop().create_task(self._gauges(sub))
        try:
            while True:
                room = s.max_in_flight - len(self._tasks)
                if room <= 0:  # bounded in flight: wait for one to finish
                    self._room.clear()
                    await self._room.wait()
                    continue
                try:
                    msgs = await sub.fetch(room, timeout=1.0)
                except TimeoutError:  # nats.errors.TimeoutError is one: nothing waiting
                    continue
                for msg in msgs:
                    task = asyncio.get_running_loop().create_task(self._handle(js, msg))
                    self._tasks.add(task)
                    task.add_done_callback(self._done)
        finally:
            gauges.cancel()
            with contextlib.suppress(Exception):
                await self._nc.close()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._room.set()

    async def _handle(self, js: Any, msg: Any) -> None:
        s = self.settings
        headers = dict(msg.headers or {})
        meta = msg.metadata
        rid = headers.get("Nats-Msg-Id") or f"{s.stream}-{meta.sequence.stream}"
        self._metrics.intake_age_s.labels(s.deployment).set(
            max(0.0, time.time() - meta.timestamp.timestamp())
        )
        self._metrics.intake_in_flight.labels(s.deployment).inc()
        try:
            reply, outcome = await self._answer(rid, headers, msg.data)
            if outcome == "retry":
                await msg.nak(delay=1.0)
                return
            await js.publish(
                s.reply_subject,
                orjson.dumps(reply, option=orjson.OPT_SERIALIZE_NUMPY),
                stream=s.stream,
                headers={"Nats-Msg-Id": f"result-{rid}", "Bastion-Request-Id": rid},
            )
            await msg.ack()  # only once the result is stored
            self._metrics.intake_requests.labels(s.deployment, outcome).inc()
        except Exception as exc:  # publish failed: not acked, so it is redelivered
            log.warning("intake_reply_failed", request_id=rid, error=str(exc)[:200])
        finally:
            self._metrics.intake_in_flight.labels(s.deployment).dec()

    async def _answer(
        self, rid: str, headers: dict[str, str], data: bytes
    ) -> tuple[dict[str, Any], str]:
        key = headers.get("Authorization") or headers.get("authorization")
        if key is None and headers.get("X-Bastion-Key"):
            key = f"Bearer {headers['X-Bastion-Key']}"
        try:
            inputs, batched = _inputs(data)
            call = Call(
                request_id=rid,
                deployment=self.settings.deployment,
                api="nats",
                inputs=inputs,
                batched=batched,
                started_at=time.perf_counter(),
                headers={"authorization": key} if key else {},
            )
            result = await self._pipeline(call)
        except BastionError as exc:
            error = {"id": rid, "error": {"type": exc.type, "message": exc.message}}
            return error, "retry" if exc.status >= 500 else "refused"
        predictions = [{"output": p.output, "confidence": p.confidence} for p in result.predictions]
        reply: dict[str, Any] = {
            "id": rid,
            "deployment": result.deployment,
            "version": result.version,
        }
        if batched:
            reply["outputs"] = predictions
        else:
            reply.update(predictions[0])
        return reply, "ok"

    async def _gauges(self, sub: Any) -> None:
        while True:
            with contextlib.suppress(Exception):
                info = await sub.consumer_info()
                self._metrics.intake_pending.labels(self.settings.deployment).set(info.num_pending)
            await asyncio.sleep(2.0)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)


def _inputs(data: bytes) -> tuple[list[Any], bool]:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the message is not JSON: {exc}") from exc
    if not isinstance(body, dict) or ("input" in body) == ("inputs" in body):
        raise InvalidRequest("send an object with exactly one of 'input' or 'inputs'")
    if "input" in body:
        return [body["input"]], False
    if not isinstance(body["inputs"], list):
        raise InvalidRequest("inputs: must be a list")
    return list(body["inputs"]), True

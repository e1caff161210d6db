"""NATS JetStream destinations: acknowledged publishes, duplicates dropped by message id.

The stream is created at start if absent (with the destination's ``subjects``). Each attempt
publishes with ``Nats-Msg-Id`` = the idempotency key, so JetStream drops a retried publish
whose first copy it already stored (within the stream's duplicate window); the attempt
counts as delivered only once the stream's PubAck arrives. nats-py is the optional extra
``bastion[nats]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from bastion.actions.base import Outcome
from bastion.actions.compiled import CompiledCall
from bastion.errors import ConfigError
from bastion.settings.actions import DestinationSettings


class NatsDestination:
    def __init__(self, name: str, settings: DestinationSettings) -> None:
        self.name = name
        self.settings = settings
        self._nc: Any = None
        self._js: Any = None

    async def start(self) -> None:
        if self._js is not None:
            return
        self._nc, self._js = await connect(self.settings.url or "", self.name)
        await ensure_stream(
            self._js, self.settings.stream or "", self.settings.subjects or ["bastion.>"]
        )

    async def send(
        self, call: CompiledCall, ctx: Mapping[str, Any], key: str, *, reread: bool = False
    ) -> Outcome:
        assert call.subject is not None
        try:
            await self.start()
            payload = orjson.dumps(call.body(ctx), option=orjson.OPT_NON_STR_KEYS)
            ack = await self._js.publish(
                str(call.subject(ctx)),
                payload,
                timeout=self.settings.timeout_s,
                stream=self.settings.stream,
                headers={"Nats-Msg-Id": key},
            )
        except Exception as exc:  # nats-py raises many unrelated types: all are retried
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return Outcome("ok", details={"seq": ack.seq, "duplicate": bool(ack.duplicate)})

    async def publish_raw(self, subject: str, payload: bytes, msg_id: str) -> Outcome:
        """Publish bytes as they are (CloudEvents), with ``msg_id`` as Nats-Msg-Id."""
        try:
            await self.start()
            await self._js.publish(
                subject,
                payload,
                timeout=self.settings.timeout_s,
                stream=self.settings.stream,
                headers={"Nats-Msg-Id": msg_id, "content-type": "application/cloudevents+json"},
            )
        except Exception as exc:
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return Outcome("ok")

    async def aclose(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = self._js = None


async def connect(url: str, name: str) -> tuple[Any, Any]:
    """A NATS connection and its JetStream context (ConfigError without nats-py)."""
    try:
        import nats
    except ImportError as exc:
        raise ConfigError(
            f"destination {name} uses NATS: install the extra, pip install 'bastion[nats]'"
        ) from exc
    nc = await nats.connect(url, name=f"bastion-{name}", max_reconnect_attempts=-1)
    return nc, nc.jetstream()


async def ensure_stream(js: Any, stream: str, subjects: list[str]) -> None:
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(name=stream, subjects=subjects)

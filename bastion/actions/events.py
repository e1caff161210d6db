"""Events out: decisions, review outcomes, alias changes, alerts and action results as
CloudEvents 1.0 JSON, to NATS JetStream and to signed webhooks.

Events are queued in memory (bounded; when full the newest are dropped and counted) and
published by one background task per process, retried with backoff until the sink takes
them. Each event has a stable id: the NATS ``Nats-Msg-Id`` (JetStream drops a duplicate
within its window) and the webhook's ``x-bastion-id``/``Idempotency-Key``, so a retried
publish — or the same alias change seen by two server processes — is one event to a receiver
that deduplicates. Events are not outboxed: a process killed with events queued loses them;
what must happen whatever crashes is an action (a ``nats`` destination step is durable).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from bastion.actions.base import Destination
from bastion.actions.destinations.http import HttpDestination
from bastion.actions.destinations.nats import NatsDestination
from bastion.settings.actions import EventSinkSettings

log = structlog.get_logger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "io.bastion."
_MAX_BACKOFF_S = 30.0


def cloudevent(
    kind: str,
    source: str,
    data: Mapping[str, Any],
    *,
    subject: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """A CloudEvents 1.0 event in its JSON format (structured mode)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or "evt_" + secrets.token_hex(12),
        "source": source,
        "type": TYPE_PREFIX + kind,
        "time": (time or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": dict(data),
    }
    if subject is not None:
        event["subject"] = subject
    return event


@dataclass(frozen=True, slots=True)
class _Sink:
    settings: EventSinkSettings
    destination: Destination


class EventBus:
    """Queues events and publishes each to every sink that takes its family."""

    def __init__(
        self,
        sinks: list[tuple[EventSinkSettings, Destination]],
        *,
        max_queue: int = 10_000,
    ) -> None:
        self._sinks = [_Sink(s, d) for s, d in sinks]
        self._queue: deque[dict[str, Any]] = deque()
        self._max_queue = max_queue
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.published = 0

    def wants(self, family: str) -> bool:
        return any(family in s.settings.types for s in self._sinks)

    def emit(self, family: str, data: Mapping[str, Any], **kw: Any) -> None:
        """Queue one event (never waits). ``family``: decision | review | alias | alert |
        action; ``kw``: subject, event_id, source."""
        if not self.wants(family):
            return
        if len(self._queue) >= self._max_queue:
            self.dropped += 1
            return
        source = kw.pop("source", "/bastion")
        self._queue.append(cloudevent(family, source, data, **kw))
        self._wake.set()

    def start(self) -> None:
        if self._sinks and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until the queue is empty (tests, shutdown)."""
        async with asyncio.timeout(timeout_s):
            while self._queue:
                self._drained.clear()
                await self._drained.wait()

    async def aclose(self) -> None:
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await self.flush(2.0)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            event = self._queue[0]
            attempt = 0
            while not await self._publish(event):
                attempt += 1
                await asyncio.sleep(random.random() * min(_MAX_BACKOFF_S, 0.1 * 2**attempt))
            self._queue.popleft()
            self.published += 1
            if not self._queue:
                self._drained.set()

    async def _publish(self, event: dict[str, Any]) -> bool:
        family = event["type"].removeprefix(TYPE_PREFIX)
        body = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS)
        ok = True
        for sink in self._sinks:
            if family not in sink.settings.types:
                continue
            dest = sink.destination
            if isinstance(dest, NatsDestination):
                subject = f"{sink.settings.subject_prefix}.{family}"
                outcome = await dest.publish_raw(subject, body, event["id"])
            elif isinstance(dest, HttpDestination):
                outcome = await dest.post_raw(sink.settings.path, body, event["id"], CONTENT_TYPE)
            else:
                continue
            if outcome.verdict == "retry":
                log.warning("event_publish_failed", sink=dest.name, error=outcome.error)
                ok = False
        return ok

"""AuditLog: group-committed appends; each caller returns once its record's batch is durable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import Overloaded
from bastion.observability.audit.base import AuditStore
from bastion.observability.audit.record import AuditEntry
from bastion.settings.audit import AuditSettings

if TYPE_CHECKING:
    from bastion.security.encryption import Encryptor

log = structlog.get_logger(__name__)

_RETRY_AFTER_S = 1.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Pending:
    entry: AuditEntry
    done: asyncio.Future[None]
    abandoned: bool = False  # its caller gave up waiting (and answered 503): do not write it


@dataclass(slots=True)
class _Queue:
    items: list[_Pending] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class AuditLog:
    """The append-only, hash-chained audit log with group commit.

    ``append`` queues a record and returns once the transaction that holds it has committed.
    One writer task takes every queued record (up to ``max_batch``), writes them in ONE
    transaction and resolves their callers; records queued meanwhile form the next batch.
    When the database cannot take the batch within ``timeout_s`` (down, locked, stuck),
    ``append`` raises ``Overloaded`` (503): nothing is answered that was not audited.
    """

    def __init__(
        self,
        store: AuditStore,
        settings: AuditSettings,
        *,
        encryptor: Encryptor | None = None,
        clock: Callable[[], datetime] = _utcnow,
        scrub: Callable[[AuditEntry], AuditEntry] | None = None,
    ) -> None:
        self.store = store
        self._scrub = scrub
        self.settings = settings
        self.encryptor = encryptor
        self.clock = clock
        self._queue: _Queue | None = None
        self._writer: asyncio.Task[None] | None = None
        self._detached: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def stores_payloads(self) -> bool:
        """Payloads are stored only encrypted: with a key configured and payloads on."""
        return self.encryptor is not None and self.settings.payloads

    async def append(self, entry: AuditEntry) -> None:
        """Return once ``entry`` is committed; raise Overloaded if it cannot be, in time."""
        if self._closed:
            raise Overloaded(
                "the audit log is closed (the server is shutting down); retry shortly",
                retry_after=_RETRY_AFTER_S,
            )
        queue = self._start()
        if self._scrub is not None:
            entry = self._scrub(entry)
        if len(queue.items) >= self.settings.max_pending:
            raise Overloaded(
                f"the audit log has {len(queue.items)} records waiting for the database; "
                "retry shortly",
                retry_after=_RETRY_AFTER_S,
            )
        pending = _Pending(entry, asyncio.get_running_loop().create_future())
        queue.items.append(pending)
        queue.wake.set()
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                await asyncio.shield(pending.done)
        except TimeoutError:
            pending.abandoned = True
            raise Overloaded(
                f"the audit log could not commit this request's record within "
                f"{self.settings.timeout_s:g}s (database slow or down); it was not answered, "
                "retry shortly",
                retry_after=_RETRY_AFTER_S,
            ) from None

    def append_soon(self, entry: AuditEntry) -> None:
        """Queue ``entry`` without waiting (for calls cancelled before they were answered)."""
        if self._closed:
            log.warning("audit_record_dropped", action=entry.action, reason="log closed")
            return
        task = asyncio.get_running_loop().create_task(self._append_quietly(entry))
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)

    async def admin(
        self,
        actor: Any,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
        *,
        deployment: str | None = None,
        version: int | None = None,
        request_id: str | None = None,
    ) -> None:
        """Record an admin change (``model.promoted``, ``key.created``, …) and wait for it.

        ``actor`` is a Principal (key id, name and tenant recorded) or a plain name.
        """
        key_id, name, tenant = _actor(actor)
        await self.append(
            AuditEntry(
                kind="admin",
                action=action,
                at=self.clock(),
                actor_key_id=key_id,
                actor_name=name,
                tenant=tenant,
                deployment=deployment,
                version=version,
                request_id=request_id,
                target=target,
                details=dict(details or {}),
            )
        )

    async def aclose(self) -> None:
        """Write what is queued (bounded by ``timeout_s``), stop the writer, close the engine."""
        self._closed = True
        if self._detached:
            await asyncio.wait(set(self._detached), timeout=self.settings.timeout_s)
        if self._writer is not None and self._queue is not None:
            self._queue.wake.set()  # the writer drains the queue, then returns
            done, _ = await asyncio.wait({self._writer}, timeout=self.settings.timeout_s)
            if not done:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
        await self.store.aclose()

    def _start(self) -> _Queue:
        if self._queue is None:
            self._queue = _Queue()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._run(self._queue))
        return self._queue

    async def _run(self, queue: _Queue) -> None:
        while True:
            if not queue.items:
                if self._closed:
                    return
                queue.wake.clear()
                await queue.wake.wait()
                continue
            size = self.settings.max_batch
            batch, queue.items[:size] = queue.items[:size], []
            live = [p for p in batch if not p.abandoned]
            if live:
                await self._commit(live)

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                await self.store.append([p.entry for p in batch])
        except Exception as exc:  # any failure must reach every waiter, and the writer go on
            log.warning(
                "audit_batch_failed",
                records=len(batch),
                error=type(exc).__name__,
                message=str(exc)[:300],
            )
            failure = Overloaded(
                "the audit log's database is unavailable, so this request was not answered; "
                "retry shortly",
                retry_after=_RETRY_AFTER_S,
            )
            for p in batch:
                if not p.done.done():
                    p.done.set_exception(failure)
                    p.done.exception()  # marks it retrieved: a waiter may have gone
            return
        for p in batch:
            if not p.done.done():
                p.done.set_result(None)

    async def _append_quietly(self, entry: AuditEntry) -> None:
        try:
            await self.append(entry)
        except Overloaded:
            log.warning("audit_record_dropped", action=entry.action, request_id=entry.request_id)


def _actor(actor: Any) -> tuple[str | None, str | None, str | None]:
    if actor is None:
        return None, None, None
    if isinstance(actor, str):
        return None, actor, None
    return (
        getattr(actor, "key_id", None),
        getattr(actor, "name", None),
        getattr(actor, "tenant", None),
    )

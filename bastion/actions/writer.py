"""The outbox's own group commit, used when no audit record carries the intents.

Each caller waits until the transaction holding its intents has committed; one writer task
takes every intent queued meanwhile and inserts them in one transaction (as the audit log
does), so that one commit serves many concurrent requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from bastion.actions.outbox import OutboxStore
from bastion.errors import Overloaded
from bastion.store.actions_tables import OutboxIntent

log = structlog.get_logger(__name__)


class OutboxWriter:
    def __init__(self, store: OutboxStore, *, timeout_s: float = 5.0, max_batch: int = 2000):
        self._store = store
        self._timeout_s = timeout_s
        self._max_batch = max_batch
        self._queue: list[tuple[Sequence[OutboxIntent], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def write(self, intents: Sequence[OutboxIntent]) -> None:
        """Return once ``intents`` are committed; Overloaded (503) if not in time."""
        if self._closed:
            raise Overloaded("the action outbox is closed (shutting down); retry", retry_after=1)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        done = asyncio.get_running_loop().create_future()
        self._queue.append((intents, done))
        self._wake.set()
        try:
            async with asyncio.timeout(self._timeout_s):
                await asyncio.shield(done)
        except TimeoutError:
            raise Overloaded(
                f"the action outbox could not commit within {self._timeout_s:g}s (database slow "
                "or down); this request was not answered, retry shortly",
                retry_after=1,
            ) from None

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                await self._store.insert([i for intents, _ in batch for i in intents])
            except Exception as exc:  # every waiter must hear of it; the writer goes on
                log.warning("action_outbox_write_failed", error=type(exc).__name__)
                failure = Overloaded(
                    "the action outbox's database is unavailable, so this request was not "
                    "answered; retry shortly",
                    retry_after=1,
                )
                for _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                        done.exception()
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def aclose(self) -> None:
        self._closed = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                async with asyncio.timeout(self._timeout_s):
                    await self._task

"""A bounded queue drained by one background task in batches; full means drop and count."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")
_WARN_EVERY = 1000


class BackgroundWriter(Generic[T]):
    """``offer`` never waits: the request path hands an item over and moves on.

    One task takes what is queued (up to ``batch_size``) and hands it to ``handle`` in one
    call. After the first item it lingers up to ``linger_s`` for more (less when the batch
    fills or someone flushes), so a quiet server writes a few times a second rather than
    once per request. When the queue is full the item is dropped and counted (``dropped``,
    ``on_drop``): slowing requests down to log them would be worse. ``flush`` waits until
    everything offered before it was handled.

    The queue is a plain deque and an event set when it stops being empty (an
    ``asyncio.Queue`` costs a few microseconds of Python per item each way, and nothing
    here needs its blocking ``put`` or ``join``).
    """

    def __init__(
        self,
        handle: Callable[[list[T]], Awaitable[None]],
        *,
        queue_size: int,
        batch_size: int,
        linger_s: float = 0.0,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self._handle = handle
        self._linger_s = linger_s
        self._more = asyncio.Event()
        self._ready = asyncio.Event()  # set when the queue stops being empty
        self._queue: deque[T] = deque()
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._on_drop = on_drop
        self._task: asyncio.Task[None] | None = None
        self._offered = 0
        self._done = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.dropped = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        return self._offered - self._done

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def offer(self, item: T) -> bool:
        """Queue ``item``; False (dropped and counted) when the queue is full or closed."""
        queue = self._queue
        if self._task is None or self._task.done() or len(queue) >= self._queue_size:
            return self._drop()
        if not queue:
            self._ready.set()
        queue.append(item)
        self._offered += 1
        if len(queue) >= self._batch_size:
            self._more.set()
        return True

    async def flush(self) -> None:
        """Wait until every item offered so far has been handled (or failed)."""
        if self._done >= self._offered or self._task is None or self._task.done():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((self._offered, waiter))
        self._more.set()
        await waiter

    async def aclose(self, drain_s: float = 10.0) -> None:
        """Write what is queued (for up to ``drain_s``), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), drain_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _drop(self) -> bool:
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop()
        if self.dropped % _WARN_EVERY == 1:
            log.warning("prediction_log_dropped", dropped=self.dropped, queued=len(self._queue))
        return False

    async def _run(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            batch = [queue.popleft()]
            if self._linger_s > 0 and not self._waiters and len(queue) < self._batch_size:
                self._more.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._more.wait(), self._linger_s)
            while len(batch) < self._batch_size and queue:
                batch.append(queue.popleft())
            try:
                await self._handle(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # a background task: nobody else would see this error
                self.failed += len(batch)
                log.exception("prediction_log_write_failed", items=len(batch))
            self._done += len(batch)
            self._wake()

    def _wake(self) -> None:
        still = []
        for target, waiter in self._waiters:
            if target <= self._done:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((target, waiter))
        self._waiters = still

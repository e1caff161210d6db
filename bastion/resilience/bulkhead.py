"""A bulkhead: at most N calls at once, a bounded queue behind them, and no waiting forever."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from types import TracebackType

from bastion.core.deadline import Deadline
from bastion.errors import Overloaded


class Bulkhead:
    """``async with bulkhead.slot(deadline):`` runs the block when one of ``max_concurrent``
    slots is free. Up to ``max_waiting`` callers queue (first come, first served); one more is
    refused at once with ``Overloaded``, and so is a caller whose wait outlasts its deadline
    or ``max_wait_s``. ``retry_after_s`` is the hint given with the refusal.
    """

    __slots__ = (
        "_in_flight",
        "_queued_at",
        "_waiters",
        "max_concurrent",
        "max_wait_s",
        "max_waiting",
        "name",
        "retry_after_s",
    )

    def __init__(
        self,
        max_concurrent: int,
        max_waiting: int = 0,
        *,
        max_wait_s: float | None = None,
        retry_after_s: float = 1.0,
        name: str = "bulkhead",
    ) -> None:
        if max_concurrent < 1 or max_waiting < 0:
            raise ValueError("max_concurrent must be >= 1 and max_waiting >= 0")
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self.retry_after_s = retry_after_s
        self.name = name
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        # when each waiter joined, oldest first (insertion order): the queue's age
        self._queued_at: dict[asyncio.Future[None], float] = {}

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def oldest_wait_s(self, now: float | None = None) -> float:
        """How long the longest-waiting caller has been queued (0.0 with an empty queue)."""
        if not self._queued_at:
            return 0.0
        first = next(iter(self._queued_at.values()))
        return max(0.0, (time.monotonic() if now is None else now) - first)

    def slot(self, deadline: Deadline | None = None) -> _Slot:
        """An async context manager holding one slot for its block (a plain object, not a
        generator: it is entered on every request, up to twice on an LLM call)."""
        return _Slot(self, deadline)

    async def _acquire(self, deadline: Deadline | None) -> None:
        if self._in_flight < self.max_concurrent and not self._waiters:
            self._in_flight += 1
            return
        if self.waiting >= self.max_waiting:
            raise self._refuse(f"{self.name} is full ({self._in_flight} running, queue full)")
        wait_s = math.inf if deadline is None else deadline.remaining()
        if self.max_wait_s is not None:
            wait_s = min(wait_s, self.max_wait_s)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._queued_at[waiter] = time.monotonic()
        try:
            async with asyncio.timeout(None if math.isinf(wait_s) else wait_s):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise self._refuse(f"{self.name}: no free slot within {wait_s:.3g}s") from None
            raise
        finally:
            self._queued_at.pop(waiter, None)

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # hand the slot straight to the next in line
                return
        self._in_flight -= 1

    def _refuse(self, message: str) -> Overloaded:
        return Overloaded(
            message,
            retry_after=self.retry_after_s,
            details={"in_flight": self._in_flight, "waiting": self.waiting},
        )


class _Slot:
    __slots__ = ("_bulkhead", "_deadline")

    def __init__(self, bulkhead: Bulkhead, deadline: Deadline | None) -> None:
        self._bulkhead = bulkhead
        self._deadline = deadline

    async def __aenter__(self) -> None:
        bulkhead = self._bulkhead
        if bulkhead._in_flight < bulkhead.max_concurrent and not bulkhead._waiters:
            bulkhead._in_flight += 1  # a free slot (``_acquire``'s first case), no coroutine
            return
        await bulkhead._acquire(self._deadline)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bulkhead._release()

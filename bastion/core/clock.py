"""The one injected time: a ``Clock`` gives monotonic ``now()`` and ``sleep()``; ``FakeClock``
for tests; ``utcnow()`` the wall clock for records."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Monotonic time in seconds and a way to wait on it."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    __slots__ = ()

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class FakeClock:
    """A clock that only moves when told to; ``sleep`` advances it at once and is recorded."""

    __slots__ = ("_now", "sleeps")

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def __call__(self) -> float:
        """The same as ``now()``, for code that takes a ``() -> float`` time source."""
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
        await asyncio.sleep(0)


def utcnow() -> datetime:
    """The wall clock, timezone-aware (for records; intervals use a ``Clock``)."""
    return datetime.now(UTC)

"""Running awaitables by a ``Deadline`` (``bastion.core.deadline``)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from bastion.core.deadline import Deadline
from bastion.errors import Timeout

T = TypeVar("T")


@asynccontextmanager
async def deadline_scope(deadline: Deadline, *, what: str = "operation") -> AsyncIterator[None]:
    """Cancel the block when ``deadline`` passes and raise Bastion's ``Timeout`` instead."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise Timeout(f"{what} deadline exceeded before it started")
    try:
        async with asyncio.timeout(None if math.isinf(remaining) else remaining):
            yield
    except TimeoutError:
        raise Timeout(f"{what} timed out after {remaining:.3g}s") from None


async def run_with_deadline(aw: Awaitable[T], deadline: Deadline, *, what: str = "operation") -> T:
    """Await ``aw`` but no later than ``deadline``; raise ``Timeout`` if it passes."""
    if deadline.expired:
        if asyncio.iscoroutine(aw):
            aw.close()
        raise Timeout(f"{what} deadline exceeded before it started")
    async with deadline_scope(deadline, what=what):
        return await aw


async def run_with_timeout(aw: Awaitable[T], seconds: float, *, what: str = "operation") -> T:
    """Await ``aw`` for at most ``seconds``; raise ``Timeout`` if it takes longer."""
    return await run_with_deadline(aw, Deadline.after(seconds), what=what)

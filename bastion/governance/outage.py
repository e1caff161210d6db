"""A shared counter store that is down: the error it renders as, and the gate that skips it
for a while. Apart from the Redis client (``redis_lua.py``), so that the fallbacks and a
server without Redis never load it."""

from __future__ import annotations

import math
from collections.abc import Callable

from bastion.errors import Overloaded


class StoreUnavailable(Overloaded):
    """The shared counter store (Redis) cannot be reached; renders as 503 ``overloaded``."""


class OutageGate:
    """Remembers that the store failed, so callers skip it for ``retry_interval_s``.

    Bounds the cost of an outage: one request per interval pays the connect timeout; the
    others go straight to the fallback (or are refused) without waiting on a dead socket.
    """

    __slots__ = ("_clock", "_down_until", "retry_interval_s")

    def __init__(self, retry_interval_s: float, clock: Callable[[], float]) -> None:
        self.retry_interval_s = retry_interval_s
        self._clock = clock
        self._down_until = -math.inf

    @property
    def down(self) -> bool:
        return self._clock() < self._down_until

    def failed(self) -> None:
        self._down_until = self._clock() + self.retry_interval_s

    def unavailable(self, what: str) -> StoreUnavailable:
        return StoreUnavailable(f"{what} is unavailable; try again shortly", retry_after=1.0)

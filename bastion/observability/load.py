"""LoadMeter: this worker's requests in flight and running totals, for autoscaling signals.

The record stage adds to it per request (integer increments, nothing else); the capacity
sampler turns the totals into rates over a short rolling window at scrape time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class LoadMeter:
    """Mutable counters of one worker (one event loop: no lock needed)."""

    __slots__ = ("completed", "in_flight", "started", "tokens")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.in_flight = 0
        self.completed = 0
        self.tokens = 0
        self.started = clock()


@dataclass(frozen=True, slots=True)
class Rates:
    """Requests and tokens per second over ``window_s`` seconds (0.0 on no history)."""

    requests_per_s: float
    tokens_per_s: float
    window_s: float


class RateWindow:
    """Snapshots of a LoadMeter's totals, at most one per ``every_s``, kept ``keep_s``;
    a rate is the difference between now and the oldest kept snapshot."""

    def __init__(
        self,
        meter: LoadMeter,
        *,
        every_s: float = 5.0,
        keep_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._meter = meter
        self._every_s = every_s
        self._keep_s = keep_s
        self._clock = clock
        self._snaps: deque[tuple[float, int, int]] = deque([(meter.started, 0, 0)])

    def rates(self) -> Rates:
        now = self._clock()
        m = self._meter
        if now - self._snaps[-1][0] >= self._every_s:
            self._snaps.append((now, m.completed, m.tokens))
        while len(self._snaps) > 1 and now - self._snaps[1][0] >= self._keep_s:
            self._snaps.popleft()
        t0, done0, tokens0 = self._snaps[0]
        span = now - t0
        if span <= 0:
            return Rates(0.0, 0.0, 0.0)
        return Rates((m.completed - done0) / span, (m.tokens - tokens0) / span, span)

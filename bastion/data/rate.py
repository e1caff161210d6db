"""The quarantine rate per deployment over a sliding window: an alert signal.

Counts go into one-second buckets (bounded by the window); reading sums them. Checked rows
and quarantined rows are counted for online calls and batch jobs alike.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any


class QuarantineRate:
    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_s
        self._clock = clock
        self._buckets: dict[str, deque[list[int]]] = {}

    def count(self, deployment: str, checked: int, bad: int) -> None:
        now = int(self._clock())
        buckets = self._buckets.setdefault(deployment, deque())
        if buckets and buckets[-1][0] == now:
            buckets[-1][1] += checked
            buckets[-1][2] += bad
        else:
            buckets.append([now, checked, bad])
        self._trim(buckets, now)

    def _trim(self, buckets: deque[list[int]], now: int) -> None:
        while buckets and buckets[0][0] <= now - self._window:
            buckets.popleft()

    def rates(self) -> dict[str, tuple[float, int, dict[str, Any]]]:
        """Per deployment: quarantined ÷ checked, rows checked, and the counts."""
        now = int(self._clock())
        out = {}
        for deployment, buckets in self._buckets.items():
            self._trim(buckets, now)
            checked = sum(b[1] for b in buckets)
            bad = sum(b[2] for b in buckets)
            if checked:
                out[deployment] = (bad / checked, checked, {"quarantined": bad, "checked": checked})
        return out

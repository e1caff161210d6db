"""SignalRecorder: per-deployment request signals in a fixed ring of time buckets."""

from __future__ import annotations

import bisect
import math
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bastion.errors import BastionError

# Latency histogram upper bounds in seconds (the last bucket is everything slower).
LATENCY_BOUNDS_S: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
_BINS = len(LATENCY_BOUNDS_S) + 1


def client_error_types() -> frozenset[str]:
    """Every error ``type`` that is the client's doing (a 4xx): never an error-rate signal."""
    seen: set[str] = set()
    todo: list[type[BastionError]] = [BastionError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if int(cls.status) < 500:
            seen.add(cls.type)
    return frozenset(seen)


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What one deployment did over a window."""

    requests: int
    errors: int
    fallbacks: int
    cost_usd: float
    latency_counts: tuple[int, ...]

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.requests if self.requests else 0.0

    def latency_quantile(self, q: float) -> float | None:
        """Seconds, interpolated inside the histogram bucket (as Prometheus's
        ``histogram_quantile`` does); None without requests."""
        total = sum(self.latency_counts)
        if not total:
            return None
        rank = q * total
        seen = 0
        for i, count in enumerate(self.latency_counts):
            if count and seen + count >= rank:
                lower = LATENCY_BOUNDS_S[i - 1] if i else 0.0
                if i >= len(LATENCY_BOUNDS_S):
                    return LATENCY_BOUNDS_S[-1]
                upper = LATENCY_BOUNDS_S[i]
                return lower + (upper - lower) * (rank - seen) / count
            seen += count
        return LATENCY_BOUNDS_S[-1]


class _Ring:
    """One deployment's buckets in flat typed arrays (about 17 KB for 180 buckets); a slot
    is reset when a new epoch reuses it."""

    __slots__ = ("costs", "epochs", "errors", "fallbacks", "latency", "requests")

    def __init__(self, size: int) -> None:
        self.epochs = array("q", [-1]) * size
        self.requests = array("I", [0]) * size
        self.errors = array("I", [0]) * size
        self.fallbacks = array("I", [0]) * size
        self.costs = array("d", [0.0]) * size
        self.latency = array("I", [0]) * (size * _BINS)

    def slot(self, epoch: int) -> int:
        pos = epoch % len(self.epochs)
        if self.epochs[pos] != epoch:
            self.epochs[pos] = epoch
            self.requests[pos] = self.errors[pos] = self.fallbacks[pos] = 0
            self.costs[pos] = 0.0
            self.latency[pos * _BINS : (pos + 1) * _BINS] = array("I", [0]) * _BINS
        return pos

    def nbytes(self) -> int:
        arrays = (self.epochs, self.requests, self.errors, self.fallbacks, self.costs)
        return sum(a.itemsize * len(a) for a in (*arrays, self.latency))


class SignalRecorder:
    """Counts requests, server-side errors, fallbacks, cost and latency per deployment.

    Memory is fixed: ``buckets`` slots of ``bucket_s`` seconds per deployment, for at most
    ``max_deployments`` deployments (the least recently recorded is dropped past that).
    ``record`` is synchronous and runs on the event loop: a few list updates, no I/O.
    """

    def __init__(
        self,
        bucket_s: float = 60.0,
        buckets: int = 180,
        *,
        max_deployments: int = 512,
        clock: Callable[[], float],
    ) -> None:
        self.bucket_s = bucket_s
        self.buckets = buckets
        self._max = max_deployments
        self._clock = clock
        self._rings: OrderedDict[str, _Ring] = OrderedDict()
        self._client_errors = client_error_types()

    def record(
        self,
        deployment: str,
        latency_s: float,
        error_type: str | None = None,
        fallback: bool = False,
        cost_usd: float | None = None,
    ) -> None:
        """One finished request; ``error_type`` is its error's ``type`` if it failed.

        Client errors (4xx types: bad input, rate limited, unauthorised) count as requests
        but not as errors: an error-rate alert is about what the server did wrong.
        """
        ring = self._rings.get(deployment)
        if ring is None:
            ring = self._ring(deployment)
        else:
            self._rings.move_to_end(deployment)  # least recently recorded goes first
        pos = ring.slot(int(self._clock() // self.bucket_s))  # self._epoch(), inlined
        ring.requests[pos] += 1
        if error_type is not None and error_type not in self._client_errors:
            ring.errors[pos] += 1
        if fallback:
            ring.fallbacks[pos] += 1
        if cost_usd and math.isfinite(cost_usd):
            ring.costs[pos] += cost_usd
        ring.latency[pos * _BINS + bisect.bisect_left(LATENCY_BOUNDS_S, latency_s)] += 1

    def deployments(self) -> list[str]:
        return list(self._rings)

    def window(self, deployment: str, seconds: float, *, offset_s: float = 0.0) -> WindowStats:
        """Totals over at least the last ``seconds``, ending ``offset_s`` ago: every bucket
        that overlaps that span, the current (partial) one included, so a window never shrinks
        to a bucket just begun (it covers up to one ``bucket_s`` more). Nothing recorded gives
        zeros. With ``offset_s`` (a baseline before a recent window of that length) it ends
        just before the recent window's first bucket, so that the two never overlap."""
        ring = self._rings.get(deployment)
        now = self._clock()
        newest = self._epoch_of(now - offset_s)
        if offset_s > 0:  # end before the bucket where the window ``offset_s`` long begins
            newest -= 1
        oldest = max(self._epoch_of(now - offset_s - seconds), self._epoch() - self.buckets + 1)
        requests = errors = fallbacks = 0
        cost = 0.0
        latency = [0] * _BINS
        if ring is not None:
            for pos, epoch in enumerate(ring.epochs):
                if oldest <= epoch <= newest:
                    requests += ring.requests[pos]
                    errors += ring.errors[pos]
                    fallbacks += ring.fallbacks[pos]
                    cost += ring.costs[pos]
                    counts = ring.latency[pos * _BINS : (pos + 1) * _BINS]
                    latency = [a + b for a, b in zip(latency, counts, strict=True)]
        return WindowStats(requests, errors, fallbacks, cost, tuple(latency))

    def nbytes(self) -> int:
        """Approximate memory held: bounded by the settings, not by traffic."""
        return sum(ring.nbytes() for ring in self._rings.values())

    def _epoch(self) -> int:
        return int(self._clock() // self.bucket_s)

    def _epoch_of(self, at: float) -> int:
        return int(at // self.bucket_s)

    def _ring(self, deployment: str) -> _Ring:
        ring = self._rings.get(deployment)
        if ring is None:
            ring = self._rings[deployment] = _Ring(self.buckets)
            while len(self._rings) > self._max:
                self._rings.popitem(last=False)
        else:
            self._rings.move_to_end(deployment)
        return ring

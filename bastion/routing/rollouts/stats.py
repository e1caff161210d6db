"""Fixed-memory, mergeable counters: latency histograms, per-arm stats, shadow agreement."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Log-spaced latency bucket upper bounds in ms: 0.1 ms … ~53 s, each 25 % above the last,
# so a quantile read from the buckets is within 25 % of the truth. One overflow bucket more.
_BOUNDS: tuple[float, ...] = tuple(0.1 * 1.25**i for i in range(60))


@dataclass(slots=True)
class Histogram:
    """Counts per fixed latency bucket plus the moments (n, sum, sum of squares)."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(_BOUNDS) + 1))
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    def add(self, value_ms: float) -> None:
        value = max(0.0, value_ms)
        self.counts[bisect.bisect_left(_BOUNDS, value)] += 1
        self.n += 1
        self.total += value
        self.total_sq += value * value

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (n - 1), 0 below two observations."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.total_sq - self.total * self.total / self.n) / (self.n - 1))

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding the q-quantile; None when empty."""
        if self.n == 0:
            return None
        rank = max(1, math.ceil(q * self.n))
        seen = 0
        for i, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return _BOUNDS[i] if i < len(_BOUNDS) else _BOUNDS[-1]
        return _BOUNDS[-1]

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.n += other.n
        self.total += other.total
        self.total_sq += other.total_sq

    def to_dict(self) -> dict[str, Any]:
        return {"counts": list(self.counts), "n": self.n, "sum": self.total, "sumsq": self.total_sq}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Histogram:
        hist = cls()
        if not data:
            return hist
        counts = [int(c) for c in data.get("counts", [])]
        if len(counts) == len(hist.counts):
            hist.counts = counts
        hist.n = int(data.get("n", 0))
        hist.total = float(data.get("sum", 0.0))
        hist.total_sq = float(data.get("sumsq", 0.0))
        return hist


@dataclass(slots=True)
class ArmStats:
    """One arm of a canary or A/B test: requests, server errors, confidences and latency."""

    requests: int = 0
    errors: int = 0
    predictions: int = 0  # predictions that carried a confidence
    low_confidence: int = 0
    latency: Histogram = field(default_factory=Histogram)

    def record(
        self,
        latency_ms: float,
        *,
        error: bool,
        confidences: Iterable[float | None] = (),
        low_below: float = 0.5,
    ) -> None:
        self.requests += 1
        self.latency.add(latency_ms)
        if error:
            self.errors += 1
            return
        for confidence in confidences:
            if confidence is not None:
                self.predictions += 1
                self.low_confidence += int(confidence < low_below)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def low_confidence_rate(self) -> float | None:
        return self.low_confidence / self.predictions if self.predictions else None

    def merge(self, other: ArmStats) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.predictions += other.predictions
        self.low_confidence += other.low_confidence
        self.latency.merge(other.latency)

    def summary(self) -> dict[str, Any]:
        """The figures a report shows."""
        return {
            "requests": self.requests,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "low_confidence_rate": self.low_confidence_rate,
            "latency_p50_ms": self.latency.quantile(0.5),
            "latency_p95_ms": self.latency.quantile(0.95),
            "latency_mean_ms": self.latency.mean if self.latency.n else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "predictions": self.predictions,
            "low_confidence": self.low_confidence,
            "latency": self.latency.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArmStats:
        return cls(
            requests=int(data.get("requests", 0)),
            errors=int(data.get("errors", 0)),
            predictions=int(data.get("predictions", 0)),
            low_confidence=int(data.get("low_confidence", 0)),
            latency=Histogram.from_dict(data.get("latency")),
        )


@dataclass(slots=True)
class ShadowCounters:
    """A shadow candidate against the live version: agreement, errors, both latencies, drops."""

    sampled: int = 0
    dropped: int = 0
    compared: int = 0  # items compared (a batch call compares each item)
    agreed: int = 0
    errors: int = 0
    live: Histogram = field(default_factory=Histogram)
    candidate: Histogram = field(default_factory=Histogram)

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None

    def merge(self, other: ShadowCounters) -> None:
        self.sampled += other.sampled
        self.dropped += other.dropped
        self.compared += other.compared
        self.agreed += other.agreed
        self.errors += other.errors
        self.live.merge(other.live)
        self.candidate.merge(other.candidate)

    def summary(self) -> dict[str, Any]:
        calls = self.candidate.n
        return {
            "sampled": self.sampled,
            "dropped": self.dropped,
            "candidate_calls": calls,
            "candidate_errors": self.errors,
            "candidate_error_rate": self.errors / calls if calls else None,
            "compared": self.compared,
            "agreed": self.agreed,
            "agreement": self.agreement,
            "live_p50_ms": self.live.quantile(0.5),
            "live_p95_ms": self.live.quantile(0.95),
            "candidate_p50_ms": self.candidate.quantile(0.5),
            "candidate_p95_ms": self.candidate.quantile(0.95),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "sampled": self.sampled,
            "dropped": self.dropped,
            "compared": self.compared,
            "agreed": self.agreed,
            "errors": self.errors,
            "live": self.live.to_dict(),
            "candidate": self.candidate.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShadowCounters:
        return cls(
            sampled=int(data.get("sampled", 0)),
            dropped=int(data.get("dropped", 0)),
            compared=int(data.get("compared", 0)),
            agreed=int(data.get("agreed", 0)),
            errors=int(data.get("errors", 0)),
            live=Histogram.from_dict(data.get("live")),
            candidate=Histogram.from_dict(data.get("candidate")),
        )


def merge_arms(parts: Sequence[ArmStats]) -> ArmStats:
    total = ArmStats()
    for part in parts:
        total.merge(part)
    return total

"""Capacity: this worker's saturation, queues and throughput, and the recommended replicas.

The formula (docs/scaling.md), with ``u`` the saturation (requests in flight plus queued,
over ``worker_concurrency``) and ``R`` the current replica count::

    desired = ceil(R * u / target_saturation)
    desired = max(desired, R + 1)    when the p95 time in queue exceeds max_queue_p95_s
    desired = clamp(desired, min_replicas, max_replicas)

It is the Kubernetes HPA's own rule (``ceil(R * current / target)``) on Bastion's signal,
plus a queue guard: a queue that grows old means the replicas are already too few.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bastion.observability.load import LoadMeter, RateWindow
from bastion.settings.operations import CapacitySettings

if TYPE_CHECKING:
    from bastion.gateway import Gateway
    from bastion.observability.metrics import Metrics
    from bastion.resilience import Bulkhead
    from bastion.routing import DeploymentManager


@dataclass(frozen=True, slots=True)
class CapacitySnapshot:
    """What one worker sees now."""

    in_flight: int
    capacity: int
    saturation: float
    queue_depth: int
    queue_oldest_s: float
    queue_wait_p95_s: float | None
    requests_per_s: float
    tokens_per_s: float
    window_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommend(snapshot: CapacitySnapshot, settings: CapacitySettings, replicas: int) -> int:
    """The replica count the documented formula asks for."""
    desired = math.ceil(replicas * snapshot.saturation / settings.target_saturation - 1e-9)
    p95 = snapshot.queue_wait_p95_s
    if (p95 is not None and p95 > settings.max_queue_p95_s) or (
        snapshot.queue_oldest_s > settings.max_queue_p95_s
    ):
        desired = max(desired, replicas + 1)
    return max(settings.min_replicas, min(settings.max_replicas, desired))


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus's ``histogram_quantile`` over cumulative ``(le, count)`` buckets."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, count in ordered:
        if count >= rank:
            if math.isinf(le):
                return lower_le
            width = count - lower_count
            share = (rank - lower_count) / width if width > 0 else 1.0
            return lower_le + (le - lower_le) * share
        lower_le, lower_count = le, count
    return lower_le


class CapacityMeter:
    """Reads the worker's load, its bulkheads and the queue-wait histogram; sets the
    autoscaling gauges (a ``Metrics`` sampler) and answers ``GET /v1/admin/capacity``."""

    def __init__(
        self,
        settings: CapacitySettings,
        load: LoadMeter,
        gateway: Gateway,
        deployments: DeploymentManager,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self._load = load
        self._rates = RateWindow(load)
        self._gateway = gateway
        self._deployments = deployments
        self._metrics = metrics
        self._last_buckets: dict[float, float] = {}
        self._last_p95: float | None = None

    def _bulkheads(self) -> list[Bulkhead]:
        found = [d.bulkhead for d in self._deployments.all()]
        found += [self._gateway.target(name).bulkhead for name in self._gateway.names]
        return found

    def _queue_p95(self) -> float | None:
        """p95 time in queue since the previous look (the last value when nothing queued)."""
        if self._metrics is None:
            return None
        totals: dict[float, float] = {}
        for family in self._metrics.queue_seconds.collect():
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    le = float(sample.labels["le"])
                    totals[le] = totals.get(le, 0.0) + sample.value
        delta = [(le, n - self._last_buckets.get(le, 0.0)) for le, n in totals.items()]
        self._last_buckets = totals
        p95 = histogram_quantile(0.95, delta)
        if p95 is not None:
            self._last_p95 = p95
        return self._last_p95 if p95 is None else p95

    def snapshot(self) -> CapacitySnapshot:
        bulkheads = self._bulkheads()
        depth = sum(b.waiting for b in bulkheads)
        oldest = max((b.oldest_wait_s() for b in bulkheads), default=0.0)
        rates = self._rates.rates()
        capacity = self.settings.worker_concurrency
        in_flight = max(0, self._load.in_flight)
        return CapacitySnapshot(
            in_flight=in_flight,
            capacity=capacity,
            saturation=round((in_flight + depth) / capacity, 4),
            queue_depth=depth,
            queue_oldest_s=round(oldest, 4),
            queue_wait_p95_s=self._queue_p95(),
            requests_per_s=round(rates.requests_per_s, 3),
            tokens_per_s=round(rates.tokens_per_s, 3),
            window_s=round(rates.window_s, 1),
        )

    def __call__(self) -> None:
        """The metrics sampler: copy a snapshot into the autoscaling gauges."""
        if self._metrics is None:
            return
        s, m = self.snapshot(), self._metrics
        m.worker_in_flight.set(s.in_flight)
        m.worker_saturation.set(s.saturation)
        m.token_throughput.set(s.tokens_per_s)
        m.queue_oldest.set(s.queue_oldest_s)
        if s.queue_wait_p95_s is not None:
            m.queue_wait_p95.set(s.queue_wait_p95_s)

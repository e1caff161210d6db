"""Scrape-time samples of runtime state: circuit breakers, bulkhead queues, micro-batches."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.gateway import Gateway
    from bastion.observability.metrics import Metrics
    from bastion.resilience import Bulkhead
    from bastion.routing import DeploymentManager

BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}


class RuntimeSampler:
    """Copies what the gateway and the deployments hold into gauges and counters.

    Exact at scrape time (it reads the live objects); cheaper than hooks on every change.
    Micro-batch counts are cumulative on each batcher: the sampler adds what grew since it
    last looked, so the counters stay monotonic across version swaps and workers.
    """

    def __init__(self, metrics: Metrics, gateway: Gateway, deployments: DeploymentManager) -> None:
        self._metrics = metrics
        self._gateway = gateway
        self._deployments = deployments
        self._seen: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()

    def __call__(self) -> None:
        m = self._metrics
        for dep in self._deployments.all():
            self._bulkhead("deployment", dep.name, dep.bulkhead)
            for loaded in (dep.current, *dep.pinned.values()):
                if loaded is not None:
                    self._batches(dep.name, loaded.backend)
        for name in self._gateway.names:
            self._bulkhead("group", name, self._gateway.target(name).bulkhead)
            for member in self._gateway.group(name).members:
                self._bulkhead("upstream", member.name, member.bulkhead)
                state = BREAKER_STATES.get(member.breaker.state.value, 2)
                m.breaker_state.labels(name, member.name).set(state)

    def _bulkhead(self, kind: str, name: str, bulkhead: Bulkhead) -> None:
        self._metrics.queue_depth.labels(kind, name).set(bulkhead.waiting)
        self._metrics.in_flight.labels(kind, name).set(bulkhead.in_flight)

    def _batches(self, deployment: str, backend: Any) -> None:
        batches, items = getattr(backend, "batches", None), getattr(backend, "items", None)
        if not isinstance(batches, int) or not isinstance(items, int):
            return  # not a micro-batcher
        seen_batches, seen_items = self._seen.get(backend, (0, 0))
        if batches > seen_batches:
            self._metrics.batches.labels(deployment).inc(batches - seen_batches)
        if items > seen_items:
            self._metrics.batch_items.labels(deployment).inc(items - seen_items)
        self._seen[backend] = (batches, items)

"""Prometheus metrics on the app's own registry, or multiprocess files with several workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from bastion.observability.cells import Add, Observe, counter_cell, histogram_cell
from bastion.settings.observability import ObservabilitySettings

if TYPE_CHECKING:
    from bastion.observability.request_log import RequestRecord

log = structlog.get_logger(__name__)

_SUB_SECOND = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)
LATENCY_BUCKETS = (*_SUB_SECOND, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

MULTIPROCESS_SUBDIR = "prometheus-multiproc"

Sampler = Callable[[], None]


def fresh_multiprocess_dir(data_dir: Path) -> Path:
    """An empty directory for prometheus_client's multiprocess files (``bastion serve``
    points ``PROMETHEUS_MULTIPROC_DIR`` at it before the workers start)."""
    path = data_dir.resolve() / MULTIPROCESS_SUBDIR
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@dataclass(slots=True)
class _PerDeployment:
    """One deployment's per-request writers (``bastion.observability.cells``)."""

    total: Observe
    queue: Observe
    backend: Observe
    prompt: Add
    completion: Add
    cost: Add
    first_chunk: Observe | None = None  # made at the first stream: no series before one


class Metrics:
    """Every Bastion metric, on one ``CollectorRegistry`` that belongs to one app.

    Per request the record stage calls ``observe``; retries arrive through ``on_retry``;
    breaker states, queue depths and micro-batch counts are sampled (``add_sampler``) right
    before each scrape, and with several workers also every ``sample_interval_s`` in each.
    Other concerns set ``review_backlog.labels(deployment=...)`` and
    ``drift_score.labels(deployment=..., signal=...)`` themselves.
    """

    def __init__(
        self,
        settings: ObservabilitySettings | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        cfg = settings or ObservabilitySettings()
        self.multiprocess_dir = cfg.multiprocess_dir
        self.sample_interval_s = cfg.sample_interval_s
        self.registry = registry or CollectorRegistry()
        self._samplers: list[Sampler] = []
        self._task: asyncio.Task[None] | None = None
        self._requests: dict[tuple[str, int | None, int, str | None], Add] = {}
        self._per_deployment: dict[str, _PerDeployment] = {}
        self._cache: dict[tuple[str, str], Add] = {}
        self._fallbacks: dict[tuple[str, str], Add] = {}
        self._rate_limited: dict[str, Add] = {}
        self._define()

    def _define(self) -> None:
        r, dep = self.registry, ["deployment"]
        self.requests = Counter(
            "bastion_requests",
            "Requests by outcome",
            ["deployment", "version", "status", "error_type"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "bastion_request_duration_seconds",
            "Total request latency (streams: to the last byte)",
            dep,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.backend_seconds = Histogram(
            "bastion_backend_duration_seconds",
            "Time in the model or upstream call (streams: to open the stream)",
            dep,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_chunk_seconds = Histogram(
            "bastion_time_to_first_chunk_seconds",
            "Streams: from the request to the first chunk sent (whole streams: request duration)",
            dep,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_seconds = Histogram(
            "bastion_queue_wait_seconds",
            "Time waiting for a bulkhead slot",
            dep,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("bastion_tokens", "LLM tokens", ["deployment", "kind"], registry=r)
        self.cost_usd = Counter("bastion_cost_usd", "Spend in US dollars", dep, registry=r)
        self.cache_lookups = Counter(
            "bastion_cache_lookups", "Response cache lookups", ["deployment", "result"], registry=r
        )
        self.fallbacks = Counter(
            "bastion_fallbacks",
            "Answers not from the primary model",
            ["deployment", "to"],
            registry=r,
        )
        self.rate_limited = Counter(
            "bastion_rate_limit_rejections", "Requests refused by a rate limit", dep, registry=r
        )
        self.retries = Counter(
            "bastion_upstream_retries", "Upstream retries", ["group"], registry=r
        )
        self.hedges = Counter(
            "bastion_upstream_hedges",
            "Hedged stream openings: started, and won (the hedge answered first)",
            ["group", "outcome"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "bastion_breaker_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open (worst over workers)",
            ["group", "upstream"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.queue_depth = Gauge(
            "bastion_queue_depth",
            "Calls waiting for a bulkhead slot",
            ["kind", "name"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.in_flight = Gauge(
            "bastion_in_flight",
            "Calls holding a bulkhead slot",
            ["kind", "name"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.batches = Counter(
            "bastion_batches", "Micro-batches sent to in-process models", dep, registry=r
        )
        self.batch_items = Counter(
            "bastion_batch_items", "Inputs in those micro-batches", dep, registry=r
        )
        self.review_backlog = Gauge(
            "bastion_review_backlog",
            "Review items waiting for a decision",
            dep,
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.drift_score = Gauge(
            "bastion_drift_score",
            "Share of drifted signals (signal=_overall) or a signal's statistic",
            ["deployment", "signal"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self._define_capacity()

    def _define_capacity(self) -> None:
        """Autoscaling signals, set by the capacity sampler (docs/scaling.md)."""
        r = self.registry
        self.worker_in_flight = Gauge(
            "bastion_worker_in_flight",
            "Requests in flight in this worker (label pid with several workers)",
            multiprocess_mode="liveall",
            registry=r,
        )
        self.worker_saturation = Gauge(
            "bastion_worker_saturation",
            "In-flight plus queued requests over operations.capacity.worker_concurrency",
            multiprocess_mode="liveall",
            registry=r,
        )
        self.token_throughput = Gauge(
            "bastion_token_throughput",
            "LLM tokens per second over the last minute (summed over workers)",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.queue_oldest = Gauge(
            "bastion_queue_oldest_seconds",
            "Age of the longest-waiting queued request (worst over workers)",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.queue_wait_p95 = Gauge(
            "bastion_queue_wait_p95_seconds",
            "p95 time in queue since the previous sample (worst over workers)",
            multiprocess_mode="livemax",
            registry=r,
        )

    # -- per request ------------------------------------------------------------------------

    def _deployment(self, name: str) -> _PerDeployment:
        found = self._per_deployment.get(name)
        if found is None:
            found = self._per_deployment[name] = _PerDeployment(
                histogram_cell(self.request_seconds.labels(name)),
                histogram_cell(self.queue_seconds.labels(name)),
                histogram_cell(self.backend_seconds.labels(name)),
                counter_cell(self.tokens.labels(name, "prompt")),
                counter_cell(self.tokens.labels(name, "completion")),
                counter_cell(self.cost_usd.labels(name)),
            )
        return found

    def observe(self, r: RequestRecord) -> None:
        """Count one finished request: a dict lookup and a lock-free write per metric (one
        worker; ``cells`` says why that is safe), the public prometheus calls with several."""
        key = (r.deployment, r.version, r.status, r.error_type)
        add = self._requests.get(key)
        if add is None:
            version = "none" if r.version is None else str(r.version)
            labels = (r.deployment, version, str(r.status), r.error_type or "none")
            add = self._requests[key] = counter_cell(self.requests.labels(*labels))
        add(1)
        d = self._deployment(r.deployment)
        d.total(r.total_s)
        if r.queue_s is not None:
            d.queue(r.queue_s)
        if r.backend_s is not None:
            d.backend(r.backend_s)
        if r.first_chunk_s is not None:
            if d.first_chunk is None:
                d.first_chunk = histogram_cell(self.first_chunk_seconds.labels(r.deployment))
            d.first_chunk(r.first_chunk_s)
        if r.prompt_tokens:
            d.prompt(r.prompt_tokens)
        if r.completion_tokens:
            d.completion(r.completion_tokens)
        if r.cost_usd:
            d.cost(r.cost_usd)
        if r.cache is not None:
            self._count(self._cache, self.cache_lookups, (r.deployment, r.cache))
        if r.fallback is not None:
            self._count(self._fallbacks, self.fallbacks, (r.deployment, r.fallback))
        if r.rate_limited:
            add = self._rate_limited.get(r.deployment)
            if add is None:
                add = self._rate_limited[r.deployment] = counter_cell(
                    self.rate_limited.labels(r.deployment)
                )
            add(1)

    @staticmethod
    def _count(cache: dict[tuple[str, str], Add], metric: Counter, key: tuple[str, str]) -> None:
        add = cache.get(key)
        if add is None:
            add = cache[key] = counter_cell(metric.labels(*key))
        add(1)

    def on_retry(self, group: str, _event: object) -> None:
        """A ``ModelGroup.on_retry_hooks`` hook."""
        self.retries.labels(group).inc()

    def on_hedge(self, group: str, outcome: str) -> None:
        """A ``ModelGroup.on_hedge_hooks`` hook."""
        self.hedges.labels(group, outcome).inc()

    # -- sampling and exposition -----------------------------------------------------------

    def add_sampler(self, sampler: Sampler) -> None:
        self._samplers.append(sampler)

    def sample(self) -> None:
        for sampler in self._samplers:
            try:
                sampler()
            except Exception:  # a broken sampler must not break the scrape
                log.exception("metrics_sampling_failed")

    def start(self) -> None:
        """With several workers, sample periodically: a scrape reaches only one of them."""
        if self.multiprocess_dir is not None and self._samplers and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample_forever())

    async def _sample_forever(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.sample_interval_s)

    def collect(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition (Prometheus text or OpenMetrics, as ``accept`` asks) and its type.

        Blocking (multiprocess files are read): call it in a worker thread.
        """
        encoder, content_type = choose_encoder(accept or "")
        if self.multiprocess_dir is None:
            return encoder(self.registry), content_type
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return encoder(merged), content_type

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.multiprocess_dir is not None:
            from prometheus_client import multiprocess

            # this worker's live gauges leave with it; its counters stay in the totals
            multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]

"""Shadow traffic: live inputs replayed on a candidate version in the background, compared.

The live call only pays for ``submit``: a counter and a ``put_nowait`` on a bounded queue.
A fixed number of workers (the concurrency bound) take jobs from it; when it is full the job
is dropped and counted. Nothing the candidate does can reach the live response.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import BastionError
from bastion.pipeline.call import Call
from bastion.routing.rollouts.stats import ShadowCounters

if TYPE_CHECKING:
    from bastion.routing.loaded import LoadedVersion

log = structlog.get_logger(__name__)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def agree(live: Any, candidate: Any, tolerance: float) -> bool:
    """Whether two outputs agree: same ``label`` when both carry one, numbers within
    ``tolerance`` (relative or absolute), lists and mappings item by item, else equality."""
    if isinstance(live, bool) or isinstance(candidate, bool):
        return live is candidate
    if isinstance(live, Mapping) and isinstance(candidate, Mapping):
        if "label" in live and "label" in candidate:
            return agree(live["label"], candidate["label"], tolerance)
        if live.keys() != candidate.keys():
            return False
        return all(agree(live[k], candidate[k], tolerance) for k in live)
    if _number(live) and _number(candidate):
        a, b = float(live), float(candidate)
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance) or a == b
    if isinstance(live, list | tuple) and isinstance(candidate, list | tuple):
        return len(live) == len(candidate) and all(
            agree(x, y, tolerance) for x, y in zip(live, candidate, strict=True)
        )
    return bool(live == candidate)


@dataclass(frozen=True, slots=True)
class ShadowJob:
    """One live call to replay: its inputs, what the live version answered, and how fast."""

    deployment: str
    model: str
    version: int
    run: str
    request_id: str
    inputs: list[Any]
    batched: bool
    live_outputs: list[Any]
    live_ms: float
    tolerance: float
    timeout_s: float


Loader = Callable[[str, int], Awaitable["LoadedVersion"]]  # (deployment, version) → loaded
CountersOf = Callable[[ShadowJob], ShadowCounters]


class ShadowRunner:
    """A bounded queue and a fixed pool of workers running candidate calls."""

    def __init__(
        self, load: Loader, counters: CountersOf, *, concurrency: int, queue_size: int
    ) -> None:
        self._load = load
        self._counters = counters
        self._concurrency = concurrency
        self._queue: asyncio.Queue[ShadowJob] = asyncio.Queue(queue_size)
        self._workers: list[asyncio.Task[None]] = []

    def submit(self, job: ShadowJob) -> bool:
        """Queue ``job`` without waiting; False (and counted as dropped) when the queue is full."""
        counters = self._counters(job)
        counters.sampled += 1
        counters.live.add(job.live_ms)
        if not self._workers:
            self.start()
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            counters.dropped += 1
            return False
        return True

    def start(self) -> None:
        if not self._workers:
            loop = asyncio.get_running_loop()
            self._workers = [loop.create_task(self._work()) for _ in range(self._concurrency)]

    async def drained(self) -> None:
        """Wait until every queued job has been run (for tests and graceful stops)."""
        await self._queue.join()

    async def aclose(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._run(job)
            except Exception:  # a worker must outlive any candidate's failure
                log.exception("shadow_job_failed", deployment=job.deployment, version=job.version)
            finally:
                self._queue.task_done()

    async def _run(self, job: ShadowJob) -> None:
        counters = self._counters(job)
        started = time.perf_counter()
        try:
            target = await self._load(job.deployment, job.version)
            target.check_inputs(job.inputs, batched=job.batched)
            call = Call(
                request_id=f"{job.request_id}:shadow",
                deployment=job.deployment,
                api="shadow",
                inputs=list(job.inputs),
                batched=job.batched,
                started_at=started,
            )
            result = await asyncio.wait_for(target.run(call), job.timeout_s)
        except (BastionError, TimeoutError) as exc:
            counters = self._counters(job)
            counters.errors += 1
            counters.candidate.add((time.perf_counter() - started) * 1000)
            message = exc.message if isinstance(exc, BastionError) else "timed out"
            log.info(
                "shadow_call_failed",
                deployment=job.deployment,
                version=job.version,
                error=message,
            )
            return
        counters = self._counters(job)
        counters.candidate.add((time.perf_counter() - started) * 1000)
        outputs = [p.output for p in result.predictions]
        compare(counters, job.live_outputs, outputs, job.tolerance)


def compare(
    counters: ShadowCounters, live: Sequence[Any], candidate: Sequence[Any], tolerance: float
) -> None:
    """Count item-wise agreement; a missing candidate item counts as a disagreement."""
    for i, output in enumerate(live):
        counters.compared += 1
        if i < len(candidate) and agree(output, candidate[i], tolerance):
            counters.agreed += 1

"""The load generator behind `bastion bench`: an open-loop stream of requests at a fixed rate
through the real server, bounded in time, count and concurrency, with its SLO verdict.

Open loop: request ``i`` is due at ``start + i / rate`` whether or not earlier ones have
answered (a closed loop would slow down with the server and hide its queueing). At most
``concurrency`` requests are in flight; when the server is slower than that, sends fall
behind schedule and the achieved rate shows it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

MAX_DURATION_S = 300.0
MAX_REQUESTS = 200_000
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Plan:
    url: str
    body: bytes
    headers: dict[str, str]
    peak_rps: float
    duration_s: float
    max_requests: int
    concurrency: int
    timeout_s: float = 30.0

    @property
    def target_rps(self) -> float:
        return 2 * self.peak_rps

    @property
    def total(self) -> int:
        """Requests to send: the rate times the duration, within the count bound."""
        wanted = math.ceil(self.target_rps * min(self.duration_s, MAX_DURATION_S))
        return max(1, min(wanted, self.max_requests, MAX_REQUESTS))


@dataclass(slots=True)
class Stats:
    """What has happened so far (mutated by the generator, read by the display)."""

    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    sent: int = 0
    ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.ok + sum(self.failures.values())

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def achieved_rps(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return (self.done - self.ok) / self.done if self.done else 0.0

    def quantile_ms(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]


def verdict(plan: Plan, stats: Stats, slo_p95_ms: float, slo_error_rate: float) -> Verdict:
    """Pass when the rate reached 95 % of 2x peak, p95 met the SLO and errors stayed under it."""
    reasons = []
    if stats.achieved_rps < 0.95 * plan.target_rps:
        reasons.append(
            f"reached {stats.achieved_rps:.1f} rps of the {plan.target_rps:g} rps target"
        )
    p95 = stats.quantile_ms(0.95)
    if p95 is None or p95 > slo_p95_ms:
        reasons.append(
            f"p95 {p95 if p95 is not None else float('nan'):.1f} ms > SLO {slo_p95_ms:g} ms"
        )
    if stats.error_rate > slo_error_rate:
        reasons.append(
            f"error rate {stats.error_rate:.2%} > SLO {slo_error_rate:.2%} "
            f"({', '.join(f'{k}: {v}' for k, v in stats.failures.most_common(3))})"
        )
    return Verdict(not reasons, tuple(reasons))


async def _one(session: Any, plan: Plan, stats: Stats) -> None:
    import aiohttp

    begun = time.perf_counter()
    try:
        async with session.post(plan.url, data=plan.body, headers=plan.headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        stats.failures[type(exc).__name__] += 1
        return
    if 200 <= status < 300:
        stats.ok += 1
        stats.latencies_ms.append((time.perf_counter() - begun) * 1000)
    else:
        stats.failures[f"http {status}"] += 1


async def run(plan: Plan, stats: Stats) -> Stats:
    """Send ``plan.total`` requests at ``plan.target_rps``; returns when all have answered or
    the duration (plus one timeout) is over."""
    import aiohttp

    slots = asyncio.Semaphore(plan.concurrency)
    timeout = aiohttp.ClientTimeout(total=plan.timeout_s)
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    tasks: set[asyncio.Task[None]] = set()

    async def guarded() -> None:
        try:
            await _one(session, plan, stats)
        finally:
            slots.release()

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        stats.started = time.perf_counter()
        interval = 1.0 / plan.target_rps
        for i in range(plan.total):
            delay = stats.started + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() - stats.started > plan.duration_s:
                break  # the time bound wins over the count
            await slots.acquire()
            stats.sent += 1
            task = asyncio.create_task(guarded())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks), timeout=plan.timeout_s)
    stats.finished = time.perf_counter()
    return stats

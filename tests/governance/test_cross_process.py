"""Exactness across OS processes sharing one Redis: the cluster case, with two replicas."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from bastion.governance.budget import BudgetRule, BudgetTarget, Usage, usd_to_micros
from bastion.governance.budget.redis_store import RedisBudgets
from tests.governance import workers
from tests.governance.conftest import REDIS_URL

pytestmark = pytest.mark.redis


def run_in_processes(target: Callable[..., None], *args: Any, processes: int = 2) -> list[int]:
    """Run ``target(*args, barrier, queue)`` in fresh interpreters; collect what each puts."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes, timeout=30), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(processes)]
    for p in procs:
        p.start()
    try:
        counts = [results.get(timeout=30) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=10)
    assert all(p.exitcode == 0 for p in procs)
    return counts


@pytest.mark.parametrize("algorithm", ["sliding_window", "gcra"])
async def test_two_processes_admit_exactly_the_limit(
    redis: Redis, prefix: str, algorithm: str
) -> None:
    counts = run_in_processes(workers.run_limiter, REDIS_URL, prefix, 150, algorithm)
    assert sum(counts) == 100


async def test_two_processes_never_overspend_a_budget(redis: Redis, prefix: str) -> None:
    rule = BudgetRule("tenant", "month", limit_usd=1.0, thresholds=(1.0,))
    store = RedisBudgets(redis, prefix=prefix)
    targets = [BudgetTarget(rule, "acme")]
    spent_before = usd_to_micros("0.90")
    held = await store.reserve(targets, Usage(spent_before, 1, 0))
    await store.commit(held, Usage(spent_before, 1, 0))

    counts = run_in_processes(workers.run_budget, REDIS_URL, prefix, 25, rule)

    assert sum(counts) == 10  # $0.10 left, $0.01 each
    [usage] = await store.usage(targets)
    assert usage.reserved == Usage()
    assert spent_before < usage.spent.micros <= usd_to_micros("1.00")
    assert usage.spent.requests == 11

"""Code run in separate OS processes by the cross-process tests (spawned, so importable)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bastion.errors import BudgetExceeded
from bastion.governance.budget import (
    BudgetRule,
    BudgetTarget,
    Reservation,
    Usage,
    usd_to_micros,
)
from bastion.governance.budget.redis_store import RedisBudgets
from bastion.governance.ratelimit import Quota
from bastion.governance.ratelimit.redis_limiter import RedisLimiter
from bastion.governance.ratelimit.redis_window import RedisWindowLimiter
from bastion.governance.redis_lua import make_redis_client


def run_limiter(
    url: str, prefix: str, checks: int, algorithm: str, barrier: Any, results: Any
) -> None:
    """``checks`` concurrent checks of one key limited to 100, after every process is ready.

    The sliding window admits at most 100 per minute whatever the timing; GCRA refills one
    request per interval, so it is given 100 an hour: no refill fits inside the test even on
    a slow machine."""

    async def main() -> int:
        client = make_redis_client(url, max_connections=32, timeout_s=5.0, wait_s=10.0)
        limiter: RedisLimiter | RedisWindowLimiter
        if algorithm == "gcra":
            limiter = RedisLimiter(client, Quota(100, 3600.0), prefix=prefix)
        else:
            limiter = RedisWindowLimiter(client, Quota(100, 60.0), prefix=prefix)
        await limiter.check("warm-up")  # loads the script and opens a connection
        await asyncio.to_thread(barrier.wait)
        decisions = await asyncio.gather(*(limiter.check("shared") for _ in range(checks)))
        await client.aclose()
        return sum(d.allowed for d in decisions)

    results.put(asyncio.run(main()))


def run_budget(
    url: str, prefix: str, attempts: int, rule: BudgetRule, barrier: Any, results: Any
) -> None:
    """``attempts`` concurrent $0.01 reservations, then commits of at most the estimate."""

    async def main() -> int:
        client = make_redis_client(url, max_connections=32, timeout_s=5.0, wait_s=10.0)
        store = RedisBudgets(client, prefix=prefix)
        targets = [BudgetTarget(rule, "acme")]
        estimate = Usage(usd_to_micros("0.01"), 1, 0)

        async def attempt() -> Reservation | None:
            try:
                return await store.reserve(targets, estimate)
            except BudgetExceeded:
                return None

        await store.usage(targets)  # warm up
        await asyncio.to_thread(barrier.wait)
        held = [r for r in await asyncio.gather(*(attempt() for _ in range(attempts))) if r]
        await asyncio.to_thread(barrier.wait)  # everyone has reserved: now reconcile
        await asyncio.gather(
            *(store.commit(r, Usage(random.randint(1, estimate.micros), 1, 0)) for r in held)
        )
        await client.aclose()
        return len(held)

    results.put(asyncio.run(main()))

"""When Redis is unreachable: rate limits fall back to a local limiter, budgets refuse (503)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from redis.asyncio import Redis

from bastion.errors import Overloaded, RateLimited
from bastion.governance import Governance, MemoryBudgets, MemoryLimiter, Quota, StoreUnavailable
from bastion.governance.budget import (
    BudgetRule,
    BudgetTarget,
    FallbackBudgets,
    Reservation,
    Usage,
)
from bastion.governance.budget.redis_store import RedisBudgets
from bastion.governance.ratelimit import Check, Decision, FallbackLimiter
from bastion.governance.ratelimit.redis_limiter import RedisLimiter
from bastion.governance.redis_lua import make_redis_client
from bastion.pipeline import build_pipeline
from tests.governance.conftest import FakeClock
from tests.governance.test_stage import CENTS, Upstream, make_call

TARGETS = [BudgetTarget(BudgetRule("tenant", "day", limit_usd=1.0), "acme")]


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    """A client for a port where nothing listens: every command fails to connect."""
    client = make_redis_client("redis://127.0.0.1:1/0")
    yield client
    await client.aclose()


class DownLimiter:
    """A primary that is always unreachable, counting how often it was tried."""

    def __init__(self) -> None:
        self.tries = 0

    async def check(self, key: str, cost: int = 1) -> Decision:
        raise AssertionError("not used")

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        self.tries += 1
        raise StoreUnavailable("down")

    async def settle(self, checks: Sequence[Check]) -> None:
        self.tries += 1
        raise StoreUnavailable("down")


async def test_rate_limits_fall_back_to_a_local_limiter(dead_redis: Redis) -> None:
    limiter = FallbackLimiter(RedisLimiter(dead_redis, Quota(3, 60.0)), MemoryLimiter())
    decisions = [await limiter.check("k") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]


async def test_the_store_is_retried_once_per_interval(clock: FakeClock) -> None:
    primary = DownLimiter()
    limiter = FallbackLimiter(
        primary, MemoryLimiter(clock=clock), retry_interval_s=1.0, clock=clock
    )
    for _ in range(10):
        await limiter.check_all([Check("k", Quota(100, 60.0))])
    assert primary.tries == 1
    clock.advance(1.0)
    await limiter.check_all([Check("k", Quota(100, 60.0))])
    assert primary.tries == 2


async def test_rate_limits_can_fail_closed(dead_redis: Redis) -> None:
    limiter = FallbackLimiter(RedisLimiter(dead_redis, Quota(3, 60.0)), None)
    with pytest.raises(Overloaded) as caught:
        await limiter.check("k")
    assert caught.value.type == "overloaded" and caught.value.retry_after == 1.0


async def test_budgets_fail_closed_by_default(dead_redis: Redis) -> None:
    store = FallbackBudgets(RedisBudgets(dead_redis), None)
    with pytest.raises(StoreUnavailable):
        await store.reserve(TARGETS, Usage(1, 1, 0))


async def test_budgets_can_count_locally(dead_redis: Redis) -> None:
    local = MemoryBudgets()
    store = FallbackBudgets(RedisBudgets(dead_redis), local)
    held = await store.reserve(TARGETS, Usage(600_000, 1, 0))
    assert held.store == "local"
    await store.commit(held, Usage(500_000, 1, 0))
    [usage] = await local.usage(TARGETS)
    assert usage.spent.micros == 500_000 and usage.reserved == Usage()


async def test_the_stage_answers_when_the_commit_cannot_be_recorded(clock: FakeClock) -> None:
    class LosesCommits(MemoryBudgets):
        async def commit(self, reservation: Reservation, actual: Usage) -> list:  # type: ignore[type-arg]
            raise StoreUnavailable("gone")

    governance = Governance.from_config(
        {
            "budgets": {"rules": [{"scope": "key", "window": "day", "limit_usd": 1}]},
            "prices": CENTS,
        },
        clock=clock,
    )
    stage = governance.stage()
    stage._budgets = LosesCommits(clock=clock)
    call = make_call(0.1)
    await build_pipeline([stage], Upstream())(call)
    assert call.budget_events == []


@pytest.mark.parametrize(
    ("algorithm", "counter"),
    [
        ("sliding_window", "rlw:key:requests:2/60/None:k1:z"),
        ("gcra", "rl:key:requests:2/60/None:k1"),
    ],
)
async def test_governance_on_redis(redis: Redis, prefix: str, algorithm: str, counter: str) -> None:
    config = {
        "store": "redis",
        "key_prefix": prefix,
        "rate_limits": {
            "algorithm": algorithm,
            "rules": [{"scope": "key", "limit": 2, "period_s": 60}],
        },
        "budgets": {"rules": [{"scope": "key", "window": "day", "limit_usd": 1}]},
        "prices": CENTS,
    }
    replicas = [Governance.from_config(config, redis=redis).stage() for _ in range(2)]
    await build_pipeline([replicas[0]], Upstream())(make_call(0.5))
    await build_pipeline([replicas[1]], Upstream())(make_call(0.5))
    with pytest.raises(RateLimited):
        await build_pipeline([replicas[0]], Upstream())(make_call())
    assert await redis.exists(prefix + counter) == 1


async def test_governance_with_redis_down(dead_redis: Redis) -> None:
    config = {
        "store": "redis",
        "rate_limits": {"rules": [{"scope": "key", "limit": 1, "period_s": 60}]},
        "budgets": {"rules": [{"scope": "key", "window": "day", "limit_usd": 1}]},
    }
    rate_only = Governance.from_config({**config, "budgets": {}}, redis=dead_redis).stage()
    await build_pipeline([rate_only], Upstream())(make_call())  # the local limiter admits
    with pytest.raises(RateLimited):
        await build_pipeline([rate_only], Upstream())(make_call())
    both = Governance.from_config(config, redis=dead_redis).stage()
    with pytest.raises(Overloaded):
        await build_pipeline([both], Upstream())(make_call(0.1))

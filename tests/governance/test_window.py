"""Sliding windows: at most ``limit`` units in any span of ``period_s``, in memory and on
Redis, with all-or-none checks over several keys and refunds from the newest charges."""

from __future__ import annotations

import asyncio
import math

import pytest
from redis.asyncio import Redis

from bastion.governance.ratelimit import Check, Quota
from bastion.governance.ratelimit.redis_window import RedisWindowLimiter
from bastion.governance.ratelimit.window import WindowMemoryLimiter
from tests.governance.conftest import FakeClock

MINUTE = Quota(100, 60.0)


async def test_exactly_the_limit_in_any_window_of_the_period(clock: FakeClock) -> None:
    limiter = WindowMemoryLimiter(MINUTE, clock=clock)
    first = [await limiter.check("k") for _ in range(150)]
    assert sum(d.allowed for d in first) == 100
    assert [d.remaining for d in first[:3]] == [99, 98, 97]
    refused = first[-1]
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after_s == pytest.approx(60.0)  # when the first charge leaves
    clock.advance(59.999)  # GCRA would have refilled ~99 units by now; the window none
    assert not (await limiter.check("k")).allowed
    clock.advance(0.001)  # the window is (now - 60 s, now]: the first 100 have left it
    assert (await limiter.check("k")).allowed


async def test_units_leave_the_window_one_charge_at_a_time(clock: FakeClock) -> None:
    limiter = WindowMemoryLimiter(Quota(10, 10.0), clock=clock)
    for _ in range(10):
        assert (await limiter.check("k")).allowed
        clock.advance(1.0)  # charges at t = 0, 1, …, 9; now t = 10: the first has left
    assert (await limiter.check("k")).allowed
    refused = await limiter.check("k", 3)
    assert not refused.allowed and refused.retry_after_s == pytest.approx(3.0)
    assert refused.reset_after_s == pytest.approx(10.0)


async def test_all_or_none_and_impossible_costs(clock: FakeClock) -> None:
    limiter = WindowMemoryLimiter(clock=clock)
    small, large = Quota(2, 60.0), Quota(100, 60.0)
    both = [Check("a", small), Check("b", large)]
    assert all(d.allowed for d in await limiter.check_all(both))
    assert all(d.allowed for d in await limiter.check_all(both))
    third = await limiter.check_all(both)
    assert not any(d.allowed for d in third)
    assert third[1].remaining == 98  # "b" was not charged for the refused call
    never = (await limiter.check_all([Check("c", small, 3)]))[0]
    assert not never.allowed and math.isinf(never.retry_after_s)


async def test_refunds_come_off_the_newest_charges(clock: FakeClock) -> None:
    limiter = WindowMemoryLimiter(clock=clock)
    tokens = Quota(1000, 60.0)
    await limiter.check_all([Check("t", tokens, 600)])  # reserved for max_tokens
    clock.advance(30)
    await limiter.check_all([Check("t", tokens, 300)])
    await limiter.settle([Check("t", tokens, -250)])  # the second used 50 of its 300
    assert (await limiter.check_all([Check("t", tokens, 0)]))[0].remaining == 350
    clock.advance(30)  # the first charge (600) leaves the window
    assert (await limiter.check_all([Check("t", tokens, 0)]))[0].remaining == 950


async def test_idle_keys_are_swept(clock: FakeClock) -> None:
    limiter = WindowMemoryLimiter(Quota(5, 1.0), clock=clock)
    for i in range(2000):
        await limiter.check(f"k{i}")
    clock.advance(2.0)
    for _ in range(2100):
        await limiter.check("hot")
    assert len(limiter) <= 2


@pytest.mark.redis
async def test_redis_admits_exactly_the_limit_under_concurrency(redis: Redis, prefix: str) -> None:
    limiter = RedisWindowLimiter(redis, MINUTE, prefix=prefix)
    decisions = await asyncio.gather(*(limiter.check("k") for _ in range(300)))
    assert sum(d.allowed for d in decisions) == 100
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(100))
    refused = [d for d in decisions if not d.allowed]
    assert all(59.0 < d.retry_after_s <= 60.0 for d in refused)


@pytest.mark.redis
async def test_redis_matches_memory(redis: Redis, prefix: str, clock: FakeClock) -> None:
    quota = Quota(50, 3600.0)
    remote = RedisWindowLimiter(redis, quota, prefix=prefix)
    local = WindowMemoryLimiter(quota, clock=clock)
    costs = [1, 5, 10, 3, 7, 20, 1, 1, 2, 8, 4, 1, 60]
    got = [(await remote.check("k", c)) for c in costs]
    want = [(await local.check("k", c)) for c in costs]
    assert [(d.allowed, d.remaining) for d in got] == [(d.allowed, d.remaining) for d in want]


@pytest.mark.redis
async def test_redis_all_or_none_and_refunds(redis: Redis, prefix: str) -> None:
    limiter = RedisWindowLimiter(redis, prefix=prefix)
    small, tokens = Quota(1, 60.0), Quota(1000, 60.0)
    ok = await limiter.check_all([Check("a", small), Check("t", tokens, 600)])
    assert all(d.allowed for d in ok)
    refused = await limiter.check_all([Check("a", small), Check("t", tokens, 100)])
    assert not any(d.allowed for d in refused) and refused[1].remaining == 400
    await limiter.check_all([Check("t", tokens, 300)])
    await limiter.settle([Check("t", tokens, -250)])
    after = await limiter.check_all([Check("t", tokens, 0)])
    assert after[0].remaining == 350
    await limiter.settle([Check("t", tokens, -10_000)])  # more than was charged: floor 0
    assert (await limiter.check_all([Check("t", tokens, 0)]))[0].remaining == 1000
    never = await limiter.check_all([Check("t", tokens, 1001)])
    assert not never[0].allowed and math.isinf(never[0].retry_after_s)


@pytest.mark.redis
async def test_redis_keys_expire_with_the_window(redis: Redis, prefix: str) -> None:
    limiter = RedisWindowLimiter(redis, Quota(3, 0.2), prefix=prefix)
    assert all([(await limiter.check("k")).allowed for _ in range(3)])
    assert not (await limiter.check("k")).allowed
    await asyncio.sleep(0.35)
    assert (await limiter.check("k")).allowed
    await asyncio.sleep(0.5)
    assert await redis.exists(f"{prefix}k:z", f"{prefix}k:m") == 0


def test_burst_is_refused_with_a_sliding_window() -> None:
    from bastion.errors import ConfigError
    from bastion.governance import Governance

    rules = [{"scope": "key", "limit": 10, "period_s": 60, "burst": 5}]
    with pytest.raises(ConfigError, match="burst applies to algorithm gcra only"):
        Governance.from_config({"rate_limits": {"rules": rules}})
    gcra = Governance.from_config({"rate_limits": {"algorithm": "gcra", "rules": rules}})
    assert gcra.rate_policy.rules[0].burst == 5

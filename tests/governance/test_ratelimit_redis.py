"""GCRA on Redis: the same decisions as in memory, atomic multi-key checks, script loading."""

from __future__ import annotations

import asyncio
import math
import secrets

import pytest
from redis.asyncio import Redis

from bastion.governance.ratelimit import Check, MemoryLimiter, Quota
from bastion.governance.ratelimit.redis_limiter import RedisLimiter
from bastion.governance.redis_lua import LuaScript
from tests.governance.conftest import REDIS_URL

pytestmark = pytest.mark.redis


async def test_admits_exactly_the_limit(redis: Redis, prefix: str) -> None:
    limiter = RedisLimiter(redis, Quota(100, 60.0), prefix=prefix)
    decisions = await asyncio.gather(*(limiter.check("k") for _ in range(150)))
    assert sum(d.allowed for d in decisions) == 100
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(100))
    refused = [d for d in decisions if not d.allowed]
    assert all(0 < d.retry_after_s <= 0.6 for d in refused)


async def test_matches_the_memory_limiter(redis: Redis, prefix: str) -> None:
    # A quota slow enough (36 s per unit) that the real time passing does not matter.
    quota = Quota(100, 3600.0, burst=40)
    remote = RedisLimiter(redis, quota, prefix=prefix)
    local = MemoryLimiter(quota)
    costs = [1, 5, 10, 3, 7, 20, 1, 1, 2, 8, 4, 1]
    got, want = [], []
    for c in costs:  # in pairs: only one round trip of real time between the two answers
        got.append(await remote.check("k", c))
        want.append(await local.check("k", c))
    assert [(d.allowed, d.remaining) for d in got] == [(d.allowed, d.remaining) for d in want]
    for g, w in zip(got, want, strict=True):
        assert g.retry_after_s == pytest.approx(w.retry_after_s, abs=0.05)


async def test_two_instances_share_the_counter(redis: Redis, prefix: str) -> None:
    other = Redis.from_url(REDIS_URL)  # a second client with its own pool
    try:
        a = RedisLimiter(redis, Quota(10, 60.0), prefix=prefix)
        b = RedisLimiter(other, Quota(10, 60.0), prefix=prefix)
        results = await asyncio.gather(*(x.check("k") for x in (a, b) * 10))
        assert sum(d.allowed for d in results) == 10
    finally:
        await other.aclose()


async def test_check_all_is_all_or_nothing(redis: Redis, prefix: str) -> None:
    limiter = RedisLimiter(redis, prefix=prefix)
    loose, tight = Quota(100, 60.0), Quota(1, 60.0)
    assert all(d.allowed for d in await limiter.check_all([Check("a", loose), Check("b", tight)]))
    decisions = await limiter.check_all([Check("a", loose), Check("b", tight)])
    assert [d.allowed for d in decisions] == [False, False]
    assert decisions[0].remaining == 99
    assert decisions[1].retry_after_s > 59
    assert (await limiter.check_all([Check("a", loose)]))[0].remaining == 98


async def test_keys_expire_when_rested(redis: Redis, prefix: str) -> None:
    limiter = RedisLimiter(redis, Quota(10, 60.0), prefix=prefix)
    await limiter.check("k", cost=3)
    ttl_ms = await redis.pttl(prefix + "k")
    assert 0 < ttl_ms <= 18_001  # 3 units of 6 s
    await limiter.settle([Check("k", Quota(10, 60.0), -3)])
    assert await redis.exists(prefix + "k") == 0


async def test_settle_charges_debt(redis: Redis, prefix: str) -> None:
    limiter = RedisLimiter(redis, prefix=prefix)
    quota = Quota(100, 60.0)
    await limiter.settle([Check("k", quota, 150)])
    refused = (await limiter.check_all([Check("k", quota, 0)]))[0]
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(30.0, abs=0.5)


async def test_impossible_cost_is_refused_without_a_round_trip(redis: Redis, prefix: str) -> None:
    limiter = RedisLimiter(redis, Quota(100, 60.0, burst=10), prefix=prefix)
    decision = await limiter.check("k", cost=11)
    assert not decision.allowed and math.isinf(decision.retry_after_s)
    assert await redis.exists(prefix + "k") == 0


async def test_awkward_fractions_stay_exact(redis: Redis, prefix: str) -> None:
    # Intervals of 3600/7 s, and of 400 days / 149,999,993 (a denominator of 149,999,993):
    # the remainders are carried exactly, so ten big charges leave exactly 9 of the burst.
    limiter = RedisLimiter(redis, Quota(7, 3600.0), prefix=prefix)
    assert sum([(await limiter.check("a")).allowed for _ in range(10)]) == 7
    quota = Quota(149_999_993, 400 * 86400.0, burst=99_999_989)
    assert quota.interval[1] == 149_999_993
    big = RedisLimiter(redis, quota, prefix=prefix)
    assert all([(await big.check("b", 9_999_998)).allowed for _ in range(10)])
    last = await big.check("b", 12)
    assert last.allowed is False and last.remaining == 9


async def test_script_is_loaded_again_after_noscript(redis: Redis) -> None:
    script = LuaScript(f"-- {secrets.token_hex(8)}\nreturn tonumber(ARGV[1]) + 1")
    assert await redis.script_exists(script.sha) == [False]
    assert await script(redis, [], [41]) == 42
    assert await redis.script_exists(script.sha) == [True]
    assert await script(redis, [], [1]) == 2

"""GCRA on the in-process limiter, driven by a fake clock."""

from __future__ import annotations

import math

import pytest

from bastion.governance.ratelimit import Check, MemoryLimiter, Quota
from tests.governance.conftest import FakeClock


async def test_admits_the_burst_then_one_per_interval(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(100, 60.0), clock=clock)
    decisions = [await limiter.check("k") for _ in range(150)]
    assert sum(d.allowed for d in decisions) == 100
    assert [d.remaining for d in decisions[:3]] == [99, 98, 97]
    refused = decisions[100]
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after_s == pytest.approx(0.6)
    assert refused.reset_after_s == pytest.approx(60.0)
    assert refused.limit == 100

    clock.advance(0.599)
    assert not (await limiter.check("k")).allowed
    clock.advance(0.001)
    assert (await limiter.check("k")).allowed
    assert not (await limiter.check("k")).allowed


async def test_rests_back_to_the_full_burst(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(10, 1.0), clock=clock)
    for _ in range(10):
        assert (await limiter.check("k")).allowed
    clock.advance(1.0)
    first = await limiter.check("k")
    assert first.allowed and first.remaining == 9
    assert first.reset_after_s == pytest.approx(0.1)


async def test_a_smaller_burst_spreads_the_limit(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(60, 60.0, burst=5), clock=clock)
    assert sum([(await limiter.check("k")).allowed for _ in range(20)]) == 5
    clock.advance(1.0)
    assert [(await limiter.check("k")).allowed for _ in range(2)] == [True, False]


async def test_counts_are_exact_with_awkward_intervals(clock: FakeClock) -> None:
    # 7 per minute: the interval 60/7 s is not a finite decimal; the arithmetic stays exact.
    limiter = MemoryLimiter(Quota(7, 60.0), clock=clock)
    allowed = 0
    for _ in range(6001):  # every 0.1 s for 600 s, both ends included
        allowed += (await limiter.check("k")).allowed
        clock.advance(round(clock() + 0.1, 6) - clock())
    assert allowed == 7 + 70


async def test_cost_is_charged_in_units(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(1000, 60.0), clock=clock)
    assert (await limiter.check("k", cost=600)).remaining == 400
    refused = await limiter.check("k", cost=500)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(6.0)  # 100 tokens at 0.06 s each
    assert (await limiter.check("k", cost=400)).allowed


async def test_a_cost_above_the_burst_can_never_fit(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(1000, 60.0, burst=100), clock=clock)
    decision = await limiter.check("k", cost=101)
    assert not decision.allowed
    assert math.isinf(decision.retry_after_s)
    assert (await limiter.check("k", cost=100)).allowed


async def test_check_all_charges_nothing_when_one_refuses(clock: FakeClock) -> None:
    limiter = MemoryLimiter(clock=clock)
    loose, tight = Quota(100, 60.0), Quota(1, 60.0)
    assert (await limiter.check_all([Check("a", loose), Check("b", tight)]))[1].allowed
    decisions = await limiter.check_all([Check("a", loose), Check("b", tight)])
    assert [d.allowed for d in decisions] == [False, False]
    assert decisions[0].retry_after_s == 0 and decisions[1].retry_after_s > 0
    assert decisions[0].remaining == 99  # the passing rule was not charged
    assert (await limiter.check_all([Check("a", loose)]))[0].remaining == 98


async def test_settle_charges_debt_and_refunds(clock: FakeClock) -> None:
    limiter = MemoryLimiter(clock=clock)
    quota = Quota(100, 60.0)
    await limiter.settle([Check("k", quota, 150)])  # actual tokens far above the estimate
    refused = (await limiter.check_all([Check("k", quota, 0)]))[0]
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(30.0)
    await limiter.settle([Check("k", quota, -150)])
    assert len(limiter) == 0
    assert (await limiter.check_all([Check("k", quota, 100)]))[0].allowed


async def test_memory_is_bounded(clock: FakeClock) -> None:
    limiter = MemoryLimiter(Quota(10, 1.0), clock=clock, max_keys=5000)
    for i in range(3000):
        await limiter.check(f"k{i}")
    assert len(limiter) == 3000
    clock.advance(1.0)  # every key is rested now: equivalent to absent
    for _ in range(3000):
        await limiter.check("hot")
    assert len(limiter) <= 2
    for i in range(6000):
        await limiter.check(f"x{i}")
    assert len(limiter) <= 5000


def test_quota_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="limit"):
        Quota(0, 60.0)
    with pytest.raises(ValueError, match="period_s"):
        Quota(1, 0.0)
    with pytest.raises(ValueError, match="ten years"):
        Quota(1, 86400.0 * 365, burst=11)

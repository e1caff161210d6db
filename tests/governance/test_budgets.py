"""Reserve, commit and release on both budget stores (memory and Redis), on a fake clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bastion.errors import BudgetExceeded, InvalidRequest
from bastion.governance.budget import (
    BudgetRule,
    BudgetStore,
    BudgetTarget,
    MemoryBudgets,
    Reservation,
    Usage,
    usd_to_micros,
)
from bastion.governance.budget.redis_store import RedisBudgets
from tests.governance.conftest import FakeClock

Factory = Callable[[FakeClock], BudgetStore]
NOON = datetime(2025, 6, 15, 12, 0, tzinfo=UTC).timestamp()
CENT = usd_to_micros("0.01")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_store(request: pytest.FixtureRequest, prefix: str) -> Factory:
    """Builds stores of one kind; Redis stores share a prefix, like replicas do."""
    if request.param == "memory":
        return lambda clock: MemoryBudgets(reservation_ttl_s=60.0, clock=clock)
    redis = request.getfixturevalue("redis")
    return lambda clock: RedisBudgets(redis, prefix=prefix, reservation_ttl_s=60.0, clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOON)


def tenant(
    limit_usd: float | None = 1.0,
    limit_requests: int | None = None,
    limit_tokens: int | None = None,
    thresholds: tuple[float, ...] = (0.5, 0.8, 1.0),
) -> list[BudgetTarget]:
    rule = BudgetRule("tenant", "day", limit_usd, limit_requests, limit_tokens, thresholds)
    return [BudgetTarget(rule, "acme")]


async def spend(store: BudgetStore, targets: list[BudgetTarget], usd: str) -> None:
    held = await store.reserve(targets, Usage(usd_to_micros(usd), 1, 0))
    await store.commit(held, Usage(usd_to_micros(usd), 1, 0))


async def test_commit_replaces_the_reservation(make_store: Factory, clock: FakeClock) -> None:
    store, targets = make_store(clock), tenant()
    held = await store.reserve(targets, Usage(50 * CENT, 1, 100))
    [usage] = await store.usage(targets)
    assert (usage.spent, usage.reserved) == (Usage(), Usage(50 * CENT, 1, 100))
    await store.commit(held, Usage(30 * CENT, 1, 60))
    [usage] = await store.usage(targets)
    assert (usage.spent, usage.reserved) == (Usage(30 * CENT, 1, 60), Usage())
    await store.release(held)  # too late: a release after the commit changes nothing
    assert (await store.usage(targets))[0].spent == Usage(30 * CENT, 1, 60)


async def test_release_spends_nothing(make_store: Factory, clock: FakeClock) -> None:
    store, targets = make_store(clock), tenant()
    await store.release(await store.reserve(targets, Usage(90 * CENT, 1, 0)))
    [usage] = await store.usage(targets)
    assert (usage.spent, usage.reserved) == (Usage(), Usage())


async def test_refusal_reserves_nothing(make_store: Factory, clock: FakeClock) -> None:
    store, targets = make_store(clock), tenant()
    await store.reserve(targets, Usage(60 * CENT, 1, 0))
    with pytest.raises(BudgetExceeded) as caught:
        await store.reserve(targets, Usage(50 * CENT, 1, 0))
    assert caught.value.retry_after == 12 * 3600  # seconds until the UTC day ends
    assert "$0.6000 of its $1.0000 daily budget" in caught.value.message
    assert (await store.usage(targets))[0].reserved == Usage(60 * CENT, 1, 0)
    await store.reserve(targets, Usage(40 * CENT, 1, 0))  # exactly up to the limit


async def test_an_estimate_above_the_whole_budget_is_invalid(
    make_store: Factory, clock: FakeClock
) -> None:
    with pytest.raises(InvalidRequest, match="exceeds the whole daily budget"):
        await make_store(clock).reserve(tenant(), Usage(101 * CENT, 1, 0))


async def test_a_used_up_budget_refuses_even_free_calls(
    make_store: Factory, clock: FakeClock
) -> None:
    store, targets = make_store(clock), tenant()
    await spend(store, targets, "1.00")
    with pytest.raises(BudgetExceeded):
        await store.reserve(targets, Usage(0, 1, 0))


async def test_request_and_token_quotas(make_store: Factory, clock: FakeClock) -> None:
    store = make_store(clock)
    targets = tenant(limit_usd=None, limit_requests=3, limit_tokens=1000)
    for _ in range(2):
        await store.commit(await store.reserve(targets, Usage(0, 1, 100)), Usage(0, 1, 100))
    with pytest.raises(BudgetExceeded, match="tokens"):
        await store.reserve(targets, Usage(0, 1, 900))
    await store.reserve(targets, Usage(0, 1, 800))
    with pytest.raises(BudgetExceeded, match="requests"):
        await store.reserve(targets, Usage(0, 1, 0))


async def test_every_rule_must_fit(make_store: Factory, clock: FakeClock) -> None:
    store = make_store(clock)
    key = BudgetTarget(BudgetRule("key", "day", limit_usd=10.0), "k1")
    team = BudgetTarget(BudgetRule("team", "month", limit_usd=0.5), "acme/ml")
    await spend(store, [key, team], "0.40")
    with pytest.raises(BudgetExceeded, match="team 'acme/ml'"):
        await store.reserve([key, team], Usage(20 * CENT, 1, 0))
    [k, t] = await store.usage([key, team])
    assert k.reserved == Usage() and t.reserved == Usage()
    assert k.spent.micros == t.spent.micros == 40 * CENT


async def test_fifty_concurrent_reservations_never_overspend(
    make_store: Factory, clock: FakeClock
) -> None:
    store, targets = make_store(clock), tenant()
    await spend(store, targets, "0.90")

    async def call() -> bool:
        try:
            held = await store.reserve(targets, Usage(CENT, 1, 0))
        except BudgetExceeded:
            return False
        await asyncio.sleep(0)
        await store.commit(held, Usage(random.randint(CENT // 2, CENT), 1, 0))
        return True

    admitted = await asyncio.gather(*(call() for _ in range(50)))
    [usage] = await store.usage(targets)
    assert usage.spent.micros <= usd_to_micros("1.00")
    assert usage.reserved == Usage()
    assert sum(admitted) >= 10


async def test_fifty_concurrent_holds_admit_exactly_what_fits(
    make_store: Factory, clock: FakeClock
) -> None:
    store, targets = make_store(clock), tenant()
    await spend(store, targets, "0.90")

    async def hold() -> Reservation | None:
        try:
            return await store.reserve(targets, Usage(CENT, 1, 0))
        except BudgetExceeded:
            return None

    held = [r for r in await asyncio.gather(*(hold() for _ in range(50))) if r]
    assert len(held) == 10
    await asyncio.gather(*(store.commit(r, Usage(CENT, 1, 0)) for r in held))
    assert (await store.usage(targets))[0].spent.micros == usd_to_micros("1.00")


async def test_unreconciled_reservations_expire(make_store: Factory, clock: FakeClock) -> None:
    store, targets = make_store(clock), tenant()
    lost = await store.reserve(targets, Usage(80 * CENT, 1, 0))  # its process "crashed"
    with pytest.raises(BudgetExceeded):
        await store.reserve(targets, Usage(30 * CENT, 1, 0))
    clock.advance(61.0)
    assert (await store.usage(targets))[0].reserved == Usage()
    await store.reserve(targets, Usage(30 * CENT, 1, 0))
    await store.commit(lost, Usage(10 * CENT, 1, 0))  # a late commit still counts
    assert (await store.usage(targets))[0].spent.micros == 10 * CENT


async def test_thresholds_fire_once_per_window(make_store: Factory, clock: FakeClock) -> None:
    store, targets = make_store(clock), tenant(thresholds=(0.5, 0.8, 1.0))
    held = await store.reserve(targets, Usage(60 * CENT, 1, 0))
    [event] = await store.commit(held, Usage(50 * CENT, 1, 0))
    assert (event.scope, event.key, event.window, event.unit) == (
        "tenant",
        "acme",
        "2025-06-15",
        "usd",
    )
    assert (event.fraction, event.spent, event.limit) == (0.5, 0.5, 1.0)
    held = await store.reserve(targets, Usage(10 * CENT, 1, 0))
    assert await store.commit(held, Usage(10 * CENT, 1, 0)) == []
    held = await store.reserve(targets, Usage(40 * CENT, 1, 0))
    events = await store.commit(held, Usage(40 * CENT, 1, 0))
    assert [e.fraction for e in events] == [0.8, 1.0]

    clock.advance(12 * 3600)  # the next UTC day: a new window, the thresholds arm again
    held = await store.reserve(targets, Usage(60 * CENT, 1, 0))
    [event] = await store.commit(held, Usage(60 * CENT, 1, 0))
    assert (event.window, event.fraction) == ("2025-06-16", 0.5)


@pytest.mark.redis
async def test_thresholds_fire_once_across_replicas(
    redis: Redis, prefix: str, clock: FakeClock
) -> None:
    a, b = (RedisBudgets(redis, prefix=prefix, clock=clock) for _ in range(2))
    targets = tenant(thresholds=(0.5,))
    held = [await s.reserve(targets, Usage(30 * CENT, 1, 0)) for s in (a, b)]
    events = await asyncio.gather(
        a.commit(held[0], Usage(30 * CENT, 1, 0)), b.commit(held[1], Usage(30 * CENT, 1, 0))
    )
    assert sorted(len(e) for e in events) == [0, 1]


async def test_windows_roll_over_at_utc_midnight_and_month_end(
    make_store: Factory, clock: FakeClock
) -> None:
    clock = FakeClock(datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    store = make_store(clock)
    day, month = tenant(), [BudgetTarget(BudgetRule("key", "month", limit_usd=2.0), "k")]
    await spend(store, day + month, "1.00")
    with pytest.raises(BudgetExceeded) as caught:
        await store.reserve(day, Usage(CENT, 1, 0))
    assert caught.value.retry_after == 1
    clock.advance(1.0)
    [d, m] = await store.usage(day + month)
    assert (d.bucket.window_id, m.bucket.window_id) == ("2026-01-01", "2026-01")
    assert d.spent == m.spent == Usage()
    await spend(store, day + month, "1.00")


async def test_memory_store_forgets_old_windows(clock: FakeClock) -> None:
    store = MemoryBudgets(retention_s=86400.0, clock=clock)
    for i in range(100):
        await spend(store, [BudgetTarget(BudgetRule("key", "day", limit_usd=1.0), f"k{i}")], "0.01")
    clock.advance(3 * 86400.0)
    for _ in range(1100):
        await spend(store, tenant(limit_usd=100.0), "0.0001")
    assert len(store._states) == 1
    [state] = store._states.values()
    assert state.live == {} and len(state.expiry) <= 64 + 1  # settled holds leave nothing

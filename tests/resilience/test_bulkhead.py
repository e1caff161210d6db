"""The bulkhead: bounded concurrency, a bounded queue, and refusals instead of endless waits."""

from __future__ import annotations

import asyncio
import time

import pytest

from bastion.errors import Overloaded
from bastion.resilience import Bulkhead, Deadline


async def hold(bulkhead: Bulkhead, release: asyncio.Event, order: list[str], name: str) -> None:
    async with bulkhead.slot(Deadline.after(2)):
        order.append(name)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_runs_up_to_the_limit_and_queues_in_order() -> None:
    bulkhead = Bulkhead(2, max_waiting=2)
    release, order = asyncio.Event(), list[str]()
    tasks = [asyncio.create_task(hold(bulkhead, release, order, n)) for n in "abcd"]
    await settle()
    assert (bulkhead.in_flight, bulkhead.waiting, order) == (2, 2, ["a", "b"])
    release.set()
    async with asyncio.timeout(1):
        await asyncio.gather(*tasks)
    assert order == ["a", "b", "c", "d"]
    assert (bulkhead.in_flight, bulkhead.waiting) == (0, 0)


async def test_full_queue_is_refused_at_once_with_retry_after() -> None:
    bulkhead = Bulkhead(1, max_waiting=1, retry_after_s=0.5)
    release, order = asyncio.Event(), list[str]()
    tasks = [asyncio.create_task(hold(bulkhead, release, order, n)) for n in "ab"]
    await settle()
    with pytest.raises(Overloaded) as info:
        async with bulkhead.slot(Deadline.after(10)):
            pytest.fail("must not run")
    assert info.value.retry_after == 0.5
    assert info.value.details == {"in_flight": 1, "waiting": 1}
    release.set()
    await asyncio.gather(*tasks)


async def test_no_queue_means_refuse_when_busy() -> None:
    bulkhead = Bulkhead(1)
    async with bulkhead.slot():
        with pytest.raises(Overloaded):
            async with bulkhead.slot():
                pass
    async with bulkhead.slot():
        assert bulkhead.in_flight == 1


@pytest.mark.parametrize("bound", ["deadline", "max_wait"])
async def test_waiting_past_the_deadline_is_refused_and_leaks_nothing(bound: str) -> None:
    bulkhead = Bulkhead(1, max_waiting=5, max_wait_s=0.02 if bound == "max_wait" else None)
    deadline = Deadline.after(0.02 if bound == "deadline" else 5)
    async with bulkhead.slot():
        with pytest.raises(Overloaded, match="no free slot"):
            async with asyncio.timeout(1), bulkhead.slot(deadline):
                pass
        assert bulkhead.waiting == 0
    assert bulkhead.in_flight == 0


async def test_cancelled_waiter_does_not_take_a_slot() -> None:
    bulkhead = Bulkhead(1, max_waiting=2)
    release, order = asyncio.Event(), list[str]()
    first = asyncio.create_task(hold(bulkhead, release, order, "a"))
    second = asyncio.create_task(hold(bulkhead, release, order, "b"))
    third = asyncio.create_task(hold(bulkhead, release, order, "c"))
    await settle()
    second.cancel()
    await settle()
    assert bulkhead.waiting == 1
    release.set()
    await asyncio.gather(first, third)
    assert order == ["a", "c"]
    assert (bulkhead.in_flight, bulkhead.waiting) == (0, 0)


async def test_waiter_cancelled_right_after_being_handed_the_slot_passes_it_on() -> None:
    bulkhead = Bulkhead(1, max_waiting=2)
    release, order = asyncio.Event(), list[str]()
    release.set()
    holder = bulkhead.slot()
    await holder.__aenter__()
    second = asyncio.create_task(hold(bulkhead, release, order, "b"))
    third = asyncio.create_task(hold(bulkhead, release, order, "c"))
    await settle()
    await holder.__aexit__(None, None, None)  # hands the slot to "b", which has not run yet
    second.cancel()
    await asyncio.gather(second, third, return_exceptions=True)
    assert second.cancelled()
    assert order == ["c"]
    assert (bulkhead.in_flight, bulkhead.waiting) == (0, 0)


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Bulkhead(0)


async def test_the_queue_age_is_that_of_its_oldest_waiter_and_empties_with_it() -> None:
    bulkhead = Bulkhead(1, max_waiting=2)
    release, order = asyncio.Event(), list[str]()
    assert bulkhead.oldest_wait_s() == 0.0
    first = asyncio.create_task(hold(bulkhead, release, order, "a"))
    await settle()
    waiter = asyncio.create_task(hold(bulkhead, release, order, "b"))
    await settle()
    assert bulkhead.waiting == 1
    assert bulkhead.oldest_wait_s(time.monotonic() + 5.0) >= 5.0
    release.set()
    await asyncio.gather(first, waiter)
    assert bulkhead.waiting == 0 and bulkhead.oldest_wait_s() == 0.0

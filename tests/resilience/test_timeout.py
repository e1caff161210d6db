"""Clocks and deadlines: parsing, arithmetic, and running awaitables against them."""

from __future__ import annotations

import asyncio
import math

import pytest

from bastion.errors import InvalidRequest, Timeout
from bastion.resilience import (
    Deadline,
    FakeClock,
    SystemClock,
    deadline_scope,
    run_with_deadline,
    run_with_timeout,
)


async def test_fake_clock_advances_on_sleep_and_records_it() -> None:
    clock = FakeClock(start=10)
    await clock.sleep(2.5)
    await clock.sleep(-1)
    assert clock.now() == 12.5
    assert clock.sleeps == [2.5, -1]
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_system_clock_is_monotonic() -> None:
    clock = SystemClock()
    before = clock.now()
    await clock.sleep(0)
    assert clock.now() >= before


def test_deadline_arithmetic() -> None:
    clock = FakeClock()
    deadline = Deadline.after(2, clock=clock)
    assert deadline.remaining() == 2
    assert not deadline.expired
    clock.advance(3)
    assert deadline.remaining() == 0
    assert deadline.expired
    never = Deadline.never(clock=clock)
    assert never.remaining() == math.inf
    soon = Deadline.after(1, clock=clock)
    assert never.min(soon) is soon
    assert soon.min(never) is soon
    assert never.within(0.5).remaining() == 0.5
    assert soon.within(5) is soon


@pytest.mark.parametrize(
    ("value", "kwargs", "seconds"),
    [
        ("250ms", {}, 0.25),
        ("1.5s", {}, 1.5),
        (" 2 ", {}, 2.0),
        ("1500", {"bare_unit": "ms"}, 1.5),
        ("10S", {}, 10.0),
        (3, {}, 3.0),
        ("60", {"max_s": 5.0}, 5.0),
    ],
)
def test_from_header(value: str | float, kwargs: dict[str, object], seconds: float) -> None:
    clock = FakeClock()
    deadline = Deadline.from_header(value, clock=clock, **kwargs)  # type: ignore[arg-type]
    assert deadline.remaining() == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "abc", "0", "-1", "1.5m", "nan", "inf", 0, -2.0, math.inf])
def test_from_header_rejects_non_durations(value: str | float) -> None:
    with pytest.raises(InvalidRequest):
        Deadline.from_header(value)


async def test_run_with_deadline() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert await run_with_deadline(answer(), Deadline.after(1)) == 42
    assert await run_with_deadline(answer(), Deadline.never()) == 42
    with pytest.raises(Timeout, match="fetch timed out"):
        await run_with_deadline(asyncio.sleep(5), Deadline.after(0.02), what="fetch")
    with pytest.raises(Timeout):
        await run_with_timeout(asyncio.sleep(5), 0.02)


async def test_expired_deadline_never_starts_the_work() -> None:
    started = False

    async def work() -> None:
        nonlocal started
        started = True

    clock = FakeClock()
    deadline = Deadline.after(1, clock=clock)
    clock.advance(1)
    with pytest.raises(Timeout, match="before it started"):
        await run_with_deadline(work(), deadline)
    assert not started
    with pytest.raises(Timeout):
        async with deadline_scope(deadline):
            started = True
    assert not started

"""race(): the primary alone when it is quick; a hedge when it is slow; the loser cancelled or
closed; the primary's error when both fail; nothing left running when the caller goes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from bastion.errors import Timeout, UpstreamUnavailable
from bastion.gateway.hedging import race


async def _after(seconds: float, value: str, fail: Exception | None = None) -> str:
    await asyncio.sleep(seconds)
    if fail is not None:
        raise fail
    return value


class Hedges:
    def __init__(self) -> None:
        self.started = 0
        self.discarded: list[str] = []

    def start(self, seconds: float = 0.0, fail: Exception | None = None) -> object:
        def start() -> Awaitable[str] | None:
            self.started += 1
            return _after(seconds, "hedge", fail)

        return start

    async def discard(self, value: str) -> None:
        self.discarded.append(value)


async def test_a_quick_primary_sends_no_hedge() -> None:
    h = Hedges()
    out = await race(_after(0, "primary"), h.start(), 5.0, h.discard)  # type: ignore[arg-type]
    assert (out.winner, out.hedged, out.loser, h.started) == ("primary", False, "none", 0)


async def test_a_slow_primary_is_hedged_and_the_hedge_wins() -> None:
    h = Hedges()
    primary = asyncio.ensure_future(_after(30, "primary"))
    out = await race(primary, h.start(0.01), 0.05, h.discard)  # type: ignore[arg-type]
    assert (out.winner, out.hedged, out.loser, h.started) == ("hedge", True, "dropped", 1)
    assert primary.cancelled()  # the slow one is not left running


async def test_no_hedge_out_of_budget_waits_for_the_primary() -> None:
    h = Hedges()
    out = await race(_after(0.1, "primary"), lambda: None, 0.01, h.discard)
    assert (out.winner, out.hedged) == ("primary", False)


async def test_a_failed_hedge_leaves_the_primary_to_answer() -> None:
    h = Hedges()
    start = h.start(0.0, UpstreamUnavailable("hedge down"))
    out = await race(_after(0.1, "primary"), start, 0.01, h.discard)  # type: ignore[arg-type]
    assert (out.winner, out.hedged, out.loser) == ("primary", False, "failed")


async def test_both_failing_raises_the_primarys_error() -> None:
    h = Hedges()
    start = h.start(0.0, UpstreamUnavailable("hedge down"))
    with pytest.raises(Timeout):
        await race(_after(0.05, "", Timeout("primary silent")), start, 0.01, h.discard)  # type: ignore[arg-type]


async def test_a_primary_that_opens_after_the_hedge_won_is_discarded() -> None:
    h = Hedges()
    release = asyncio.Event()

    async def primary() -> str:
        await release.wait()
        return "primary"

    async def hedge() -> str:
        release.set()  # both ready in the same turn
        return "hedge"

    out = await race(primary(), hedge, 0.01, h.discard)
    assert out.winner in {"primary", "hedge"}
    if out.winner == "primary":
        assert h.discarded == ["hedge"]  # the hedge that opened too is closed, not leaked
    else:
        assert out.hedged and out.loser == "dropped"


async def test_a_hedge_that_opens_after_the_primary_is_discarded() -> None:
    h = Hedges()
    hedge_ready = asyncio.Event()

    async def primary() -> str:
        await hedge_ready.wait()
        return "primary"

    async def hedge() -> str:
        await asyncio.sleep(0)
        hedge_ready.set()
        await asyncio.sleep(0.05)
        return "hedge"

    out = await race(primary(), hedge, 0.01, h.discard)
    assert (out.winner, out.hedged, out.loser) == ("primary", False, "dropped")
    assert h.discarded == []  # cancelled before it opened: nothing to close


async def test_a_cancelled_caller_leaves_nothing_running() -> None:
    h = Hedges()
    primary = asyncio.ensure_future(_after(30, "primary"))
    task = asyncio.ensure_future(race(primary, h.start(30), 0.01, h.discard))  # type: ignore[arg-type]
    while h.started == 0:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert primary.cancelled()

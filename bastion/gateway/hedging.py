"""Hedged openings: when the first target is slow to its first token, ask the next one too
and keep whichever answers first (the other is cancelled or, if it opened too, closed).

The primary runs inline, in the caller's task, and the hedge is only a timer until it fires:
a healthy stream pays for one timer, not for a task and the loop turns of waiting on it.
When the hedge wins, the caller's task is cancelled out of the primary (as ``asyncio.timeout``
does) and the cancellation is taken back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
LoserState = Literal["none", "failed", "dropped"]


@dataclass(frozen=True, slots=True)
class RaceOutcome(Generic[T]):
    """The winner, whether it was the hedge, and what became of the other: ``none`` (no
    hedge was sent), ``failed`` (it failed on its own) or ``dropped`` (cancelled or closed)."""

    winner: T
    hedged: bool
    loser: LoserState


class _Race(Generic[T]):
    def __init__(self, start_hedge: Callable[[], Awaitable[T] | None]) -> None:
        self.task = asyncio.current_task()
        self.start_hedge = start_hedge
        self.hedge: asyncio.Future[T] | None = None
        self.primary_done = False
        self.hedge_won = False

    def fire(self) -> None:
        """The timer: send the hedge (unless the budget says no)."""
        if self.primary_done:
            return
        coro = self.start_hedge()
        if coro is not None:
            self.hedge = asyncio.ensure_future(coro)
            self.hedge.add_done_callback(self._hedge_done)

    def _hedge_done(self, hedge: asyncio.Future[T]) -> None:
        if self.primary_done or hedge.cancelled() or hedge.exception() is not None:
            return
        self.hedge_won = True
        assert self.task is not None
        self.task.cancel()  # out of the primary, wherever it waits


async def race(
    primary: Awaitable[T],
    start_hedge: Callable[[], Awaitable[T] | None],
    after_s: float,
    discard: Callable[[T], Awaitable[None]],
) -> RaceOutcome[T]:
    """Await ``primary``; if it has not finished after ``after_s``, ``start_hedge()`` (None: no
    hedge, e.g. out of budget) and return the first success. When both fail, the primary's
    error is raised. Whatever is not kept is cancelled or ``discard``-ed, also when the
    caller is cancelled."""
    state: _Race[T] = _Race(start_hedge)
    timer = asyncio.get_running_loop().call_later(after_s, state.fire)
    try:
        result = await primary
    except asyncio.CancelledError:
        state.primary_done = True
        timer.cancel()
        assert state.task is not None
        if state.hedge is not None and state.hedge_won and state.task.uncancel() == 0:
            return RaceOutcome(state.hedge.result(), True, "dropped")
        if state.hedge is not None:  # the caller went away: so does the hedge
            await _drop(state.hedge, discard)
        raise
    except BaseException as exc:
        state.primary_done = True
        timer.cancel()
        if state.hedge is None:
            raise
        return await _after_failed_primary(state.hedge, discard, exc)
    finally:
        state.primary_done = True
        timer.cancel()
    if state.hedge is None:
        return RaceOutcome(result, False, "none")
    failed = state.hedge.done() and not state.hedge.cancelled() and state.hedge.exception()
    await _drop(state.hedge, discard)
    return RaceOutcome(result, False, "failed" if failed else "dropped")


async def _after_failed_primary(
    hedge: asyncio.Future[T], discard: Callable[[T], Awaitable[None]], error: BaseException
) -> RaceOutcome[T]:
    """The primary failed while the hedge runs: the hedge's result, or the primary's error."""
    try:
        await asyncio.wait({hedge})
    except BaseException:
        await _drop(hedge, discard)
        raise
    if hedge.cancelled() or hedge.exception() is not None:
        raise error
    return RaceOutcome(hedge.result(), True, "failed")


async def _drop(task: asyncio.Future[T], discard: Callable[[T], Awaitable[None]]) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    if task.done() and not task.cancelled() and task.exception() is None:
        await discard(task.result())

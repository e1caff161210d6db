"""Hedged openings: when the first target is slow to its first token, ask the next one too
and keep whichever answers first (the other is cancelled or, if it opened too, closed)."""

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


async def race(
    primary: Awaitable[T],
    start_hedge: Callable[[], Awaitable[T] | None],
    after_s: float,
    discard: Callable[[T], Awaitable[None]],
) -> RaceOutcome[T]:
    """Run ``primary``; if it has not finished after ``after_s``, ``start_hedge()`` (None: no
    hedge, e.g. out of budget) and return the first success. When both fail, the primary's
    error is raised. Whatever is not kept is cancelled or ``discard``-ed, also when the
    caller is cancelled."""
    first: asyncio.Future[T] = asyncio.ensure_future(primary)
    tasks: list[asyncio.Future[T]] = [first]
    try:
        done, _ = await asyncio.wait({first}, timeout=after_s)
        if done:
            return RaceOutcome(first.result(), False, "none")
        hedge = start_hedge()
        if hedge is None:
            return RaceOutcome(await first, False, "none")
        second: asyncio.Future[T] = asyncio.ensure_future(hedge)
        tasks.append(second)
        pending: set[asyncio.Future[T]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task in done and not task.cancelled() and task.exception() is None:
                    other = second if task is first else first
                    failed = other.done() and not other.cancelled() and other.exception()
                    await _drop(other, discard)
                    return RaceOutcome(
                        task.result(), task is second, "failed" if failed else "dropped"
                    )
        error = first.exception() or second.exception()
        assert error is not None
        raise error
    except BaseException:
        for task in tasks:
            await _drop(task, discard)
        raise


async def _drop(task: asyncio.Future[T], discard: Callable[[T], Awaitable[None]]) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    if task.done() and not task.cancelled() and task.exception() is None:
        await discard(task.result())

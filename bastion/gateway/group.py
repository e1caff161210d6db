"""A model group: one request tried across its upstreams with retries, breakers and bulkheads."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import structlog

from bastion.errors import UpstreamUnavailable
from bastion.gateway.balancer import rank
from bastion.gateway.member import Member
from bastion.resilience import (
    Deadline,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
    call_with_retry,
)
from bastion.resilience.breaker import counts_as_failure
from bastion.settings.llm import ModelGroupSettings

log = structlog.get_logger(__name__)

Kind = Literal["chat", "completions", "embeddings"]
T = TypeVar("T")


class AllBreakersOpen(UpstreamUnavailable):
    """Every upstream of the group is open: go to the fallback now, do not wait and retry."""


@dataclass(slots=True)
class OpenStream:
    """A stream whose first chunk has arrived: from here on, a failure cannot be retried."""

    member: Member
    first: dict[str, Any]
    rest: AsyncIterator[dict[str, Any]]
    _exit: contextlib.AsyncExitStack

    async def close(self, error: BaseException | None) -> None:
        """Release the upstream slot and tell the breaker how the stream ended."""
        if error is None:
            self.member.breaker.record_success()
        elif not isinstance(error, GeneratorExit):
            self.member.breaker.record_failure()
        await self._exit.aclose()


@dataclass(slots=True)
class ModelGroup:
    settings: ModelGroupSettings
    members: list[Member]
    policy: RetryPolicy
    budget: RetryBudget
    retries: int = 0
    typical_attempt_s: float = 0.0  # EWMA of successful attempts: what a retry needs
    on_retry_hooks: list[Callable[[str, RetryEvent], None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.settings.name

    def _pick(self, tried: set[str]) -> Member:
        ranked = rank(self.members, self.settings.strategy, exclude=frozenset(tried))
        for member in ranked:
            if member.breaker.allow():
                tried.add(member.name)
                return member
        waits = [m.breaker.retry_after() for m in self.members]
        soonest = min((w for w in waits if w is not None), default=None)
        raise AllBreakersOpen(
            f"every upstream of '{self.name}' has an open circuit breaker",
            retry_after=soonest,
            details={"group": self.name},
        )

    def _note_retry(self, event: RetryEvent) -> None:
        self.retries += 1
        log.info(
            "upstream_retry",
            group=self.name,
            attempt=event.attempt,
            error=type(event.error).__name__,
            delay_s=round(event.delay_s, 3),
        )
        for hook in self.on_retry_hooks:
            hook(self.name, event)

    async def complete(
        self, kind: Kind, body: dict[str, Any], deadline: Deadline
    ) -> tuple[dict[str, Any], Member]:
        """A non-streamed call; each retry goes to the best upstream not yet tried."""
        tried: set[str] = set()

        async def attempt() -> tuple[dict[str, Any], Member]:
            member = self._pick(tried)
            try:
                async with member.bulkhead.slot(deadline):
                    client = member.client
                    if kind == "chat":
                        response = await client.chat(body, deadline)
                    elif kind == "completions":
                        response = await client.completions(body, deadline)
                    else:
                        response = await client.embeddings(body, deadline)
            except BaseException as exc:
                _record(member, exc)
                raise
            member.breaker.record_success()
            return response, member

        return await self._with_retry(attempt, deadline)

    async def _with_retry(self, attempt: Callable[[], Awaitable[T]], deadline: Deadline) -> T:
        """Retry ``attempt``; a retry starts only if a typical attempt still fits the deadline."""

        async def timed() -> T:
            started = time.monotonic()
            result = await attempt()
            took = time.monotonic() - started
            ewma = self.typical_attempt_s
            self.typical_attempt_s = took if ewma == 0.0 else 0.8 * ewma + 0.2 * took
            return result

        policy = dataclasses.replace(self.policy, attempt_timeout_s=self.typical_attempt_s)
        return await call_with_retry(
            timed, policy, deadline=deadline, budget=self.budget, on_retry=self._note_retry
        )

    async def open_stream(self, body: dict[str, Any], deadline: Deadline) -> OpenStream:
        """Retry until a stream's first chunk arrives; nothing has reached the client yet."""
        tried: set[str] = set()

        async def attempt() -> OpenStream:
            member = self._pick(tried)
            stack = contextlib.AsyncExitStack()
            try:
                await stack.enter_async_context(member.bulkhead.slot(deadline))
                chunks = member.client.stream_chat(body, deadline)
                stack.push_async_callback(chunks.aclose)  # type: ignore[attr-defined]
                first = await chunks.__anext__()
            except StopAsyncIteration:
                await stack.aclose()
                member.breaker.record_failure()
                raise UpstreamUnavailable(f"{member.name} sent an empty stream") from None
            except BaseException as exc:
                await stack.aclose()
                _record(member, exc)
                raise
            return OpenStream(member, first, chunks, stack)

        return await self._with_retry(attempt, deadline)

    def status(self) -> dict[str, Any]:
        return {
            "group": self.name,
            "strategy": self.settings.strategy,
            "retries": self.retries,
            "retry_budget": self.budget.snapshot(),
            "upstreams": [m.status() for m in self.members],
        }


def _record(member: Member, exc: BaseException) -> None:
    if counts_as_failure(exc):
        member.breaker.record_failure()
    else:
        member.breaker.record_ignored()

"""A model group: one request tried across its upstreams with retries, breakers and bulkheads."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import structlog

from bastion.errors import BastionError, InvalidRequest, Timeout, UpstreamUnavailable
from bastion.gateway.balancer import rank
from bastion.gateway.member import Member
from bastion.resilience import (
    BreakerState,
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


class NoUpstreamLeft(UpstreamUnavailable):
    """No upstream of the group may be tried again for this request: go to the fallback now."""


class AllBreakersOpen(NoUpstreamLeft):
    """Every upstream of the group is open: go to the fallback now, do not wait and retry."""


class UpstreamSilent(Timeout):
    """The group's last candidate accepted the call and sent nothing before its first-token
    timeout: it is not tried again for this request (the fallback is tried at once)."""


Variant = tuple[str, dict[str, Any]]  # (how the body asks: fresh | prefill | restart, body)
BodyFor = Callable[[Member], list[Variant]]
Usable = Callable[[Member], bool]
_ADAPTIVE_MIN_SAMPLES = 20


def plain(body: dict[str, Any]) -> BodyFor:
    """The same body for every upstream."""
    return lambda _member: [("fresh", body)]


def is_silent(exc: BaseException) -> bool:
    return isinstance(exc, Timeout) and bool(exc.details.get("silent"))


@dataclass(slots=True)
class Attempts:
    """One request's history with a group: the upstreams it tried, and those that were silent
    (never tried again for it)."""

    tried: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    last: Member | None = None  # the upstream picked most recently


@dataclass(slots=True)
class OpenStream:
    """A stream whose first chunk has arrived: from here on, a failure cannot be retried.

    ``mode`` says how it was asked for: ``fresh``, or, continuing a broken stream,
    ``prefill`` or ``restart``."""

    member: Member
    first: dict[str, Any]
    rest: AsyncIterator[dict[str, Any]]
    _exit: contextlib.AsyncExitStack
    mode: str = "fresh"

    async def close(self, error: BaseException | None, *, blame: bool = True) -> None:
        """Release the upstream slot and tell the breaker how the stream ended."""
        if error is None:
            self.member.breaker.record_success()
        elif blame and not isinstance(error, GeneratorExit | asyncio.CancelledError):
            self.member.breaker.record_failure()
        await self._exit.aclose()


@dataclass(slots=True)
class ModelGroup:
    settings: ModelGroupSettings
    members: list[Member]
    policy: RetryPolicy
    budget: RetryBudget
    hedge_budget: RetryBudget | None = None
    retries: int = 0
    hedges: int = 0
    hedge_wins: int = 0
    typical_attempt_s: float = 0.0  # EWMA of successful attempts: what a retry needs
    ttft: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    on_retry_hooks: list[Callable[[str, RetryEvent], None]] = field(default_factory=list)
    on_hedge_hooks: list[Callable[[str, str], None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.settings.name

    def _allowed(self, m: Member, att: Attempts, fresh_only: bool, usable: Usable | None) -> bool:
        if m.name in att.silent or (fresh_only and m.name in att.tried):
            return False
        return usable is None or usable(m)

    def has_candidate(
        self, att: Attempts, *, fresh_only: bool = False, usable: Usable | None = None
    ) -> bool:
        """Whether ``_pick`` could still find an upstream (without taking a breaker probe)."""
        return any(
            self._allowed(m, att, fresh_only, usable) and m.breaker.state is not BreakerState.OPEN
            for m in self.members
        )

    def _pick(
        self, att: Attempts, *, fresh_only: bool = False, usable: Usable | None = None
    ) -> Member:
        ranked = rank(self.members, self.settings.strategy, exclude=frozenset(att.tried))
        allowed = [m for m in ranked if self._allowed(m, att, fresh_only, usable)]
        for member in allowed:
            if member.breaker.allow():
                att.tried.add(member.name)
                att.last = member
                return member
        if not allowed:
            raise NoUpstreamLeft(
                f"no upstream of '{self.name}' is left to try for this request",
                details={"group": self.name},
            )
        waits = [m.breaker.retry_after() for m in allowed]
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

    def note_hedge(self, outcome: str) -> None:
        """Count a hedge: ``started`` when it is sent, ``won`` when its answer is the one kept."""
        if outcome == "started":
            self.hedges += 1
        elif outcome == "won":
            self.hedge_wins += 1
        for hook in self.on_hedge_hooks:
            hook(self.name, outcome)

    def hedge_delay_s(self) -> float | None:
        """When to hedge a stream's opening (None: never), from the settings or, ``adaptive``,
        a multiple of the first-token p95 over the group's recent streams."""
        after = self.settings.hedge_after_ms
        if after is None:
            return None
        if after != "adaptive":
            return float(after) / 1000
        samples = sorted(self.ttft)
        if len(samples) < _ADAPTIVE_MIN_SAMPLES:
            return None
        p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
        return p95 * self.settings.hedge_p95_multiple

    def _silenced(self, member: Member, exc: BaseException, att: Attempts, **pick: Any) -> None:
        """After ``member`` failed: a silent one is never tried again for this request, and
        when no other upstream is left, the group gives up at once (no backoff, no retry)."""
        if not is_silent(exc):
            return
        att.silent.add(member.name)
        if not self.has_candidate(att, **pick):
            assert isinstance(exc, BastionError)
            raise UpstreamSilent(exc.message, details={**exc.details, "group": self.name}) from exc

    async def complete(
        self, kind: Kind, body: dict[str, Any], deadline: Deadline
    ) -> tuple[dict[str, Any], Member]:
        """A non-streamed call; each retry goes to the best upstream not yet tried."""
        att = Attempts()

        async def attempt() -> tuple[dict[str, Any], Member]:
            started = time.monotonic()
            member = self._pick(att)
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
                self._silenced(member, exc, att)
                raise
            member.breaker.record_success()
            self._took(time.monotonic() - started)
            return response, member

        return await self._with_retry(attempt, deadline)

    def _took(self, seconds: float) -> None:
        """A successful attempt's duration into ``typical_attempt_s`` (an EWMA). Each
        ``attempt`` times itself (no wrapping coroutine: one frame less on every resume)."""
        ewma = self.typical_attempt_s
        self.typical_attempt_s = seconds if ewma == 0.0 else 0.8 * ewma + 0.2 * seconds

    def _with_retry(
        self, attempt: Callable[[], Awaitable[T]], deadline: Deadline
    ) -> Coroutine[Any, Any, T]:
        """Retry ``attempt``; a retry starts only if a typical attempt still fits the deadline.
        (Returns ``call_with_retry``'s coroutine: no frame of its own in the await chain.)"""
        return call_with_retry(
            attempt,
            self.policy,
            deadline=deadline,
            budget=self.budget,
            on_retry=self._note_retry,
            attempt_timeout_s=self.typical_attempt_s,
        )

    async def open_stream(
        self,
        bodies: BodyFor,
        deadline: Deadline,
        *,
        attempts: Attempts | None = None,
        fresh_only: bool = False,
        usable: Usable | None = None,
        retry: bool = True,
    ) -> OpenStream:
        """Retry until a stream's first chunk arrives; nothing has reached the client yet.

        ``bodies`` gives, per upstream, the bodies to try on it in order (a refused prefill
        is followed by a restart on the same upstream). ``fresh_only`` skips upstreams this
        request already tried; ``usable`` filters them; ``retry`` False makes one attempt.
        """
        att = attempts if attempts is not None else Attempts()
        pick: dict[str, Any] = {"fresh_only": fresh_only, "usable": usable}

        async def attempt() -> OpenStream:
            started = time.monotonic()
            member = self._pick(att, **pick)
            variants = bodies(member)
            for i, (mode, body) in enumerate(variants):
                try:
                    opened = await self._open_on(member, mode, body, deadline)
                    if retry:
                        self._took(time.monotonic() - started)
                    return opened
                except InvalidRequest as exc:
                    if i + 1 == len(variants):
                        raise
                    log.info("upstream_refused_continuation", upstream=member.name, mode=mode)
                    exc.details.setdefault("refused", mode)
                except BaseException as exc:
                    self._silenced(member, exc, att, **pick)
                    raise
            raise AssertionError("no body to send")  # pragma: no cover - bodies is never empty

        if not retry:
            return await attempt()
        return await self._with_retry(attempt, deadline)

    async def _open_on(
        self, member: Member, mode: str, body: dict[str, Any], deadline: Deadline
    ) -> OpenStream:
        started = time.monotonic()
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
        self.ttft.append(time.monotonic() - started)
        return OpenStream(member, first, chunks, stack, mode)

    def status(self) -> dict[str, Any]:
        return {
            "group": self.name,
            "strategy": self.settings.strategy,
            "retries": self.retries,
            "hedges": {"started": self.hedges, "won": self.hedge_wins},
            "retry_budget": self.budget.snapshot(),
            "upstreams": [m.status() for m in self.members],
        }


def _record(member: Member, exc: BaseException) -> None:
    if counts_as_failure(exc):
        member.breaker.record_failure()
    else:
        member.breaker.record_ignored()

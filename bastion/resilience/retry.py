"""Retries with full jitter, Retry-After, composable conditions, a deadline and a budget."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bastion.core.clock import Clock, SystemClock
from bastion.core.deadline import Deadline
from bastion.errors import (
    BastionError,
    BlockedByGuard,
    BudgetExceeded,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    Timeout,
    Unauthorized,
    UpstreamError,
    UpstreamUnavailable,
)
from bastion.resilience.retry_budget import RetryBudget

T = TypeVar("T")


class RetryCondition:
    """A predicate on an error; combine with ``|`` and ``&`` (as tenacity's conditions)."""

    __slots__ = ("_name", "_predicate")

    def __init__(self, predicate: Callable[[BaseException], bool], name: str) -> None:
        self._predicate = predicate
        self._name = name

    def __call__(self, exc: BaseException) -> bool:
        return self._predicate(exc)

    def __or__(self, other: RetryCondition) -> RetryCondition:
        return RetryCondition(lambda e: self(e) or other(e), f"({self._name} | {other._name})")

    def __and__(self, other: RetryCondition) -> RetryCondition:
        return RetryCondition(lambda e: self(e) and other(e), f"({self._name} & {other._name})")

    def __repr__(self) -> str:
        return self._name


def _details(exc: BaseException) -> dict[str, Any]:
    return exc.details if isinstance(exc, BastionError) else {}


def retry_if_error_type(*types: type[BaseException]) -> RetryCondition:
    names = ", ".join(t.__name__ for t in types)
    return RetryCondition(lambda e: isinstance(e, types), f"retry_if_error_type({names})")


def retry_if_status(*statuses: int) -> RetryCondition:
    """Retry when the upstream answered one of ``statuses`` (``details["upstream_status"]``)."""
    wanted = frozenset(statuses)
    name = f"retry_if_status({', '.join(map(str, statuses))})"
    return RetryCondition(lambda e: _details(e).get("upstream_status") in wanted, name)


def retry_if_not_forwarded() -> RetryCondition:
    """Retry only if no part of the answer already went to the client (``details["forwarded"]``)."""
    return RetryCondition(lambda e: not _details(e).get("forwarded"), "retry_if_not_forwarded()")


DEFAULT_RETRY_IF = (
    retry_if_error_type(Timeout, UpstreamUnavailable, UpstreamError, RateLimited)
    | retry_if_status(408, 429, 500, 502, 503, 504)
) & retry_if_not_forwarded()
# The client's own mistakes: retrying cannot help, whatever the condition says.
NEVER_RETRY: tuple[type[BaseException], ...] = (
    InvalidRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    BudgetExceeded,
    BlockedByGuard,
)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Passed to ``on_retry`` before sleeping: the attempt that failed, why, and the wait."""

    attempt: int
    error: BaseException
    delay_s: float


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, how long to wait between them, and which errors deserve another.

    ``attempt_timeout_s`` is the per-attempt timeout: a retry is only started if the deadline
    leaves room for the backoff plus one whole attempt. A ``retry_after`` above
    ``max_retry_after_s`` ends the retries (waiting less than the upstream asked is useless).
    """

    max_attempts: int = 3
    base_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    attempt_timeout_s: float = 0.0
    max_retry_after_s: float = 10.0
    retry_if: RetryCondition = DEFAULT_RETRY_IF
    never_retry: tuple[type[BaseException], ...] = NEVER_RETRY
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def should_retry(self, exc: BaseException) -> bool:
        return not isinstance(exc, self.never_retry) and self.retry_if(exc)

    def backoff(self, attempt: int, exc: BaseException) -> float | None:
        """Seconds to wait after failed ``attempt`` (1-based), or None to stop retrying."""
        ceiling = min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempt - 1))
        delay: float = self.random() * ceiling
        retry_after: float | None = exc.retry_after if isinstance(exc, BastionError) else None
        if retry_after is not None:
            if retry_after > self.max_retry_after_s:
                return None
            delay = max(delay, retry_after)
        return delay


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    deadline: Deadline,
    clock: Clock | None = None,
    budget: RetryBudget | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
    attempt_timeout_s: float | None = None,
) -> T:
    """Call ``fn`` until it succeeds or retrying is pointless, unsafe, out of time or budget.

    Only ``BastionError`` is retried (anything else is a bug and propagates at once). When
    retrying stops, the last error is raised with ``details["attempts"]`` and
    ``details["retry_stopped"]`` (``not_retryable``, ``attempts``, ``retry_after``,
    ``deadline`` or ``budget``). ``attempt_timeout_s``, when given, stands in for the
    policy's own (a caller that learns it per call passes a value instead of a policy copy).
    """
    if budget is not None:
        budget.record_request()
    if deadline.expired:
        raise Timeout("deadline exceeded before the first attempt")
    reserve = policy.attempt_timeout_s if attempt_timeout_s is None else attempt_timeout_s
    attempt = 1
    while True:
        try:
            return await fn()
        except BastionError as exc:
            delay, stopped = _next_delay(exc, attempt, policy, reserve, deadline, budget)
            if stopped:
                exc.details["attempts"] = attempt
                exc.details["retry_stopped"] = stopped
                raise
            event = RetryEvent(attempt, exc, delay)
        if on_retry is not None:
            on_retry(event)
        await (clock or SystemClock()).sleep(delay)
        attempt += 1


def _next_delay(
    exc: BastionError,
    attempt: int,
    policy: RetryPolicy,
    attempt_timeout_s: float,
    deadline: Deadline,
    budget: RetryBudget | None,
) -> tuple[float, str]:
    """The wait before the next attempt, or why there is none (the order of checks matters)."""
    if not policy.should_retry(exc):
        return 0.0, "not_retryable"
    if attempt >= policy.max_attempts:
        return 0.0, "attempts"
    delay = policy.backoff(attempt, exc)
    if delay is None:
        return 0.0, "retry_after"
    if deadline.remaining() < delay + attempt_timeout_s:
        return 0.0, "deadline"
    if budget is not None and not budget.try_withdraw():
        return 0.0, "budget"
    return delay, ""

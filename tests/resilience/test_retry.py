"""call_with_retry: backoff, Retry-After, conditions, deadline and budget, on a fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bastion.errors import (
    BastionError,
    InvalidRequest,
    RateLimited,
    Timeout,
    UpstreamError,
    UpstreamUnavailable,
)
from bastion.resilience import (
    Deadline,
    FakeClock,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
    call_with_retry,
    retry_if_error_type,
    retry_if_not_forwarded,
    retry_if_status,
)


def flaky(
    errors: list[BaseException], clock: FakeClock | None = None, took: float = 0.0
) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A call that raises ``errors`` in turn, then answers "ok"; each call takes ``took``."""
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if clock is not None:
            clock.advance(took)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "ok"

    return call, calls


def policy(**kwargs: object) -> RetryPolicy:
    defaults: dict[str, object] = {"base_backoff_s": 0.1, "random": lambda: 0.5}
    return RetryPolicy(**{**defaults, **kwargs})  # type: ignore[arg-type]


async def run(
    fn: Callable[[], Awaitable[str]],
    retry: RetryPolicy,
    clock: FakeClock,
    deadline: Deadline | None = None,
    budget: RetryBudget | None = None,
    events: list[RetryEvent] | None = None,
) -> str:
    return await call_with_retry(
        fn,
        retry,
        deadline=deadline or Deadline.after(60, clock=clock),
        clock=clock,
        budget=budget,
        on_retry=None if events is None else events.append,
    )


async def test_transient_errors_are_retried_with_jittered_backoff() -> None:
    clock = FakeClock()
    fn, calls = flaky([UpstreamUnavailable("a"), Timeout("b"), UpstreamError("c")])
    events: list[RetryEvent] = []
    assert await run(fn, policy(max_attempts=4), clock, events=events) == "ok"
    assert len(calls) == 4
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.2])
    assert [e.attempt for e in events] == [1, 2, 3]
    assert isinstance(events[1].error, Timeout)


async def test_backoff_is_capped_and_full_jitter_can_be_zero() -> None:
    retry = policy(base_backoff_s=1, max_backoff_s=3, random=lambda: 1.0)
    assert [retry.backoff(n, Timeout("t")) for n in (1, 2, 3, 6)] == [1, 2, 3, 3]
    assert policy(random=lambda: 0.0).backoff(5, Timeout("t")) == 0


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    clock = FakeClock()
    last = UpstreamUnavailable("third")
    fn, calls = flaky([UpstreamUnavailable("1"), UpstreamUnavailable("2"), last])
    with pytest.raises(UpstreamUnavailable) as info:
        await run(fn, policy(max_attempts=3), clock)
    assert info.value is last
    assert info.value.details == {"attempts": 3, "retry_stopped": "attempts"}
    assert len(calls) == 3


async def test_retry_after_is_honoured_up_to_a_cap() -> None:
    clock = FakeClock()
    fn, _ = flaky([RateLimited("slow down", retry_after=2.0)])
    assert await run(fn, policy(max_retry_after_s=5), clock) == "ok"
    assert clock.sleeps == [2.0]
    fn, calls = flaky([RateLimited("come back tomorrow", retry_after=86400)])
    with pytest.raises(RateLimited) as info:
        await run(fn, policy(max_retry_after_s=5), clock)
    assert info.value.details["retry_stopped"] == "retry_after"
    assert len(calls) == 1


class ContextTooLong(InvalidRequest):
    pass


async def test_client_errors_are_never_retried_even_if_the_condition_says_so() -> None:
    clock = FakeClock()
    fn, calls = flaky([ContextTooLong("too long")])
    retry = policy(retry_if=retry_if_error_type(BastionError))
    with pytest.raises(ContextTooLong) as info:
        await run(fn, retry, clock)
    assert info.value.details["retry_stopped"] == "not_retryable"
    assert len(calls) == 1


async def test_other_exceptions_are_bugs_and_propagate_at_once() -> None:
    clock = FakeClock()
    fn, calls = flaky([KeyError("bug")])
    with pytest.raises(KeyError):
        await run(fn, policy(), clock)
    assert len(calls) == 1


async def test_no_retry_that_cannot_finish_before_the_deadline() -> None:
    clock = FakeClock()
    fn, calls = flaky([Timeout("1"), Timeout("2"), Timeout("3")], clock, took=0.3)
    deadline = Deadline.after(1.0, clock=clock)
    with pytest.raises(Timeout) as info:
        await run(
            fn, policy(max_attempts=5, attempt_timeout_s=0.3, random=lambda: 0), clock, deadline
        )
    # t=0.3: 0.7 left ≥ 0.3 → retry; t=0.6: 0.4 left → retry; t=0.9: 0.1 left < 0.3 → stop.
    assert len(calls) == 3
    assert info.value.details["retry_stopped"] == "deadline"


async def test_an_attempt_timeout_given_as_a_value_overrides_the_policys() -> None:
    clock = FakeClock()
    fn, calls = flaky([Timeout("1"), Timeout("2"), Timeout("3"), Timeout("4")], clock, took=0.3)
    with pytest.raises(Timeout) as info:
        await call_with_retry(
            fn,
            policy(max_attempts=5, attempt_timeout_s=0.0, random=lambda: 0),
            deadline=Deadline.after(1.0, clock=clock),
            clock=clock,
            attempt_timeout_s=0.3,
        )
    # The same stops as with the policy's own 0.3 above; with the policy's 0.0 it would be 4.
    assert len(calls) == 3
    assert info.value.details["retry_stopped"] == "deadline"


async def test_expired_deadline_means_no_attempt_at_all() -> None:
    clock = FakeClock()
    fn, calls = flaky([])
    deadline = Deadline.after(1, clock=clock)
    clock.advance(2)
    with pytest.raises(Timeout):
        await run(fn, policy(), clock, deadline)
    assert calls == []


async def test_budget_limits_retries_across_calls() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0, min_per_s=0.1, window_s=10, clock=clock)  # one retry in all
    fn, calls = flaky([Timeout("1")])
    assert await run(fn, policy(), clock, budget=budget) == "ok"
    fn, calls = flaky([Timeout("1")])
    with pytest.raises(Timeout) as info:
        await run(fn, policy(), clock, budget=budget)
    assert info.value.details["retry_stopped"] == "budget"
    assert len(calls) == 1
    assert budget.snapshot().requests == 2


def test_conditions_compose() -> None:
    on_503 = retry_if_status(503)
    on_timeout = retry_if_error_type(Timeout)
    either = on_503 | on_timeout
    both = on_503 & retry_if_not_forwarded()
    unavailable = UpstreamUnavailable("x", details={"upstream_status": 503})
    forwarded = UpstreamUnavailable("x", details={"upstream_status": 503, "forwarded": True})
    assert either(unavailable) and either(Timeout("t")) and not either(UpstreamError("e"))
    assert both(unavailable) and not both(forwarded)
    assert not on_503(ValueError())
    assert repr(either) == "(retry_if_status(503) | retry_if_error_type(Timeout))"


async def test_default_policy_does_not_retry_a_stream_already_forwarded() -> None:
    clock = FakeClock()
    fn, calls = flaky([UpstreamError("cut", details={"forwarded": True})])
    with pytest.raises(UpstreamError):
        await run(fn, RetryPolicy(), clock)
    assert len(calls) == 1

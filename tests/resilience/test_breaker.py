"""The circuit breaker's transitions, on a fake clock."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidRequest, Timeout, UpstreamUnavailable
from bastion.resilience import BreakerState, CircuitBreaker, FakeClock

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


def breaker(
    clock: FakeClock, changes: list[tuple[str, str]] | None = None, **kwargs: object
) -> CircuitBreaker:
    settings: dict[str, object] = {
        "failure_rate_threshold": 0.5,
        "min_calls": 4,
        "window_calls": 10,
        "open_s": 5.0,
        "half_open_probes": 2,
    }

    def record(name: str, old: BreakerState, new: BreakerState) -> None:
        assert name == "up"
        if changes is not None:
            changes.append((old.value, new.value))

    return CircuitBreaker("up", clock=clock, on_state_change=record, **{**settings, **kwargs})  # type: ignore[arg-type]


def test_needs_min_calls_before_opening() -> None:
    b = breaker(FakeClock())
    for _ in range(3):
        b.record_failure()
    assert b.state is CLOSED and b.allow()
    b.record_failure()
    assert b.state is OPEN and not b.allow()


def test_opens_at_threshold_and_reports_retry_after() -> None:
    clock = FakeClock()
    changes: list[tuple[str, str]] = []
    b = breaker(clock, changes)
    for failed in [True, False, False, False, True, False, True]:
        b.record_failure() if failed else b.record_success()
    assert b.state is CLOSED  # 3 of 7 failed
    b.record_failure()
    assert b.state is OPEN  # 4 of 8
    clock.advance(2)
    assert b.retry_after() == pytest.approx(3)
    snap = b.snapshot().as_dict()
    assert snap["state"] == "open" and snap["calls"] == 8 and snap["failures"] == 4
    assert changes == [("closed", "open")]


def test_half_open_probes_close_the_breaker() -> None:
    clock = FakeClock()
    changes: list[tuple[str, str]] = []
    b = breaker(clock, changes, min_calls=1)
    b.record_failure()
    clock.advance(5)
    assert b.state is HALF_OPEN
    assert [b.allow(), b.allow(), b.allow()] == [True, True, False]
    b.record_success()
    assert b.state is HALF_OPEN
    b.record_success()
    assert b.state is CLOSED and b.allow()
    assert b.snapshot().calls == 0  # a closed breaker starts a fresh window
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_failed_probe_reopens() -> None:
    clock = FakeClock()
    b = breaker(clock, min_calls=1)
    b.record_failure()
    clock.advance(5)
    assert b.allow()
    b.record_failure()
    assert b.state is OPEN and b.retry_after() == 5


def test_lost_probe_permits_are_reissued_after_open_s() -> None:
    clock = FakeClock()
    b = breaker(clock, min_calls=1, half_open_probes=1)
    b.record_failure()
    clock.advance(5)
    assert b.allow() and not b.allow()
    clock.advance(5)
    assert b.allow()


def test_count_window_forgets_old_calls() -> None:
    b = breaker(FakeClock(), window_calls=4, min_calls=4, failure_rate_threshold=0.75)
    for _ in range(2):
        b.record_failure()
    for _ in range(4):
        b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state is CLOSED  # the window now holds success, success, fail, fail
    b.record_failure()
    assert b.state is OPEN


def test_time_window_forgets_old_failures() -> None:
    clock = FakeClock()
    b = breaker(clock, window_s=10.0, min_calls=3)
    b.record_failure()
    b.record_failure()
    clock.advance(11)
    b.record_failure()
    assert b.state is CLOSED and b.snapshot().calls == 1
    b.record_failure()
    b.record_failure()
    assert b.state is OPEN


async def test_guard_records_outcomes_and_refuses_when_open() -> None:
    clock = FakeClock()
    b = breaker(clock, min_calls=3)
    with pytest.raises(InvalidRequest):
        async with b.guard():
            raise InvalidRequest("client mistake")  # not the upstream's fault
    async with b.guard():
        pass
    for _ in range(2):
        with pytest.raises(Timeout):
            async with b.guard():
                raise Timeout("slow")
    assert b.state is OPEN
    with pytest.raises(UpstreamUnavailable) as info:
        async with b.guard():
            pytest.fail("must not run")
    assert info.value.retry_after == 5


async def test_guard_gives_back_the_probe_of_an_ignored_call() -> None:
    clock = FakeClock()
    b = breaker(clock, min_calls=1, half_open_probes=1)
    b.record_failure()
    clock.advance(5)
    with pytest.raises(InvalidRequest):
        async with b.guard():
            raise InvalidRequest("x")
    async with b.guard():
        pass
    assert b.state is CLOSED


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("x", failure_rate_threshold=0)

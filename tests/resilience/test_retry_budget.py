"""The retry budget: a reserve, a share of traffic, and a window that forgets."""

from __future__ import annotations

import pytest

from bastion.resilience import FakeClock, RetryBudget


def withdraw_all(budget: RetryBudget, limit: int = 1000) -> int:
    taken = 0
    while taken < limit and budget.try_withdraw():
        taken += 1
    return taken


def test_reserve_allows_a_few_retries_without_traffic() -> None:
    budget = RetryBudget(ratio=0.2, min_per_s=0.5, window_s=10, clock=FakeClock())
    assert withdraw_all(budget) == 5


def test_retries_are_a_share_of_requests() -> None:
    budget = RetryBudget(ratio=0.2, min_per_s=0, window_s=10, clock=FakeClock())
    for _ in range(100):
        budget.record_request()
    assert withdraw_all(budget) == 20
    snapshot = budget.snapshot()
    assert (snapshot.requests, snapshot.retries) == (100, 20)
    assert snapshot.balance == pytest.approx(0)


def test_old_traffic_and_retries_age_out_of_the_window() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.5, min_per_s=0, window_s=10, clock=clock)
    for _ in range(10):
        budget.record_request()
    assert withdraw_all(budget) == 5
    clock.advance(5)
    for _ in range(4):
        budget.record_request()
    assert withdraw_all(budget) == 2
    clock.advance(6)  # the first ten requests and five retries have left the window
    assert budget.snapshot().requests == 4
    assert withdraw_all(budget) == 0  # the two recent retries already spent the recent share
    clock.advance(20)
    assert budget.snapshot() == budget.snapshot().__class__(0, 0, 0.0)


def test_outage_cannot_multiply_load() -> None:
    budget = RetryBudget(ratio=0.1, min_per_s=1, window_s=10, clock=FakeClock())
    retries = 0
    for _ in range(1000):  # every request fails and wants two retries
        budget.record_request()
        retries += budget.try_withdraw() + budget.try_withdraw()
    assert retries <= 0.1 * 1000 + 10


@pytest.mark.parametrize(
    "kwargs", [{"ratio": -1}, {"min_per_s": -1}, {"window_s": 0}, {"slots": 0}]
)
def test_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryBudget(**kwargs)  # type: ignore[arg-type]

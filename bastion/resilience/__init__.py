"""Resilience primitives: retries, retry budget, circuit breaker, bulkhead, running by a
deadline (``Clock`` and ``Deadline`` live in ``bastion.core`` and are re-exported here)."""

from bastion.core.clock import Clock, FakeClock, SystemClock
from bastion.core.deadline import Deadline
from bastion.resilience.breaker import (
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    counts_as_failure,
)
from bastion.resilience.bulkhead import Bulkhead
from bastion.resilience.retry import (
    DEFAULT_RETRY_IF,
    RetryCondition,
    RetryEvent,
    RetryPolicy,
    call_with_retry,
    retry_if_error_type,
    retry_if_not_forwarded,
    retry_if_status,
)
from bastion.resilience.retry_budget import BudgetSnapshot, RetryBudget
from bastion.resilience.timeout import (
    deadline_scope,
    run_with_deadline,
    run_with_timeout,
)

__all__ = [
    "DEFAULT_RETRY_IF",
    "BreakerSnapshot",
    "BreakerState",
    "BudgetSnapshot",
    "Bulkhead",
    "CircuitBreaker",
    "Clock",
    "Deadline",
    "FakeClock",
    "RetryBudget",
    "RetryCondition",
    "RetryEvent",
    "RetryPolicy",
    "SystemClock",
    "call_with_retry",
    "counts_as_failure",
    "deadline_scope",
    "retry_if_error_type",
    "retry_if_not_forwarded",
    "retry_if_status",
    "run_with_deadline",
    "run_with_timeout",
]

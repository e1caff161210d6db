"""A retry budget (Finagle/gRPC style): retries may not exceed a share of recent requests."""

from __future__ import annotations

from dataclasses import dataclass

from bastion.core.clock import Clock, SystemClock


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    requests: int
    retries: int
    balance: float


class RetryBudget:
    """Allows ``ratio`` retries per request over the last ``window_s``, plus ``min_per_s``.

    Every request deposits ``ratio`` of a token; every retry withdraws one. The reserve of
    ``min_per_s * window_s`` lets a quiet service still retry; beyond it, retries are capped
    at ``ratio`` times the traffic, so an outage is never multiplied by the retry count.
    Counts live in ``slots`` rotating buckets, so old traffic ages out of the window.
    """

    __slots__ = (
        "_clock",
        "_epochs",
        "_requests",
        "_retries",
        "_slot_s",
        "min_per_s",
        "ratio",
        "window_s",
    )

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        min_per_s: float = 10.0,
        window_s: float = 10.0,
        slots: int = 10,
        clock: Clock | None = None,
    ) -> None:
        if ratio < 0 or min_per_s < 0 or window_s <= 0 or slots < 1:
            raise ValueError("ratio and min_per_s must be >= 0, window_s and slots > 0")
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.window_s = window_s
        self._slot_s = window_s / slots
        self._clock: Clock = clock or SystemClock()
        self._epochs = [-1] * slots
        self._requests = [0] * slots
        self._retries = [0] * slots

    def _slot(self) -> int:
        epoch = int(self._clock.now() / self._slot_s)
        pos = epoch % len(self._epochs)
        if self._epochs[pos] != epoch:
            self._epochs[pos] = epoch
            self._requests[pos] = 0
            self._retries[pos] = 0
        return pos

    def _totals(self) -> tuple[int, int]:
        oldest = int(self._clock.now() / self._slot_s) - len(self._epochs)
        requests = retries = 0
        for pos, epoch in enumerate(self._epochs):
            if epoch > oldest:
                requests += self._requests[pos]
                retries += self._retries[pos]
        return requests, retries

    def _balance(self) -> float:
        requests, retries = self._totals()
        return self.min_per_s * self.window_s + self.ratio * requests - retries

    def record_request(self) -> None:
        """Count one original request (not a retry)."""
        self._requests[self._slot()] += 1

    def try_withdraw(self) -> bool:
        """Take one retry from the budget; False when it is spent."""
        if self._balance() < 1.0:
            return False
        self._retries[self._slot()] += 1
        return True

    def snapshot(self) -> BudgetSnapshot:
        requests, retries = self._totals()
        return BudgetSnapshot(requests, retries, self._balance())

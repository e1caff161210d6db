"""A circuit breaker per upstream: closed → open on a high failure rate → half-open probes."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bastion.core.clock import Clock, SystemClock
from bastion.errors import Timeout, UpstreamError, UpstreamUnavailable


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateChangeHook = Callable[[str, BreakerState, BreakerState], None]


def counts_as_failure(exc: BaseException) -> bool:
    """The default verdict: timeouts and upstream failures count; client errors and 429s do not."""
    return isinstance(exc, Timeout | UpstreamUnavailable | UpstreamError)


class _CountWindow:
    """The outcomes of the last ``size`` calls."""

    __slots__ = ("_failures", "_outcomes")

    def __init__(self, size: int) -> None:
        self._outcomes: deque[bool] = deque(maxlen=size)
        self._failures = 0

    def record(self, failed: bool) -> None:
        outcomes = self._outcomes
        if len(outcomes) == outcomes.maxlen and outcomes[0]:
            self._failures -= 1
        outcomes.append(failed)
        self._failures += failed

    def totals(self) -> tuple[int, int]:
        return len(self._outcomes), self._failures

    def reset(self) -> None:
        self._outcomes.clear()
        self._failures = 0


class _TimeWindow:
    """The outcomes of the last ``seconds``, in ten rotating buckets."""

    __slots__ = ("_calls", "_clock", "_epochs", "_failures", "_width")

    def __init__(self, seconds: float, clock: Clock, buckets: int = 10) -> None:
        self._clock = clock
        self._width = seconds / buckets
        self._epochs = [-1] * buckets
        self._calls = [0] * buckets
        self._failures = [0] * buckets

    def record(self, failed: bool) -> None:
        epoch = int(self._clock.now() / self._width)
        pos = epoch % len(self._epochs)
        if self._epochs[pos] != epoch:
            self._epochs[pos], self._calls[pos], self._failures[pos] = epoch, 0, 0
        self._calls[pos] += 1
        self._failures[pos] += failed

    def totals(self) -> tuple[int, int]:
        oldest = int(self._clock.now() / self._width) - len(self._epochs)
        live = [pos for pos, epoch in enumerate(self._epochs) if epoch > oldest]
        return sum(self._calls[p] for p in live), sum(self._failures[p] for p in live)

    def reset(self) -> None:
        self._epochs = [-1] * len(self._epochs)


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """What ``/v1/admin/upstreams`` shows for one breaker."""

    name: str
    state: str
    calls: int
    failures: int
    failure_rate: float
    retry_after_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CircuitBreaker:
    """Opens when ``failure_rate_threshold`` of the calls in the window failed (given at least
    ``min_calls``), stays open ``open_s``, then lets ``half_open_probes`` calls through: all of
    them succeeding closes it, any failing re-opens it. The window is the last
    ``window_calls`` calls, or the last ``window_s`` seconds when that is given.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_rate_threshold: float = 0.5,
        min_calls: int = 10,
        window_calls: int = 20,
        window_s: float | None = None,
        open_s: float = 5.0,
        half_open_probes: int = 1,
        clock: Clock | None = None,
        on_state_change: StateChangeHook | None = None,
    ) -> None:
        if not 0 < failure_rate_threshold <= 1 or min_calls < 1 or half_open_probes < 1:
            raise ValueError("threshold must be in (0, 1]; min_calls and probes at least 1")
        self.name = name
        self.threshold = failure_rate_threshold
        self.min_calls = min_calls
        self.open_s = open_s
        self.probes = half_open_probes
        self._clock: Clock = clock or SystemClock()
        self._window = (
            _TimeWindow(window_s, self._clock) if window_s else _CountWindow(window_calls)
        )
        self._on_state_change = on_state_change
        self._state = BreakerState.CLOSED
        self._since = self._clock.now()
        self._probes_issued = 0
        self._probes_passed = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock.now() >= self._since + self.open_s:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def retry_after(self) -> float | None:
        """Seconds until an open breaker lets a probe through (None unless open)."""
        if self.state is not BreakerState.OPEN:
            return None
        return max(0.0, self._since + self.open_s - self._clock.now())

    def allow(self) -> bool:
        """May a call go to the upstream now? In half-open this hands out a probe permit."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        if self._clock.now() - self._since >= self.open_s:  # probes never reported back
            self._since = self._clock.now()
            self._probes_issued = self._probes_passed
        if self._probes_issued < self.probes:
            self._probes_issued += 1
            return True
        return False

    def record_success(self) -> None:
        state = self.state
        if state is BreakerState.CLOSED:
            self._window.record(False)
        elif state is BreakerState.HALF_OPEN:
            self._probes_passed += 1
            if self._probes_passed >= self.probes:
                self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._move(BreakerState.OPEN)
        elif state is BreakerState.CLOSED:
            self._window.record(True)
            calls, failures = self._window.totals()
            if calls >= self.min_calls and failures >= self.threshold * calls:
                self._move(BreakerState.OPEN)

    def record_ignored(self) -> None:
        """A call ended without a verdict (cancelled, client error): give its permit back."""
        if self._state is BreakerState.HALF_OPEN and self._probes_issued > self._probes_passed:
            self._probes_issued -= 1

    @asynccontextmanager
    async def guard(
        self, is_failure: Callable[[BaseException], bool] = counts_as_failure
    ) -> AsyncIterator[None]:
        """Run the block if allowed (else raise ``UpstreamUnavailable``) and record its outcome."""
        if not self.allow():
            raise UpstreamUnavailable(
                f"circuit breaker for {self.name} is open",
                retry_after=self.retry_after(),
                details={"upstream": self.name, "breaker": self._state.value},
            )
        try:
            yield
        except BaseException as exc:
            if is_failure(exc):
                self.record_failure()
            else:
                self.record_ignored()
            raise
        self.record_success()

    def snapshot(self) -> BreakerSnapshot:
        state = self.state
        calls, failures = self._window.totals()
        rate = failures / calls if calls else 0.0
        return BreakerSnapshot(self.name, state.value, calls, failures, rate, self.retry_after())

    def _move(self, new: BreakerState) -> None:
        old, self._state, self._since = self._state, new, self._clock.now()
        self._probes_issued = self._probes_passed = 0
        if new is BreakerState.CLOSED:
            self._window.reset()
        if self._on_state_change is not None and old is not new:
            self._on_state_change(self.name, old, new)

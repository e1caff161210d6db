"""The sliding window in one process: at most ``limit`` units in ANY span of ``period_s``.

GCRA (``gcra.py``) paces: ``limit`` per ``period_s`` on average, with ``burst`` at once, so a
key that bursts and then keeps pace is admitted up to ``burst + limit`` within one period.
The sliding window is what "100 per minute" says: it keeps each admitted charge (time, units)
until it is ``period_s`` old, and admits a check only while the charges of the last
``period_s`` plus this one fit in ``limit``. Memory per key is bounded by the charges of one
period (at most ``limit`` entries; rejected checks store nothing).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bastion.governance.ratelimit.base import Check, Decision, Quota


@dataclass(slots=True)
class Log:
    """One key's charges inside the window, oldest first, and their sum."""

    period_us: int
    entries: deque[list[int]] = field(default_factory=deque)  # [time µs, units]
    used: int = 0

    def expire(self, now_us: int) -> None:
        """Forget charges ``period`` old or older: the window is ``(now - period, now]``."""
        horizon = now_us - self.period_us
        while self.entries and self.entries[0][0] <= horizon:
            self.used -= self.entries.popleft()[1]

    def charge(self, now_us: int, units: int) -> None:
        if units > 0:
            self.entries.append([now_us, units])
            self.used += units

    def refund(self, units: int) -> None:
        """Take back ``units`` from the newest charges (e.g. tokens reserved but not used)."""
        while units > 0 and self.entries:
            newest = self.entries[-1]
            taken = min(units, newest[1])
            newest[1] -= taken
            self.used -= taken
            units -= taken
            if newest[1] == 0:
                self.entries.pop()

    def freed_at(self, need: int) -> int:
        """The time (µs) at which ``need`` units will have left the window."""
        freed = 0
        for at, units in self.entries:
            freed += units
            if freed >= need:
                return at + self.period_us
        return 0  # (cannot happen when need <= used)


def decide(check: Check, log: Log | None, now_us: int, *, charged: bool) -> Decision:
    """The decision for ``check`` given its key's log (after expiry, and after the charge)."""
    limit = check.quota.limit
    used = log.used if log is not None else 0
    if check.cost > limit:
        return Decision(False, max(limit - used, 0), _reset(log, now_us), math.inf, limit)
    retry = 0.0
    if not charged and used + check.cost > limit and log is not None:
        retry = (log.freed_at(used + check.cost - limit) - now_us) / 1e6
    return Decision(charged, max(limit - used, 0), _reset(log, now_us), max(retry, 0.0), limit)


def _reset(log: Log | None, now_us: int) -> float:
    """Seconds until the window is empty again (its newest charge has left it)."""
    if log is None or not log.entries:
        return 0.0
    return max(log.entries[-1][0] + log.period_us - now_us, 0) / 1e6


class WindowMemoryLimiter:
    """Exact sliding windows in one process; asyncio-safe as nothing awaits inside a check.

    Idle keys (whose newest charge has left the window) are swept once the operations since
    the last sweep reach the number of keys (amortised O(1)); above ``max_keys`` the keys
    nearest to empty are dropped (more lenient for them, never stricter).
    """

    __slots__ = ("_clock", "_logs", "_ops", "max_keys", "quota")

    def __init__(
        self,
        quota: Quota | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1_000_000,
    ) -> None:
        self.quota = quota
        self.max_keys = max_keys
        self._clock = clock
        self._logs: dict[str, Log] = {}
        self._ops = 0

    def __len__(self) -> int:
        return len(self._logs)

    async def check(self, key: str, cost: int = 1) -> Decision:
        if self.quota is None:
            raise ValueError("this limiter has no default quota; use check_all")
        return self.check_all_now([Check(key, self.quota, cost)])[0]

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        return self.check_all_now(checks)

    async def settle(self, checks: Sequence[Check]) -> None:
        self.settle_now(checks)

    def check_all_now(self, checks: Sequence[Check]) -> list[Decision]:
        """All or none: every check is charged only if every one fits."""
        now = self._now_us()
        logs = [self._log(c, now) for c in checks]
        ok = all(
            c.cost <= c.quota.limit and (log.used if log else 0) + c.cost <= c.quota.limit
            for c, log in zip(checks, logs, strict=True)
        )
        if ok:
            for i, c in enumerate(checks):
                log = logs[i] or self._logs.setdefault(c.key, Log(_period_us(c.quota)))
                log.charge(now, c.cost)
                logs[i] = log
        self._maybe_sweep(now)
        return [decide(c, log, now, charged=ok) for c, log in zip(checks, logs, strict=True)]

    def settle_now(self, checks: Sequence[Check]) -> None:
        """Charge (cost > 0) or refund (cost < 0) unconditionally."""
        now = self._now_us()
        for c in checks:
            log = self._log(c, now)
            if c.cost > 0:
                log = log or self._logs.setdefault(c.key, Log(_period_us(c.quota)))
                log.charge(now, c.cost)
            elif log is not None:
                log.refund(-c.cost)
        self._maybe_sweep(now)

    def _log(self, check: Check, now_us: int) -> Log | None:
        log = self._logs.get(check.key)
        if log is not None:
            log.period_us = _period_us(check.quota)
            log.expire(now_us)
        return log

    def _now_us(self) -> int:
        return round(self._clock() * 1_000_000)

    def _maybe_sweep(self, now_us: int) -> None:
        self._ops += 1
        if self._ops < max(len(self._logs), 1024) and len(self._logs) <= self.max_keys:
            return
        self._ops = 0
        for log in self._logs.values():
            log.expire(now_us)
        self._logs = {k: v for k, v in self._logs.items() if v.entries}
        if len(self._logs) > self.max_keys:  # keep the 90% whose windows empty last
            ranked = sorted(self._logs.items(), key=lambda kv: kv[1].entries[-1][0], reverse=True)
            self._logs = dict(ranked[: self.max_keys * 9 // 10])


def _period_us(quota: Quota) -> int:
    return max(round(quota.period_s * 1_000_000), 1)

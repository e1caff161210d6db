"""Budgets for one node: the same reserve/commit semantics as Redis, in a dict."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bastion.governance.budget.accounting import (
    check_estimate,
    crossed,
    first_refusal,
    marks,
    new_reservation_id,
    refusal,
)
from bastion.governance.budget.base import (
    Bucket,
    BucketUsage,
    BudgetThresholdCrossed,
    Reservation,
    Usage,
)
from bastion.governance.budget.policy import BudgetTarget


@dataclass(slots=True)
class _State:
    ends_at: float
    spent: list[int] = field(default_factory=lambda: [0, 0, 0])
    reserved: list[int] = field(default_factory=lambda: [0, 0, 0])
    live: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # id -> amounts
    expiry: list[tuple[float, str]] = field(default_factory=list)  # heap of (expires_at, id)
    fired: set[tuple[int, float]] = field(default_factory=set)

    def hold(self, rid: str, amounts: tuple[int, int, int], expires_at: float) -> None:
        self.live[rid] = amounts
        heapq.heappush(self.expiry, (expires_at, rid))
        for i, a in enumerate(amounts):
            self.reserved[i] += a
        if len(self.expiry) > 2 * len(self.live) + 64:  # drop entries of settled holds
            self.expiry = [(t, r) for t, r in self.expiry if r in self.live]
            heapq.heapify(self.expiry)

    def drop(self, rid: str) -> None:
        """Remove a hold (settled, or past its TTL); a no-op if it is already gone."""
        amounts = self.live.pop(rid, None)
        if amounts is not None:
            for i, a in enumerate(amounts):
                self.reserved[i] -= a

    def purge(self, now: float) -> None:
        """Forget reservations past their TTL (a crashed caller never reconciled them)."""
        while self.expiry and self.expiry[0][0] <= now:
            self.drop(heapq.heappop(self.expiry)[1])


class MemoryBudgets:
    """Exact in one process: no ``await`` between a check and its write, so no interleaving.

    Windows that ended more than ``retention_s`` ago are swept out, so memory stays bounded.
    """

    __slots__ = ("_clock", "_ops", "_states", "reservation_ttl_s", "retention_s")

    def __init__(
        self,
        *,
        reservation_ttl_s: float = 600.0,
        retention_s: float = 2 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reservation_ttl_s = reservation_ttl_s
        self.retention_s = retention_s
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._ops = 0

    async def reserve(self, targets: Sequence[BudgetTarget], estimate: Usage) -> Reservation:
        return self.reserve_now(targets, estimate)

    async def commit(self, reservation: Reservation, actual: Usage) -> list[BudgetThresholdCrossed]:
        return self.settle_now(reservation, actual)

    async def release(self, reservation: Reservation) -> None:
        self.settle_now(reservation, None)

    async def usage(self, targets: Sequence[BudgetTarget]) -> list[BucketUsage]:
        now = self._clock()
        out = []
        for target in targets:
            bucket = target.bucket(now)
            state = self._state(bucket, now)
            out.append(BucketUsage(bucket, Usage(*state.spent), Usage(*state.reserved)))
        return out

    def reserve_now(self, targets: Sequence[BudgetTarget], estimate: Usage) -> Reservation:
        """The synchronous core of ``reserve`` (used as the local fallback, too)."""
        now = self._clock()
        buckets = tuple(t.bucket(now) for t in targets)
        check_estimate(buckets, estimate)
        states = [self._state(b, now) for b in buckets]
        for bucket, state in zip(buckets, states, strict=True):
            s, r = state.spent, state.reserved
            used = (s[0] + r[0], s[1] + r[1], s[2] + r[2])
            unit = first_refusal(bucket, used, estimate)
            if unit is not None:
                raise refusal(bucket, unit, used[unit], now)
        reservation = Reservation(
            new_reservation_id(), buckets, estimate, now + self.reservation_ttl_s
        )
        for state in states:
            state.hold(reservation.id, estimate.amounts, reservation.expires_at)
        self._maybe_sweep(now)
        return reservation

    def settle_now(
        self, reservation: Reservation, actual: Usage | None
    ) -> list[BudgetThresholdCrossed]:
        """Commit ``actual`` (or release, when None); call it once per reservation."""
        now = self._clock()
        events = []
        for bucket in reservation.buckets:
            state = self._state(bucket, now)
            state.drop(reservation.id)
            if actual is None:
                continue
            for i, a in enumerate(actual.amounts):
                state.spent[i] += a
            for unit, fraction, amount in marks(bucket):
                if state.spent[unit] >= amount and (unit, fraction) not in state.fired:
                    state.fired.add((unit, fraction))
                    events.append(crossed(bucket, unit, fraction, state.spent[unit]))
        return events

    def _state(self, bucket: Bucket, now: float) -> _State:
        state = self._states.get(bucket.name)
        if state is None:
            state = self._states[bucket.name] = _State(bucket.ends_at)
        state.purge(now)
        return state

    def _maybe_sweep(self, now: float) -> None:
        self._ops += 1
        if self._ops >= max(len(self._states), 1024):
            self._ops = 0
            horizon = now - self.retention_s
            self._states = {k: s for k, s in self._states.items() if s.ends_at > horizon}

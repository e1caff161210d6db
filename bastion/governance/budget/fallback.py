"""Budgets when Redis is unreachable: refuse with 503 (default), or count locally per node."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import structlog

from bastion.governance.budget.base import (
    BucketUsage,
    BudgetStore,
    BudgetThresholdCrossed,
    Reservation,
    Usage,
)
from bastion.governance.budget.memory_store import MemoryBudgets
from bastion.governance.budget.policy import BudgetTarget
from bastion.governance.outage import OutageGate, StoreUnavailable

log = structlog.get_logger(__name__)
_LOCAL = "local"


class FallbackBudgets:
    """``primary`` while it answers; during an outage ``local`` or, if None, a 503.

    ``local=None`` (the default in config) fails closed: no money is spent that cannot be
    counted. With a local store each node enforces the full budget on its own from zero, so
    an outage can overspend by at most ``replicas x limit`` for its duration; reservations
    made locally are reconciled locally.
    """

    __slots__ = ("_gate", "local", "primary")

    def __init__(
        self,
        primary: BudgetStore,
        local: MemoryBudgets | None,
        *,
        retry_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.local = local
        self._gate = OutageGate(retry_interval_s, clock)

    async def reserve(self, targets: Sequence[BudgetTarget], estimate: Usage) -> Reservation:
        if not self._gate.down:
            try:
                return await self.primary.reserve(targets, estimate)
            except StoreUnavailable:
                self._failed()
        if self.local is None:
            raise self._gate.unavailable("the budget store")
        r = self.local.reserve_now(targets, estimate)
        return Reservation(r.id, r.buckets, r.amount, r.expires_at, store=_LOCAL)

    async def commit(self, reservation: Reservation, actual: Usage) -> list[BudgetThresholdCrossed]:
        if reservation.store == _LOCAL and self.local is not None:
            return self.local.settle_now(reservation, actual)
        return await self.primary.commit(reservation, actual)

    async def release(self, reservation: Reservation) -> None:
        if reservation.store == _LOCAL and self.local is not None:
            self.local.settle_now(reservation, None)
            return
        await self.primary.release(reservation)

    async def usage(self, targets: Sequence[BudgetTarget]) -> list[BucketUsage]:
        return await self.primary.usage(targets)

    def _failed(self) -> None:
        self._gate.failed()
        log.warning(
            "budget_store_failed",
            fallback="local" if self.local else "refuse",
            retry_in_s=self._gate.retry_interval_s,
        )

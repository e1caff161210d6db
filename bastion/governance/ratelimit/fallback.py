"""Rate limiting when Redis is unreachable: a local limiter per node, or refuse (503)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import structlog

from bastion.governance.outage import OutageGate, StoreUnavailable
from bastion.governance.ratelimit.base import Check, Decision, Limiter, Quota
from bastion.governance.ratelimit.memory import MemoryLimiter
from bastion.governance.ratelimit.window import WindowMemoryLimiter

log = structlog.get_logger(__name__)


class FallbackLimiter:
    """``primary`` (Redis) while it answers; during an outage ``local`` or, if None, a 503.

    With a local fallback the cluster admits at most ``replicas x limit`` per period while
    Redis is down (each node enforces the full limit on its own): bounded, and the service
    stays up. ``local=None`` fails closed with ``StoreUnavailable`` (503 ``overloaded``).
    """

    __slots__ = ("_gate", "local", "primary")

    def __init__(
        self,
        primary: Limiter,
        local: MemoryLimiter | WindowMemoryLimiter | None,
        *,
        retry_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.local = local
        self._gate = OutageGate(retry_interval_s, clock)

    @property
    def quota(self) -> Quota | None:
        return getattr(self.primary, "quota", None)

    async def check(self, key: str, cost: int = 1) -> Decision:
        if self.quota is None:
            raise ValueError("this limiter has no default quota; use check_all")
        return (await self.check_all([Check(key, self.quota, cost)]))[0]

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        if not self._gate.down:
            try:
                return await self.primary.check_all(checks)
            except StoreUnavailable:
                self._failed()
        if self.local is None:
            raise self._gate.unavailable("the rate-limit store")
        return self.local.check_all_now(checks)

    async def settle(self, checks: Sequence[Check]) -> None:
        if not self._gate.down:
            try:
                await self.primary.settle(checks)
                return
            except StoreUnavailable:
                self._failed()
        if self.local is not None:
            self.local.settle_now(checks)

    def _failed(self) -> None:
        self._gate.failed()
        log.warning(
            "rate_limit_store_failed",
            fallback="local" if self.local else "refuse",
            retry_in_s=self._gate.retry_interval_s,
        )

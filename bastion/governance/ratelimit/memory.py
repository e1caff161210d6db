"""An in-process GCRA limiter for one node: a dict of TATs with an injected clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bastion.governance.ratelimit.base import Check, Decision, Quota
from bastion.governance.ratelimit.gcra import Plan


class MemoryLimiter:
    """Exact GCRA in one process; asyncio-safe because nothing awaits between read and write.

    Memory stays bounded: a key whose TAT is in the past is equivalent to an absent key, so
    such keys are swept out once the number of operations since the last sweep reaches the
    number of keys (amortised O(1)); above ``max_keys`` the keys nearest to rest are evicted
    (which can only make the limiter more lenient for them, never stricter).
    """

    __slots__ = ("_clock", "_ops", "_tats", "max_keys", "quota")

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
        self._tats: dict[str, tuple[int, int]] = {}  # key -> (TAT in µs * den, den)
        self._ops = 0

    def __len__(self) -> int:
        return len(self._tats)

    async def check(self, key: str, cost: int = 1) -> Decision:
        if self.quota is None:
            raise ValueError("this limiter has no default quota; use check_all")
        return self.check_all_now([Check(key, self.quota, cost)])[0]

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        return self.check_all_now(checks)

    async def settle(self, checks: Sequence[Check]) -> None:
        self.settle_now(checks)

    def check_all_now(self, checks: Sequence[Check]) -> list[Decision]:
        """The synchronous core of ``check_all`` (used as the local fallback, too)."""
        now_us = self._now_us()
        plans = [Plan.of(c) for c in checks]
        rels = [self._rel(p, now_us) for p in plans]
        ok = True
        for plan, rel in zip(plans, rels, strict=True):
            if not plan.fits(rel):  # (an impossible cost never fits)
                ok = False
                break
        if ok:
            for plan, rel in zip(plans, rels, strict=True):
                self._tats[plan.check.key] = (now_us * plan.den + rel + plan.inc, plan.den)
        self._maybe_sweep(now_us)
        return [p.decide(r, charged=ok) for p, r in zip(plans, rels, strict=True)]

    def settle_now(self, checks: Sequence[Check]) -> None:
        now_us = self._now_us()
        for check in checks:
            plan = Plan.of(check)
            rel = self._rel(plan, now_us) + plan.inc
            if rel > 0:
                self._tats[check.key] = (now_us * plan.den + rel, plan.den)
            else:
                self._tats.pop(check.key, None)
        self._maybe_sweep(now_us)

    def _now_us(self) -> int:
        return round(self._clock() * 1_000_000)

    def _rel(self, plan: Plan, now_us: int) -> int:
        """``max(TAT - now, 0)`` in the plan's scaled units."""
        stored = self._tats.get(plan.check.key)
        if stored is None:
            return 0
        tat, den = stored
        if den != plan.den:  # the quota changed: carry the TAT over in the new units
            tat = tat * plan.den // den
        return max(tat - now_us * plan.den, 0)

    def _maybe_sweep(self, now_us: int) -> None:
        self._ops += 1
        if self._ops < max(len(self._tats), 1024) and len(self._tats) <= self.max_keys:
            return
        self._ops = 0
        self._tats = {k: v for k, v in self._tats.items() if v[0] > now_us * v[1]}
        if len(self._tats) > self.max_keys:  # keep the 90% furthest from rest
            ranked = sorted(self._tats.items(), key=lambda kv: kv[1][0] / kv[1][1], reverse=True)
            self._tats = dict(ranked[: self.max_keys * 9 // 10])

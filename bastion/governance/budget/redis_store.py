"""Budgets shared by every replica: Lua scripts reserve, commit and release atomically."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis

from bastion.governance.budget import lua
from bastion.governance.budget.accounting import (
    check_estimate,
    crossed,
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
from bastion.governance.redis_lua import LuaScript, map_redis_errors

_WHAT = "the budget store"


class RedisBudgets:
    """Exact across replicas: each check-and-reserve and each commit is one script call.

    Window ids and reservation expiry follow the gateway's wall clock (``clock``); the
    counters' exactness does not depend on it. Keys expire ``retention_s`` after their window.
    """

    __slots__ = (
        "_clock",
        "_redis",
        "_reserve",
        "_settle",
        "_usage",
        "prefix",
        "reservation_ttl_s",
        "retention_s",
    )

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "bastion:budget:",
        reservation_ttl_s: float = 600.0,
        retention_s: float = 2 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.prefix = prefix
        self.reservation_ttl_s = reservation_ttl_s
        self.retention_s = retention_s
        self._redis = redis
        self._clock = clock
        self._reserve = LuaScript(lua.RESERVE)
        self._settle = LuaScript(lua.SETTLE)
        self._usage = LuaScript(lua.USAGE)

    async def reserve(self, targets: Sequence[BudgetTarget], estimate: Usage) -> Reservation:
        now = self._clock()
        buckets = tuple(t.bucket(now) for t in targets)
        check_estimate(buckets, estimate)
        reservation = Reservation(
            new_reservation_id(), buckets, estimate, now + self.reservation_ttl_s
        )
        args: list[int | str] = [_ms(now), reservation.id, _ms(reservation.expires_at)]
        args += estimate.amounts
        for bucket in buckets:
            args += [-1 if limit is None else limit for limit in bucket.limits]
            args.append(self._ttl(bucket, now))
        with map_redis_errors(_WHAT):
            out = await self._reserve(self._redis, self._keys(buckets), args)
        if int(out[0]) != 1:
            raise refusal(buckets[int(out[1]) - 1], int(out[2]) - 1, int(out[3]), now)
        return reservation

    async def commit(self, reservation: Reservation, actual: Usage) -> list[BudgetThresholdCrossed]:
        return await self._settle_call(reservation, "commit", actual)

    async def release(self, reservation: Reservation) -> None:
        await self._settle_call(reservation, "release", Usage())

    async def usage(self, targets: Sequence[BudgetTarget]) -> list[BucketUsage]:
        now = self._clock()
        buckets = [t.bucket(now) for t in targets]
        with map_redis_errors(_WHAT):
            out = await self._usage(self._redis, self._keys(buckets), [_ms(now), ""])
        values = [int(v) for v in out]
        return [
            BucketUsage(b, Usage(*values[6 * i : 6 * i + 3]), Usage(*values[6 * i + 3 : 6 * i + 6]))
            for i, b in enumerate(buckets)
        ]

    async def _settle_call(
        self, reservation: Reservation, mode: str, actual: Usage
    ) -> list[BudgetThresholdCrossed]:
        buckets, now = reservation.buckets, self._clock()
        args: list[int | str] = [_ms(now), reservation.id, mode, *actual.amounts]
        for bucket in buckets:
            args.append(self._ttl(bucket, now))
            args.append(",".join(f"{u}:{f!r}:{amount}" for u, f, amount in marks(bucket)))
        with map_redis_errors(_WHAT):
            out = await self._settle(self._redis, self._keys(buckets), args)
        return [
            crossed(buckets[int(out[i]) - 1], int(out[i + 1]), float(out[i + 2]), int(out[i + 3]))
            for i in range(0, len(out), 4)
        ]

    def _keys(self, buckets: Sequence[Bucket]) -> list[str]:
        keys = []
        for bucket in buckets:  # the kind leads, so no subject can name another's key
            keys += [f"{self.prefix}{kind}:{bucket.name}" for kind in ("h", "z", "r")]
        return keys

    def _ttl(self, bucket: Bucket, now: float) -> int:
        """Seconds the bucket's keys live: to ``retention_s`` after its window ends."""
        return max(math.ceil(bucket.ends_at + self.retention_s - now), 1)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)

"""Governance built once from a plain config mapping: shared stores, per-deployment stages."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.errors import ConfigError
from bastion.governance.budget.base import BudgetStore
from bastion.governance.budget.fallback import FallbackBudgets
from bastion.governance.budget.memory_store import MemoryBudgets
from bastion.governance.budget.policy import BudgetPolicy
from bastion.governance.budget.prices import PriceTable
from bastion.governance.config_util import choice, unknown_keys
from bastion.governance.ratelimit.base import Limiter
from bastion.governance.ratelimit.fallback import FallbackLimiter
from bastion.governance.ratelimit.memory import MemoryLimiter
from bastion.governance.ratelimit.policy import RateLimitPolicy
from bastion.governance.ratelimit.window import WindowMemoryLimiter
from bastion.governance.stage import AdmitStage

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bastion.governance.budget.base import Usage
    from bastion.pipeline import Call

_TOP = {"store", "key_prefix", "rate_limits", "budgets", "prices"}
_RATE = {"rules", "algorithm", "on_unavailable", "retry_interval_s"}
_BUDGET = {"rules", "on_unavailable", "retry_interval_s", "reservation_ttl_s", "retention_s"}


@dataclass(frozen=True, slots=True)
class Governance:
    """The limiter, budget store and prices of one process, and the default policies."""

    limiter: Limiter
    budgets: BudgetStore
    prices: PriceTable
    rate_policy: RateLimitPolicy
    budget_policy: BudgetPolicy
    remote: bool = False  # the stores are across the network (Redis): admit checks overlap

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None,
        *,
        redis: Redis | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Governance:
        """Build from the ``governance`` section (see docs/limits.md for its shape).

        ``store: redis`` needs ``redis`` (the composition root owns the connection pool).
        """
        config = config or {}
        unknown_keys(config, _TOP, "governance")
        rate = _section(config, "rate_limits", _RATE)
        budget = _section(config, "budgets", _BUDGET)
        store = choice(config.get("store", "memory"), ("memory", "redis"), "governance.store")
        ttl = float(budget.get("reservation_ttl_s", 600.0))
        retention = float(budget.get("retention_s", 2 * 86400.0))
        algorithm = choice(
            rate.get("algorithm", "sliding_window"),
            ("sliding_window", "gcra"),
            "rate_limits.algorithm",
        )
        window = algorithm == "sliding_window"
        local_limiter = (
            WindowMemoryLimiter(clock=monotonic) if window else MemoryLimiter(clock=monotonic)
        )
        local_budgets = MemoryBudgets(reservation_ttl_s=ttl, retention_s=retention, clock=clock)
        limiter: Limiter = local_limiter
        budgets: BudgetStore = local_budgets
        if store == "redis":
            if redis is None:
                raise ConfigError("governance.store is redis but no Redis client was given")
            # the redis client's modules load only for this store
            from bastion.governance.budget.redis_store import RedisBudgets
            from bastion.governance.ratelimit.redis_limiter import RedisLimiter
            from bastion.governance.ratelimit.redis_window import RedisWindowLimiter

            prefix = str(config.get("key_prefix", "bastion:"))
            on_rate = choice(
                rate.get("on_unavailable", "local"),
                ("local", "closed"),
                "rate_limits.on_unavailable",
            )
            on_budget = choice(
                budget.get("on_unavailable", "closed"),
                ("local", "closed"),
                "budgets.on_unavailable",
            )
            limiter = FallbackLimiter(
                RedisWindowLimiter(redis, prefix=prefix + "rlw:")
                if window
                else RedisLimiter(redis, prefix=prefix + "rl:"),
                local_limiter if on_rate == "local" else None,
                retry_interval_s=float(rate.get("retry_interval_s", 1.0)),
                clock=monotonic,
            )
            budgets = FallbackBudgets(
                RedisBudgets(
                    redis,
                    prefix=prefix + "budget:",
                    reservation_ttl_s=ttl,
                    retention_s=retention,
                    clock=clock,
                ),
                local_budgets if on_budget == "local" else None,
                retry_interval_s=float(budget.get("retry_interval_s", 1.0)),
                clock=monotonic,
            )
        rate_policy = RateLimitPolicy.from_config(rate)
        if window and any(r.burst is not None for r in rate_policy.rules):
            raise ConfigError(
                "rate_limits.rules: burst applies to algorithm gcra only; a sliding window "
                "admits up to limit at once. Remove burst, or set rate_limits.algorithm: gcra"
            )
        return cls(
            limiter,
            budgets,
            PriceTable.from_config(config.get("prices")),
            rate_policy,
            BudgetPolicy.from_config(budget),
            remote=store == "redis",
        )

    def stage(
        self,
        rate_policy: RateLimitPolicy | None = None,
        budget_policy: BudgetPolicy | None = None,
        *,
        on_settled: Callable[[Call, Usage], None] | None = None,
    ) -> AdmitStage:
        """An admit stage on the shared stores; a deployment may bring its own policies.

        ``on_settled(call, usage)`` runs once per call whose usage was committed (e.g. to
        write a usage record); refused and failed calls never reach it.
        """
        return AdmitStage(
            self.limiter,
            rate_policy or self.rate_policy,
            self.budgets,
            budget_policy or self.budget_policy,
            self.prices,
            on_settled=on_settled,
            concurrent=self.remote,
        )


def _section(config: Mapping[str, Any], name: str, known: set[str]) -> Mapping[str, Any]:
    section = config.get(name) or {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"governance.{name} must be a mapping")
    unknown_keys(section, known, f"governance.{name}")
    return section

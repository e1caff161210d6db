"""Settings of governance: rate limits, budgets, prices, and where their counters live."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bastion.settings.core import Section

GovernanceScope = Literal["key", "team", "tenant", "deployment"]


class RateLimitRuleSettings(Section):
    """``limit`` requests (or tokens) per ``period_s`` for each key, team, tenant or deployment.

    ``burst`` (default ``limit``) is how many may be admitted at once from rest.
    """

    scope: GovernanceScope
    unit: Literal["requests", "tokens"] = "requests"
    limit: int = Field(ge=1, le=10**12)
    period_s: float = Field(60.0, ge=0.001, le=400 * 86400)
    burst: int | None = Field(None, ge=1, le=10**12)


class RateLimitSettings(Section):
    """``sliding_window`` (default): at most ``limit`` in any span of ``period_s``, exactly.
    ``gcra``: paced at ``limit / period_s`` with ``burst`` at once (a key that bursts and then
    keeps pace gets up to ``burst + limit`` within one period); O(1) memory per key."""

    rules: list[RateLimitRuleSettings] = Field(default_factory=list)
    algorithm: Literal["sliding_window", "gcra"] = "sliding_window"
    on_unavailable: Literal["local", "closed"] = Field(
        "local", description="Redis down: each node limits on its own (local) or 503 (closed)"
    )
    retry_interval_s: float = Field(1.0, gt=0, le=60)


class BudgetRuleSettings(Section):
    """Limits in USD, requests and/or tokens per subject over a UTC day or month."""

    scope: GovernanceScope
    window: Literal["day", "month"]
    limit_usd: float | None = Field(None, ge=0)
    limit_requests: int | None = Field(None, ge=0)
    limit_tokens: int | None = Field(None, ge=0)
    thresholds: list[float] = Field(default_factory=lambda: [0.5, 0.8, 1.0])

    @model_validator(mode="after")
    def _some_limit(self) -> BudgetRuleSettings:
        if self.limit_usd is None and self.limit_requests is None and self.limit_tokens is None:
            raise ValueError("set at least one of limit_usd, limit_requests, limit_tokens")
        if any(not 0 < f <= 10 for f in self.thresholds):
            raise ValueError("thresholds are fractions of the limit in (0, 10], e.g. 0.8")
        return self


class BudgetSettings(Section):
    rules: list[BudgetRuleSettings] = Field(default_factory=list)
    on_unavailable: Literal["local", "closed"] = Field(
        "closed", description="Redis down: 503 (closed) or count per node from zero (local)"
    )
    retry_interval_s: float = Field(1.0, gt=0, le=60)
    reservation_ttl_s: float = Field(600.0, gt=0, description="keep above the longest request")
    retention_s: float = Field(2 * 86400.0, ge=0)

    @field_validator("rules")
    @classmethod
    def _one_per_scope_window(cls, value: list[BudgetRuleSettings]) -> list[BudgetRuleSettings]:
        pairs = [(r.scope, r.window) for r in value]
        if len(set(pairs)) != len(pairs):
            raise ValueError("one rule per scope and window; merge their limits into one rule")
        return value


class PriceSettings(Section):
    """USD per input/output token (per 1K, per 1M or per token) and/or per prediction."""

    input_per_1k: float | None = Field(None, ge=0)
    input_per_1m: float | None = Field(None, ge=0)
    input_per_token: float | None = Field(None, ge=0)
    output_per_1k: float | None = Field(None, ge=0)
    output_per_1m: float | None = Field(None, ge=0)
    output_per_token: float | None = Field(None, ge=0)
    per_prediction: float | None = Field(None, ge=0)


class GovernanceSettings(Section):
    """Rate limits, quotas and budgets (see docs/limits.md).

    ``store: memory`` counts in this process (one node); ``redis`` shares exact counters
    between replicas at ``redis_url``. ``prices`` are keyed by deployment or LLM group name
    (``default`` prices the rest); LLM groups not listed are priced from their upstreams.
    """

    store: Literal["memory", "redis"] = "memory"
    redis_url: str = Field("redis://127.0.0.1:6379/0", pattern=r"^rediss?://")
    key_prefix: str = Field("bastion:", min_length=1, max_length=64)
    rate_limits: RateLimitSettings = RateLimitSettings()
    budgets: BudgetSettings = BudgetSettings()
    prices: dict[str, PriceSettings] = Field(default_factory=dict)
    default_max_tokens: int = Field(
        1024, ge=1, description="completion tokens reserved when a request names no max_tokens"
    )
    max_tokens: int = Field(
        1_000_000, ge=1, description="the largest max_tokens a request may ask for"
    )
    record_usage: bool = Field(True, description="write a usage row per call (costs report)")

    def as_config(self) -> dict[str, Any]:
        """The plain mapping ``bastion.governance.Governance.from_config`` takes."""
        return self.model_dump(
            mode="json",
            exclude_none=True,
            include={"store", "key_prefix", "rate_limits", "budgets", "prices"},
        )

"""Settings of humans in the loop: per-deployment review policies, leases, SLAs, webhooks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bastion.settings.core import Section

Trigger = Literal["confidence", "guard", "features", "sample", "client"]
TRIGGERS: tuple[Trigger, ...] = ("guard", "features", "confidence", "client", "sample")
_DEFAULT_PRIORITIES: dict[Trigger, int] = {
    "guard": 30, "features": 25, "confidence": 20, "client": 10, "sample": 0,
}  # fmt: skip


class EscalationSettings(Section):
    """A stronger model asked before a human: another deployment, LLM group or version.

    ``min_confidence``: the confidence its answer must reach to be served without a human;
    None accepts its answer as it is (LLMs report no confidence).
    """

    to: str = Field(min_length=1, description="deployment or LLM group name")
    version: int | None = Field(None, ge=1, description="a pinned version of that deployment")
    min_confidence: float | None = Field(None, ge=0, le=1)


class ReviewPolicySettings(Section):
    """When one deployment's outputs go to a human, and what the client gets meanwhile.

    ``fallback``: ``pending`` answers ``{"status": "pending_review", "review_id": ...}``,
    ``model`` answers the model's own output (reviewed afterwards), ``static`` answers
    ``fallback_output``. ``mode: hold`` waits up to ``hold_s`` for a decision first.
    """

    deployment: str = Field(min_length=1)
    confidence_below: float | None = Field(None, gt=0, le=1)
    on_guard_flags: bool = False
    sample_rate: float = Field(0.0, ge=0, le=1, description="QA sampling: share of answers")
    client_may_request: bool = Field(False, description="header x-bastion-review: request")
    mode: Literal["async", "hold"] = "async"
    hold_s: float = Field(10.0, gt=0, le=300)
    fallback: Literal["pending", "model", "static"] = "pending"
    fallback_output: Any = None
    escalate_to: EscalationSettings | None = None
    sla_s: float = Field(3600.0, gt=0, description="time to a decision before the second tier")
    second_tier_role: Literal["approver", "operator", "admin"] = "approver"
    webhook_url: str | None = Field(None, pattern=r"^https?://")
    priority: int = Field(0, description="added to every item of this deployment")
    priorities: dict[Trigger, int] = Field(default_factory=lambda: dict(_DEFAULT_PRIORITIES))

    @model_validator(mode="after")
    def _static_needs_output(self) -> ReviewPolicySettings:
        if self.fallback == "static" and self.fallback_output is None:
            raise ValueError("fallback 'static' needs fallback_output (the answer to send)")
        return self


class ReviewSettings(Section):
    """The review queue: policies per deployment, claim leases, SLA sweeps, webhook delivery."""

    policies: list[ReviewPolicySettings] = Field(default_factory=list)
    lease_s: float = Field(300.0, gt=0, le=86_400, description="how long a claim holds")
    sla_check_interval_s: float = Field(5.0, gt=0, le=3600)
    hold_poll_interval_s: float = Field(
        0.5, gt=0, le=10, description="hold mode: how often to look for decisions made elsewhere"
    )
    webhook_url: str | None = Field(None, pattern=r"^https?://", description="default for all")
    webhook_secret: SecretStr | None = Field(None, description="HMAC-SHA256 signs each body")
    webhook_attempts: int = Field(5, ge=1, le=20)
    webhook_backoff_s: float = Field(0.5, gt=0, le=60)
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)
    webhook_max_pending: int = Field(1000, ge=1, description="deliveries in flight at once")

    @field_validator("policies")
    @classmethod
    def _one_per_deployment(cls, value: list[ReviewPolicySettings]) -> list[ReviewPolicySettings]:
        names = [p.deployment for p in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"one review policy per deployment; repeated: {', '.join(dupes)}")
        return value

    def policy(self, deployment: str) -> ReviewPolicySettings | None:
        return next((p for p in self.policies if p.deployment == deployment), None)

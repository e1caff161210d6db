"""Settings of rollouts: per-deployment shadow traffic, canary steps and SLOs, and A/B tests."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bastion.settings.core import Section

_ALIAS_PATTERN = r"^[a-z][a-z0-9._-]{0,62}$"
_ARM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


class ShadowSettings(Section):
    """Mirror ``share`` of successful live calls to a candidate (a version or an alias)."""

    version: int | None = Field(None, ge=1)
    alias: str | None = Field(None, pattern=_ALIAS_PATTERN)
    share: float = Field(0.1, ge=0, le=1, description="share of live calls mirrored")
    tolerance: float = Field(1e-6, ge=0, description="numeric outputs agree within this")
    timeout_s: float = Field(30.0, gt=0, le=600, description="a candidate call's time limit")

    @model_validator(mode="after")
    def _one_candidate(self) -> ShadowSettings:
        if (self.version is None) == (self.alias is None):
            raise ValueError("shadow needs exactly one of 'version' or 'alias' (the candidate)")
        return self


class SloSettings(Section):
    """What a canary must hold at every step; None switches a check off."""

    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_p95_ms: float | None = Field(None, gt=0)
    max_low_confidence_rate: float | None = Field(None, ge=0, le=1)
    low_confidence_below: float = Field(0.5, gt=0, le=1)


class CanarySettings(Section):
    """Progressive traffic to the version under ``alias``, analysed and advanced per step.

    ``steps`` are percentages of traffic, increasing, ending at 100. A step passes after
    ``step_s`` seconds and ``min_requests`` canary requests without an SLO breach and without
    being significantly worse than the stable arm (error rate; latency by more than
    ``max_latency_increase``, a fraction). Passing 100 promotes the version.
    """

    alias: str = Field("canary", pattern=_ALIAS_PATTERN)
    steps: list[float] = Field(default_factory=lambda: [5.0, 25.0, 50.0, 100.0])
    step_s: float = Field(300.0, gt=0, le=7 * 86_400)
    min_requests: int = Field(100, ge=1)
    slo: SloSettings = SloSettings()
    alpha: float = Field(0.01, gt=0, lt=0.5, description="significance level vs the stable arm")
    max_latency_increase: float | None = Field(0.5, ge=0)
    auto_start: bool = Field(True, description="start when the canary alias moves")

    @field_validator("steps")
    @classmethod
    def _increasing_to_100(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("steps must list at least one traffic percentage, e.g. [5, 50, 100]")
        if any(not 0 < s <= 100 for s in value):
            raise ValueError("every step is a traffic percentage in (0, 100]")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("steps must increase, e.g. [5, 25, 50, 100]")
        if value[-1] != 100:
            raise ValueError("the last step must be 100 (the canary takes all traffic)")
        return value


class ArmSettings(Section):
    name: str = Field(pattern=_ARM_PATTERN)
    version: int | None = Field(None, ge=1)
    alias: str | None = Field(None, pattern=_ALIAS_PATTERN)
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _one_target(self) -> ArmSettings:
        if (self.version is None) == (self.alias is None):
            raise ValueError(f"arm '{self.name}' needs exactly one of 'version' or 'alias'")
        return self


class StickyEntity(Section):
    entity_field: str = Field(min_length=1, max_length=100)


class AbSettings(Section):
    """Split traffic between arms by weight, sticky per API key or per entity field.

    ``sticky: key`` keeps each API key on one arm; ``sticky: {entity_field: customer_id}``
    keeps each value of that input field on one arm (the first input's, for a batch).
    """

    arms: list[ArmSettings] = Field(min_length=2)
    sticky: Literal["key"] | StickyEntity = "key"
    min_samples: int = Field(100, ge=2, description="per arm, before any verdict")
    alpha: float = Field(0.05, gt=0, lt=0.5)
    experiment: str = Field("default", pattern=_ARM_PATTERN, description="renaming reshuffles")

    @field_validator("arms")
    @classmethod
    def _unique_arms(cls, value: list[ArmSettings]) -> list[ArmSettings]:
        names = [a.name for a in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"arm names must be unique; repeated: {', '.join(dupes)}")
        return value


class DeploymentRolloutSettings(Section):
    deployment: str = Field(min_length=1)
    shadow: ShadowSettings | None = None
    canary: CanarySettings | None = None
    ab: AbSettings | None = None

    @model_validator(mode="after")
    def _one_split(self) -> DeploymentRolloutSettings:
        if self.canary is not None and self.ab is not None:
            raise ValueError(
                f"deployment '{self.deployment}': a canary and an A/B test both split traffic; "
                "configure one of them"
            )
        return self


class RolloutsSettings(Section):
    """Shadow, canary and A/B per deployment, and how their work is bounded and persisted."""

    deployments: list[DeploymentRolloutSettings] = Field(default_factory=list)
    shadow_concurrency: int = Field(2, ge=1, le=64, description="candidate calls at once")
    shadow_queue: int = Field(256, ge=1, le=100_000, description="waiting; beyond: dropped")
    tick_s: float = Field(1.0, gt=0, le=60, description="canary state refresh and analysis")
    persist_interval_s: float = Field(5.0, gt=0, le=600, description="stats flushed to the db")
    lease_s: float = Field(15.0, gt=0, le=600, description="the canary driver's lease")
    max_pending_assignments: int = Field(10_000, ge=0, description="A/B log; beyond: dropped")

    @field_validator("deployments")
    @classmethod
    def _one_per_deployment(
        cls, value: list[DeploymentRolloutSettings]
    ) -> list[DeploymentRolloutSettings]:
        names = [d.deployment for d in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"one rollout entry per deployment; repeated: {', '.join(dupes)}")
        return value

    def of(self, deployment: str) -> DeploymentRolloutSettings | None:
        return next((d for d in self.deployments if d.deployment == deployment), None)

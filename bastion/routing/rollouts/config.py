"""Rollout plans: the settings turned into frozen values the hot path and the driver read."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from bastion.settings.rollouts import (
    AbSettings,
    CanarySettings,
    RolloutsSettings,
    ShadowSettings,
    SloSettings,
)


def unit(key: str) -> float:
    """A stable hash of ``key`` mapped to [0, 1): the same key lands in the same place in
    every process and after every restart (unlike ``hash()``, which is salted per process)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True, slots=True)
class SloPlan:
    max_error_rate: float = 0.05
    max_p95_ms: float | None = None
    max_low_confidence_rate: float | None = None
    low_confidence_below: float = 0.5


@dataclass(frozen=True, slots=True)
class CanaryPlan:
    """How one canary proceeds; stored with the run so that every process agrees on it."""

    alias: str = "canary"
    steps: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)
    step_s: float = 300.0
    min_requests: int = 100
    slo: SloPlan = SloPlan()
    alpha: float = 0.01
    max_latency_increase: float | None = 0.5
    auto_start: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = list(self.steps)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanaryPlan:
        slo = SloPlan(**dict(data.get("slo") or {}))
        rest = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "slo"}
        rest["steps"] = tuple(float(s) for s in rest.get("steps", (5.0, 25.0, 50.0, 100.0)))
        return cls(slo=slo, **rest)


@dataclass(frozen=True, slots=True)
class ShadowPlan:
    version: int | None
    alias: str | None
    share: float
    tolerance: float
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Arm:
    name: str
    version: int | None
    alias: str | None
    weight: float


@dataclass(frozen=True, slots=True)
class AbPlan:
    """Arms with cumulative weight bounds; ``entity_field`` None means sticky by API key."""

    experiment: str
    arms: tuple[Arm, ...]
    bounds: tuple[float, ...]
    entity_field: str | None
    min_samples: int
    alpha: float

    def arm_for(self, sticky: str, deployment: str) -> Arm:
        """The arm a sticky value lands on: the same value always gets the same arm."""
        point = unit(f"ab:{deployment}:{self.experiment}:{sticky}")
        for arm, bound in zip(self.arms, self.bounds, strict=True):
            if point < bound:
                return arm
        return self.arms[-1]


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    deployment: str
    shadow: ShadowPlan | None = None
    canary: CanaryPlan | None = None
    ab: AbPlan | None = None


def slo_plan(settings: SloSettings) -> SloPlan:
    return SloPlan(**settings.model_dump())


def canary_plan(settings: CanarySettings | None) -> CanaryPlan:
    """The plan for a configured canary, or the defaults when none is configured."""
    if settings is None:
        return CanaryPlan()
    return CanaryPlan(
        alias=settings.alias,
        steps=tuple(settings.steps),
        step_s=settings.step_s,
        min_requests=settings.min_requests,
        slo=slo_plan(settings.slo),
        alpha=settings.alpha,
        max_latency_increase=settings.max_latency_increase,
        auto_start=settings.auto_start,
    )


def shadow_plan(settings: ShadowSettings) -> ShadowPlan:
    return ShadowPlan(
        settings.version, settings.alias, settings.share, settings.tolerance, settings.timeout_s
    )


def ab_plan(settings: AbSettings) -> AbPlan:
    arms = tuple(Arm(a.name, a.version, a.alias, a.weight) for a in settings.arms)
    total = sum(a.weight for a in arms)
    bounds: list[float] = []
    running = 0.0
    for arm in arms:
        running += arm.weight / total
        bounds.append(running)
    bounds[-1] = 1.0
    field = None if settings.sticky == "key" else settings.sticky.entity_field
    return AbPlan(
        settings.experiment, arms, tuple(bounds), field, settings.min_samples, settings.alpha
    )


def plans_from(settings: RolloutsSettings) -> dict[str, RolloutPlan]:
    """One plan per configured deployment."""
    return {
        d.deployment: RolloutPlan(
            d.deployment,
            shadow_plan(d.shadow) if d.shadow else None,
            canary_plan(d.canary) if d.canary else None,
            ab_plan(d.ab) if d.ab else None,
        )
        for d in settings.deployments
    }

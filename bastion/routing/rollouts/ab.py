"""A/B tests: sticky arm assignment and per-arm outcomes joined from client feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bastion.routing.rollouts.config import AbPlan, Arm

if TYPE_CHECKING:
    from bastion.pipeline.call import Call
    from bastion.routing.rollouts.store import RolloutStore


def sticky_value(plan: AbPlan, call: Call) -> str:
    """What keeps a caller on one arm: its API key, or the entity field of its (first) input.

    An input without the field cannot be kept sticky; it is assigned by its request id.
    """
    if plan.entity_field is None:
        principal = call.principal
        return f"key:{getattr(principal, 'key_id', 'anonymous')}"
    first = call.inputs[0] if call.inputs else None
    if isinstance(first, Mapping) and first.get(plan.entity_field) is not None:
        return f"entity:{first[plan.entity_field]}"
    return f"request:{call.request_id}"


def assign(plan: AbPlan, call: Call) -> Arm:
    return plan.arm_for(sticky_value(plan, call), call.deployment)


@runtime_checkable
class OutcomeSource(Protocol):
    """Feedback outcomes per request id: a score (or 1.0 / 0.0 for a right / wrong label)."""

    async def outcomes(self, request_ids: Sequence[str]) -> Mapping[str, float]: ...


async def arm_outcomes(
    store: RolloutStore, source: Any, deployment: str, experiment: str
) -> dict[str, list[float]] | None:
    """Outcomes per arm, joined through the assignment log; None when no feedback source
    offers them (the feedback service is absent or has no ``outcomes`` lookup)."""
    if not isinstance(source, OutcomeSource):
        return None
    assigned = await store.assignments(deployment, experiment)
    out: dict[str, list[float]] = {}
    for arm, request_ids in assigned.items():
        found = await source.outcomes(request_ids)
        out[arm] = [float(found[r]) for r in request_ids if r in found]
    return out

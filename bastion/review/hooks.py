"""The other teams' services the review queue reports to, each optional: feedback, audit,
alerts, metrics, the prediction log and actions (handed to ReviewService at construction)."""

from __future__ import annotations

from typing import Any

import structlog

from bastion.errors import BastionError
from bastion.review.entities import ReviewItem

log = structlog.get_logger(__name__)


class Hooks:
    """Calls into collaborators that may not exist in this build; absent ones are skipped."""

    def __init__(
        self,
        *,
        feedback: Any = None,
        audit: Any = None,
        alerts: Any = None,
        metrics: Any = None,
        predictions: Any = None,
        actions: Any = None,
    ) -> None:
        self.feedback = feedback
        self.audit = audit
        self.alerts = alerts
        self.metrics = metrics
        self.predictions = predictions
        self.actions = actions

    async def feedback_record(
        self, item: ReviewItem, *, label: Any, score: float | None, source: str, actor: str
    ) -> None:
        """Feed accuracy tracking; a prediction the log never saw is logged, not fatal."""
        if self.feedback is None:
            return
        try:
            await self.feedback.record(
                item.request_id,
                index=item.index,
                label=label,
                score=score,
                source=source,
                actor=actor,
                tenant=item.tenant,
            )
        except BastionError as exc:
            log.warning("review_feedback_failed", item=item.id, error=exc.message)

    async def audit_admin(
        self, actor: Any, action: str, target: str, details: dict[str, Any]
    ) -> None:
        """``actor``: a Worker (its key id, name and tenant are recorded) or a name."""
        if self.audit is not None:
            await self.audit.admin(actor, action, target, details)

    async def actions_decided(self, item: ReviewItem, status: str, final_output: Any) -> None:
        """The decision's held actions run now with the final output (or are dropped)."""
        if self.actions is not None:
            await self.actions.review_decided(item, status, final_output)

    async def logged_prediction(self, request_id: str, tenant: str | None) -> Any:
        if self.predictions is None:
            return None
        return await self.predictions.get(request_id, tenant=tenant)

    async def sla_breached(self, item: ReviewItem) -> None:
        if self.alerts is None:
            return
        await self.alerts.fire(
            "review_sla_breached",
            severity="warning",
            deployment=item.deployment,
            summary=f"review item {item.id} is past its second-tier SLA",
            details={"item": item.id, "tier": item.tier, "priority": item.priority},
            dedupe_key=sla_key(item.id),
        )

    async def sla_resolved(self, item: ReviewItem) -> None:
        if self.alerts is not None and item.sla_breached_at is not None:
            await self.alerts.resolve(sla_key(item.id))

    def backlog(self, counts: dict[str, int], deployments: set[str]) -> None:
        """Set the ``review_backlog`` gauge for every deployment with a policy (0 when empty)."""
        gauge = getattr(self.metrics, "review_backlog", None)
        if gauge is None or not hasattr(gauge, "labels"):
            return
        for name in sorted(deployments | set(counts)):
            gauge.labels(deployment=name).set(counts.get(name, 0))


def sla_key(item_id: str) -> str:
    return f"review_sla:{item_id}"

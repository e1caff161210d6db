"""How review items are shown: to reviewers, to the client that asked, and to webhooks."""

from __future__ import annotations

from typing import Any

from bastion.review.entities import ReviewItem


def item_view(item: ReviewItem, payload: dict[str, Any], final_output: Any) -> dict[str, Any]:
    """Everything a reviewer needs to decide: the input, the model's answer, the state."""
    return {
        "id": item.id,
        "request_id": item.request_id,
        "index": item.index,
        "deployment": item.deployment,
        "model": item.model,
        "version": item.version,
        "tenant": item.tenant,
        "source": item.source,
        "triggers": list(item.triggers),
        "priority": item.priority,
        "tier": item.tier,
        "status": item.status,
        "input": payload.get("input"),
        "model_output": payload.get("model_output"),
        "confidence": item.confidence,
        "escalation": payload.get("escalation"),
        "final_output": final_output,
        "pii_scrubbed": not item.encrypted,
        "created_at": item.created_at,
        "sla_due_at": item.sla_due_at,
        "claimed_by": item.claimed_by,
        "lease_until": item.lease_until,
        "decision": item.decision,
        "decided_by": item.decided_by,
        "decided_at": item.decided_at,
        "reason": item.reason,
    }


def client_view(item: ReviewItem, answer: Any) -> dict[str, Any]:
    """What the client sees: the status and, once decided, the answer it should use."""
    return {
        "id": item.id,
        "request_id": item.request_id,
        "index": item.index,
        "deployment": item.deployment,
        "status": "pending_review" if item.pending else item.status,
        "output": answer,
        "decided_at": item.decided_at,
    }


def webhook_body(item: ReviewItem, status: str, final_output: Any) -> dict[str, Any]:
    """The generic JSON a decision webhook carries."""
    return {
        "type": f"review.{status}",
        "review_id": item.id,
        "request_id": item.request_id,
        "index": item.index,
        "deployment": item.deployment,
        "model": item.model,
        "version": item.version,
        "tenant": item.tenant,
        "status": item.status,
        "tier": item.tier,
        "final_output": final_output,
        "decided_by": item.decided_by,
        "reason": item.reason,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }

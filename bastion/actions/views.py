"""What the admin API shows of an action and its attempts."""

from __future__ import annotations

from typing import Any

from bastion.store.actions_tables import ActionAttemptRow, ActionRow


def action_view(row: ActionRow, *, context: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "tenant": row.tenant,
        "deployment": row.deployment,
        "action": row.action,
        "decision_id": row.decision_id,
        "request_id": row.request_id,
        "status": row.status,
        "step": row.step,
        "attempts": row.attempts,
        "next_at": row.next_at.isoformat(),
        "last_error": row.last_error,
        "details": row.details,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if context:
        out["context"] = row.context
    return out


def attempt_view(a: ActionAttemptRow) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "phase": a.phase,
        "at": a.at.isoformat(),
        "outcome": a.outcome,
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "error": a.error,
        "worker": a.worker,
    }

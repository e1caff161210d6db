"""The review queue's entities: items, their events, and who is working the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bastion.store.review_tables import ReviewEventRow, ReviewItemRow

Action = Literal["approve", "correct", "reject", "escalate"]
ACTIONS: tuple[Action, ...] = ("approve", "correct", "reject", "escalate")
# The status an item ends in after each final decision.
DECIDED_STATUS = {"approve": "approved", "correct": "corrected", "reject": "rejected"}
FINAL_STATUSES = ("approved", "corrected", "rejected", "overridden")
QUEUE_ROLES = ("reviewer", "approver")


@dataclass(frozen=True, slots=True)
class Worker:
    """Who acts on the queue: a principal's key, name, tenant and roles (admin sees all)."""

    key_id: str
    name: str
    tenant: str
    roles: frozenset[str]

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    @property
    def tenants(self) -> frozenset[str] | None:
        """The tenants whose queues this worker sees; None for every tenant (admins)."""
        return None if self.admin else frozenset({self.tenant})

    def can_work(self) -> bool:
        return self.admin or bool(self.roles & set(QUEUE_ROLES))

    def can_work_tier(self, tier: int, tier2_role: str) -> bool:
        if self.admin:
            return True
        if tier <= 1:
            return self.can_work()
        return tier2_role in self.roles

    @classmethod
    def of(cls, principal: Any) -> Worker:
        """From a ``bastion.security.Principal`` (duck-typed: this layer cannot import it)."""
        return cls(principal.key_id, principal.name, principal.tenant, frozenset(principal.roles))


SYSTEM = Worker("system", "system", "default", frozenset({"admin"}))


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One queued (or decided) prediction; ``payload``/``result`` are still sealed bytes."""

    id: str
    request_id: str
    index: int
    deployment: str
    model: str
    version: int
    tenant: str
    requested_by: str
    source: str
    triggers: tuple[str, ...]
    priority: int
    tier: int
    tier2_role: str
    status: str
    confidence: float | None
    encrypted: bool
    payload: bytes
    result: bytes | None
    created_at: datetime
    sla_due_at: datetime
    sla_breached_at: datetime | None
    lease_owner: str | None
    claimed_by: str | None
    lease_until: datetime | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    reason: str

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @classmethod
    def of(cls, row: ReviewItemRow) -> ReviewItem:
        return cls(
            id=row.id,
            request_id=row.request_id,
            index=row.item_index,
            deployment=row.deployment,
            model=row.model,
            version=row.version,
            tenant=row.tenant,
            requested_by=row.requested_by,
            source=row.source,
            triggers=tuple(row.triggers or ()),
            priority=row.priority,
            tier=row.tier,
            tier2_role=row.tier2_role,
            status=row.status,
            confidence=row.confidence,
            encrypted=row.encrypted,
            payload=row.payload,
            result=row.result,
            created_at=row.created_at,
            sla_due_at=row.sla_due_at,
            sla_breached_at=row.sla_breached_at,
            lease_owner=row.lease_owner,
            claimed_by=row.claimed_by,
            lease_until=row.lease_until,
            decision=row.decision,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            reason=row.reason,
        )


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One line of an item's history: who did what, when and why."""

    action: str
    actor: str
    reason: str
    details: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, row: ReviewEventRow) -> ReviewEvent:
        return cls(row.action, row.actor, row.reason, dict(row.details or {}), row.at)

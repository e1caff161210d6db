"""Rows of the review queue: items (payloads encrypted or PII-scrubbed) and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class ReviewItemRow(Base):
    """One prediction sent to human review (or overridden by an operator).

    ``payload`` holds the input, the model's output and any escalation answer; ``result`` the
    final output. Both are JSON encrypted with the app's key when one is configured
    (``encrypted``), else JSON with PII scrubbed: raw PII is never stored in clear.
    """

    __tablename__ = "review_items"
    __table_args__ = (
        Index("ix_review_items_queue", "status", "tenant", "priority"),
        Index("ix_review_items_request", "request_id", "item_index"),
        Index("ix_review_items_due", "status", "sla_due_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100))
    item_index: Mapped[int] = mapped_column(Integer, default=0)
    deployment: Mapped[str] = mapped_column(String(63))
    model: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    tenant: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16), default="review")
    triggers: Mapped[list[str]] = mapped_column(default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[int] = mapped_column(Integer, default=1)
    tier2_role: Mapped[str] = mapped_column(String(32), default="approver")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    confidence: Mapped[float | None] = mapped_column(Float)
    encrypted: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    result: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sla_due_at: Mapped[datetime] = mapped_column()
    sla_breached_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")


class ReviewEventRow(Base):
    """One thing that happened to an item: who, when, what, why. Never updated."""

    __tablename__ = "review_events"
    __table_args__ = (Index("ix_review_events_item_id", "item_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("review_items.id"))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

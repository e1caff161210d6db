"""Alert rows: the ``alerts`` table, at most one active alert per dedupe key, across processes.

``active_key`` holds the dedupe key while the alert fires and NULL once resolved; a unique
constraint on it (NULLs never collide, on SQLite and PostgreSQL alike) makes "fire" an
insert-if-absent and "resolve" a conditional update, so whichever process wins the row is
the one that notifies. The queries are the alert manager's own, in
``bastion/observability/alerts/sql.py``; only the schema lives here, beside the migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base


class AlertRow(Base):
    """One firing of an alert; never deleted, so that the history stays complete."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("active_key", name="uq_alerts_active_key"),
        Index("ix_alerts_deployment_id", "deployment", "id"),
        Index("ix_alerts_rule_id", "rule", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    active_key: Mapped[str | None] = mapped_column(String(255))
    rule: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    deployment: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fired_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    last_seen_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    acked_at: Mapped[datetime | None] = mapped_column()
    acked_by: Mapped[str | None] = mapped_column(String(100))

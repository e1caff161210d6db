"""Rows of the web console: server-side sessions; and the indexes its pages read through.

A session row holds only the sha256 of the cookie's random id, never an API key: the cookie
is useless once the row is gone (logout, expiry). The indexes serve the console's paginated
searches and aggregates over other concerns' tables (audit, usage) at a million rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.audit_tables import AuditRecordRow
from bastion.store.tables import Base, utcnow
from bastion.store.usage_tables import UsageRow


class ConsoleSessionRow(Base):
    """One logged-in browser. ``principal`` is the principal's fields as JSON (a JWT's
    claims mapped at login; for an API key re-read from the key on every page)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "key" | "jwt"
    key_id: Mapped[str] = mapped_column(String(100))
    principal: Mapped[dict[str, Any]] = mapped_column()
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class TrafficHourRow(Base):
    """Interaction records per closed UTC hour (``2026-01-31 09``), tenant, deployment and
    outcome: the overview's traffic and errors without counting the audit log again."""

    __tablename__ = "console_traffic_hourly"
    __table_args__ = (
        Index("ix_console_traffic_hourly_hour", "hour"),
        Index("ix_console_traffic_hourly_tenant_hour", "tenant", "hour"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hour: Mapped[str] = mapped_column(String(13))
    tenant: Mapped[str | None] = mapped_column(String(100))
    deployment: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    error_type: Mapped[str | None] = mapped_column(String(64))
    requests: Mapped[int] = mapped_column(Integer)


class UsageDayRow(Base):
    """Usage records per closed UTC day, tenant, team, key, deployment and model: the costs
    pages' sums without reading every usage record again."""

    __tablename__ = "console_usage_daily"
    __table_args__ = (
        Index("ix_console_usage_daily_day", "day"),
        Index("ix_console_usage_daily_tenant_day", "tenant", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    tenant: Mapped[str] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(40))
    deployment: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    requests: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    tokens: Mapped[int] = mapped_column(BigInteger)
    cached: Mapped[int] = mapped_column(BigInteger)
    cost_micros: Mapped[int] = mapped_column(BigInteger)


class RollupMarkRow(Base):
    """How far a rollup reaches: every period before ``until`` is rolled up (``""``: none)."""

    __tablename__ = "console_rollup_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[str] = mapped_column(String(13), default="")


_audit = AuditRecordRow.__table__.c
_usage = UsageRow.__table__.c
# Declared here (not in their tables' modules) because the console is what reads through them.
CONSOLE_INDEXES = (
    Index("ix_audit_records_tenant_at", _audit.tenant, _audit.at),
    Index("ix_audit_records_deployment_seq", _audit.deployment, _audit.seq),
    Index("ix_audit_records_status_seq", _audit.status, _audit.seq),
    Index("ix_usage_records_request_id", _usage.request_id),
)

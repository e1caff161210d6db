"""Rows of the web console: server-side sessions; and the indexes its pages read through.

A session row holds only the sha256 of the cookie's random id, never an API key: the cookie
is useless once the row is gone (logout, expiry). The indexes serve the console's paginated
searches and aggregates over other concerns' tables (audit, usage) at a million rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
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


_audit = AuditRecordRow.__table__.c
_usage = UsageRow.__table__.c
# Declared here (not in their tables' modules) because the console is what reads through them.
CONSOLE_INDEXES = (
    Index("ix_audit_records_tenant_at", _audit.tenant, _audit.at),
    Index("ix_audit_records_deployment_seq", _audit.deployment, _audit.seq),
    Index("ix_audit_records_status_seq", _audit.status, _audit.seq),
    Index("ix_usage_records_request_id", _usage.request_id),
)

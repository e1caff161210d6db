"""Audit rows: the ``audit_records`` table (its migrations are in ``store/migrations``).

The chain's SQL (appends, reads, payload rotation) is the audit log's own, in
``bastion/observability/audit/sql.py``; only the schema lives here, beside the migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base

# Column widths of the stored text fields; longer values are clipped before hashing, so that
# what is hashed is exactly what is stored.
WIDTHS = {
    "kind": 16,
    "action": 64,
    "actor_key_id": 64,
    "actor_name": 200,
    "tenant": 100,
    "deployment": 200,
    "request_id": 100,
    "status": 16,
    "error_type": 64,
    "decision": 64,
    "target": 300,
    "payload_key": 32,
}


class AuditRecordRow(Base):
    """One audit record. ``hash`` = sha256 of the canonical record including ``prev_hash``;
    ``guards`` and ``details`` hold canonical JSON text (hashed exactly as stored). The
    encrypted ``payload`` (and its ``payload_key``) are outside the hash so that keys can be
    rotated; the payload is bound to its record by its associated data instead."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_at", "at"),
        Index("ix_audit_records_request_id", "request_id"),
        Index("ix_audit_records_tenant", "tenant", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(WIDTHS["kind"]))
    action: Mapped[str] = mapped_column(String(WIDTHS["action"]))
    actor_key_id: Mapped[str | None] = mapped_column(String(WIDTHS["actor_key_id"]))
    actor_name: Mapped[str | None] = mapped_column(String(WIDTHS["actor_name"]))
    tenant: Mapped[str | None] = mapped_column(String(WIDTHS["tenant"]))
    deployment: Mapped[str | None] = mapped_column(String(WIDTHS["deployment"]))
    version: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(WIDTHS["request_id"]))
    status: Mapped[str] = mapped_column(String(WIDTHS["status"]))
    error_type: Mapped[str | None] = mapped_column(String(WIDTHS["error_type"]))
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    output_sha256: Mapped[str | None] = mapped_column(String(64))
    cost: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str | None] = mapped_column(String(WIDTHS["decision"]))
    target: Mapped[str | None] = mapped_column(String(WIDTHS["target"]))
    guards: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload_key: Mapped[str | None] = mapped_column(String(WIDTHS["payload_key"]))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

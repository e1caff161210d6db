"""Operations records: what `bastion bench`, `bastion backup` and `bastion restore` did, so that
`bastion check` finds a recent load test and a tested restore (entities: readiness/records.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.database import Database
from bastion.store.tables import Base, utcnow


class OperationRecordRow(Base):
    """One recorded operation; never updated (a record is evidence)."""

    __tablename__ = "operation_records"
    __table_args__ = (Index("ix_operation_records_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(200))
    tenant: Mapped[str | None] = mapped_column(String(100))
    passed: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject,
            "tenant": self.tenant,
            "passed": self.passed,
            "summary": self.summary,
            "details": self.details,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


class SqlOperationRecords:
    """Append and read operation records (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: str,
        *,
        subject: str | None,
        tenant: str | None,
        passed: bool,
        summary: str,
        details: dict[str, Any],
        actor: str,
    ) -> dict[str, Any]:
        async with self._db.session() as session:
            row = OperationRecordRow(
                kind=kind,
                subject=subject,
                tenant=tenant,
                passed=passed,
                summary=summary,
                details=details,
                actor=actor,
                created_at=utcnow(),
            )
            session.add(row)
            await session.commit()
            return row.to_dict()

    async def list(
        self,
        *,
        kind: str | None = None,
        subject: str | None = None,
        tenants: tuple[str | None, ...] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Newest first; ``tenants`` limits to those owners (None in it: shared records)."""
        query = select(OperationRecordRow).order_by(OperationRecordRow.id.desc()).limit(limit)
        if kind is not None:
            query = query.where(OperationRecordRow.kind == kind)
        if subject is not None:
            query = query.where(OperationRecordRow.subject == subject)
        if tenants is not None:
            named = [t for t in tenants if t is not None]
            owned = OperationRecordRow.tenant.in_(named)
            shared = OperationRecordRow.tenant.is_(None)
            query = query.where(owned | shared if None in tenants else owned)
        async with self._db.session() as session:
            return [row.to_dict() for row in await session.scalars(query)]

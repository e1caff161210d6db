"""Approvals of model versions: one per approver key and version, counted by the gates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bastion.errors import Conflict
from bastion.evaluation.entities import Approval
from bastion.store import Database
from bastion.store.evaluation_tables import ApprovalRow
from bastion.store.tables import utcnow


class ApprovalStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def approve(
        self,
        model: str,
        version: int,
        *,
        key_id: str,
        approver: str,
        comment: str = "",
        tenant: str | None = None,
    ) -> Approval:
        """Record one approval; Conflict if this key already approved this version."""
        row = ApprovalRow(
            model=model,
            version=version,
            key_id=key_id,
            approver=approver[:100],
            comment=comment,
            created_at=utcnow(),
            tenant=tenant,
        )
        async with self._db.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                raise Conflict(
                    f"key '{approver}' has already approved {model} v{version}; an approval "
                    "gate counts distinct approver keys"
                ) from exc
            return Approval.from_row(row)

    async def list_approvals(self, model: str, version: int) -> list[Approval]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(ApprovalRow)
                .where(ApprovalRow.model == model, ApprovalRow.version == version)
                .order_by(ApprovalRow.id)
            )
            return [Approval.from_row(r) for r in rows]

"""Gate pins: the eval-set version each promotion gate uses. A gate naming a set without a
version is pinned to the set's newest version when first configured or checked; a newer
version moves the pin only once it holds the gate's approvals (as a promotion would)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bastion.errors import Conflict
from bastion.evaluation.entities import EvalSet
from bastion.store import Database
from bastion.store.evaluation_tables import GatePinRow, SetApprovalRow
from bastion.store.tables import utcnow


@dataclass(frozen=True, slots=True)
class SetApproval:
    set_name: str
    set_version: int
    key_id: str
    approver: str
    tenant: str
    comment: str


class GatePins:
    """The pins of gates to eval-set versions, and approvals of eval-set versions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, model: str, alias: str, set_name: str) -> tuple[int, str] | None:
        async with self._db.session() as session:
            row = await session.get(GatePinRow, (model, alias, set_name))
            return None if row is None else (row.set_version, row.set_sha256)

    async def put(self, model: str, alias: str, eval_set: EvalSet) -> None:
        """Pin (or move the pin of) ``model``'s ``alias`` gate to ``eval_set``."""
        async with self._db.session() as session:
            row = await session.get(GatePinRow, (model, alias, eval_set.name))
            if row is None:
                session.add(
                    GatePinRow(
                        model=model,
                        alias=alias,
                        set_name=eval_set.name,
                        set_version=eval_set.version,
                        set_sha256=eval_set.sha256,
                        pinned_at=utcnow(),
                    )
                )
            else:
                row.set_version, row.set_sha256 = eval_set.version, eval_set.sha256
                row.pinned_at = utcnow()
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # pinned concurrently: the first pin stands

    async def approve_set(
        self, eval_set: EvalSet, *, key_id: str, approver: str, tenant: str, comment: str = ""
    ) -> SetApproval:
        """Record one approval of an eval-set version; Conflict if this key gave it before."""
        row = SetApprovalRow(
            set_name=eval_set.name,
            set_version=eval_set.version,
            key_id=key_id,
            approver=approver[:100],
            tenant=tenant,
            comment=comment,
            created_at=utcnow(),
        )
        async with self._db.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                raise Conflict(
                    f"key '{approver}' has already approved eval set {eval_set.ref}"
                ) from exc
        return _approval(row)

    async def set_approvals(self, set_name: str, version: int) -> list[SetApproval]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(SetApprovalRow)
                .where(SetApprovalRow.set_name == set_name, SetApprovalRow.set_version == version)
                .order_by(SetApprovalRow.id)
            )
            return [_approval(r) for r in rows]


def _approval(row: SetApprovalRow) -> SetApproval:
    return SetApproval(
        row.set_name, row.set_version, row.key_id, row.approver, row.tenant, row.comment
    )

"""The OpenAI-compatible batches in the database: create (idempotent), read, lines, leases."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bastion.errors import NotFound
from bastion.security import Principal
from bastion.store import Database
from bastion.store.batch_tables import BatchLineRow, BatchRow
from bastion.store.usage_tables import UsageRow

ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")


def _ts(at: datetime | None) -> int | None:
    return int(at.timestamp()) if at is not None else None


def batch_view(row: BatchRow) -> dict[str, Any]:
    """The batch in OpenAI's shape."""
    errors = None
    if row.errors:
        errors = {"object": "list", "data": [{"code": "invalid_input", "message": row.errors}]}
    return {
        "id": row.id,
        "object": "batch",
        "endpoint": row.endpoint,
        "errors": errors,
        "input_file_id": row.input_file_id,
        "completion_window": row.completion_window,
        "status": row.status,
        "output_file_id": row.output_file_id,
        "error_file_id": row.error_file_id,
        "created_at": _ts(row.created_at),
        "in_progress_at": _ts(row.in_progress_at),
        "expires_at": _ts(row.created_at + timedelta(hours=24)),
        "finalizing_at": _ts(row.finalizing_at),
        "completed_at": _ts(row.completed_at),
        "failed_at": _ts(row.failed_at),
        "expired_at": None,
        "cancelling_at": _ts(row.cancelling_at),
        "cancelled_at": _ts(row.cancelled_at),
        "request_counts": {"total": row.total, "completed": row.completed, "failed": row.failed},
        "metadata": row.meta or None,
    }


def line_prefix(batch_id: str, line: int) -> str:
    return f"{batch_id}-l{line}-"


class BatchStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, principal: Principal, idem: str | None, **values: Any) -> BatchRow:
        """A new batch, or the one this key created with the same idempotency key."""
        if idem is not None:
            found = await self._by_idem(principal, idem)
            if found is not None:
                return found
        row = BatchRow(id=f"batch_{secrets.token_hex(12)}", tenant=principal.tenant,
                       key_id=principal.key_id, idempotency_key=idem, **values)  # fmt: skip
        try:
            async with self._db.session() as session:
                session.add(row)
                await session.commit()
                return row
        except IntegrityError:
            found = await self._by_idem(principal, idem or "")
            if found is None:
                raise
            return found

    async def _by_idem(self, principal: Principal, idem: str) -> BatchRow | None:
        async with self._db.session() as session:
            return await session.scalar(
                select(BatchRow).where(
                    BatchRow.tenant == principal.tenant,
                    BatchRow.key_id == principal.key_id,
                    BatchRow.idempotency_key == idem,
                )
            )

    async def get(self, principal: Principal | None, batch_id: str) -> BatchRow:
        async with self._db.session() as session:
            row = await session.get(BatchRow, batch_id)
        visible = row is not None and (
            principal is None or row.tenant is None or principal.sees_tenant(row.tenant)
        )
        if row is None or not visible:
            raise NotFound(f"No such Batch object: {batch_id}")
        return row

    async def update(self, batch_id: str, **values: Any) -> None:
        async with self._db.session() as session:
            await session.execute(update(BatchRow).where(BatchRow.id == batch_id).values(**values))
            await session.commit()

    async def claim(self, owner: str, lease_s: float) -> list[BatchRow]:
        now = datetime.now(UTC)
        lapsed = or_(BatchRow.lease_until.is_(None), BatchRow.lease_until < now)
        async with self._db.session() as session:
            ids = list(
                await session.scalars(
                    select(BatchRow.id).where(BatchRow.status.in_(ACTIVE), lapsed).limit(4)
                )
            )
        claimed = []
        for batch_id in ids:
            async with self._db.session() as session:
                result = await session.execute(
                    update(BatchRow)
                    .where(BatchRow.id == batch_id, BatchRow.status.in_(ACTIVE), lapsed)
                    .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
                )
                await session.commit()
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append(await self.get(None, batch_id))
        return claimed

    async def done_lines(self, batch_id: str) -> set[int]:
        async with self._db.session() as session:
            query = select(BatchLineRow.line).where(BatchLineRow.batch_id == batch_id)
            return set(await session.scalars(query))

    async def record(self, batch_id: str, lines: Sequence[BatchLineRow], lease_s: float) -> None:
        """Record answered lines and the batch's counts in one transaction; renew the lease."""
        ok = sum(1 for line in lines if line.ok)
        cost = sum(line.cost_micros for line in lines)
        async with self._db.session() as session:
            session.add_all(lines)
            await session.execute(
                update(BatchRow)
                .where(BatchRow.id == batch_id)
                .values(
                    completed=BatchRow.completed + ok,
                    failed=BatchRow.failed + (len(lines) - ok),
                    cost_micros=BatchRow.cost_micros + cost,
                    lease_until=datetime.now(UTC) + timedelta(seconds=lease_s),
                )
            )
            await session.commit()

    async def results(self, batch_id: str, ok: bool) -> list[dict[str, Any]]:
        async with self._db.session() as session:
            query = (
                select(BatchLineRow.result)
                .where(BatchLineRow.batch_id == batch_id, BatchLineRow.ok == ok)
                .order_by(BatchLineRow.line)
            )
            return list(await session.scalars(query))

    async def line_cost(self, batch_id: str) -> int:
        async with self._db.session() as session:
            query = select(func.coalesce(func.sum(BatchLineRow.cost_micros), 0))
            return int(await session.scalar(query.where(BatchLineRow.batch_id == batch_id)) or 0)

    async def forget_unrecorded_usage(self, batch_id: str, done: set[int]) -> None:
        """Usage rows of lines the ledger does not hold: they run (and are charged) again."""
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(UsageRow.id, UsageRow.request_id).where(
                        UsageRow.request_id.like(f"{batch_id}-l%")
                    )
                )
            ).all()
            orphans = [
                rid for rid, req in rows
                if int(req[len(batch_id) + 2 :].split("-", 1)[0]) not in done
            ]  # fmt: skip
            if orphans:
                await session.execute(delete(UsageRow).where(UsageRow.id.in_(orphans)))
                await session.commit()

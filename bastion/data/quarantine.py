"""The quarantine: rows that broke a data contract, kept with their reasons for review.

Online, a quarantined row is queued in memory and written in batches (no request waits on
the database); a batch job writes its chunk's quarantined rows itself, before the chunk is
recorded, so that a resumed job neither loses nor repeats them (``forget`` drops the rows of
chunks the job will run again). Every read is limited to the caller's tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from bastion.data.rules import Violation
from bastion.errors import NotFound
from bastion.store import Database
from bastion.store.data_tables import QuarantineRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A row to hold: where it came from, what it was, which rules it broke."""

    tenant: str | None
    deployment: str
    version: int | None
    source: str
    ref: str
    row: int | None
    payload: Any
    violations: Sequence[Violation]

    def values(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "deployment": self.deployment[:100],
            "version": self.version,
            "source": self.source[:40],
            "ref": self.ref[:100],
            "row": self.row,
            "payload": {"input": self.payload},
            "reasons": {"violations": [v.view() for v in self.violations]},
            "status": "held",
            "created_at": datetime.now(UTC),
        }


def _view(row: QuarantineRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant": row.tenant,
        "deployment": row.deployment,
        "version": row.version,
        "source": row.source,
        "ref": row.ref,
        "row": row.row,
        "input": row.payload.get("input"),
        "reasons": row.reasons.get("violations", []),
        "status": row.status,
        "created_at": row.created_at.isoformat(),
    }


class QuarantineStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, items: Sequence[Quarantined]) -> None:
        if not items:
            return
        async with self._db.session() as session:
            await session.execute(insert(QuarantineRow), [i.values() for i in items])
            await session.commit()

    async def forget(self, source: str, rows: range) -> None:
        """Delete a job's quarantined rows in ``rows`` (a chunk that will run again)."""
        async with self._db.session() as session:
            await session.execute(
                delete(QuarantineRow).where(
                    QuarantineRow.source == source,
                    QuarantineRow.row >= rows.start,
                    QuarantineRow.row < rows.stop,
                )
            )
            await session.commit()

    async def list_rows(
        self,
        tenant: str | None,
        *,
        all_tenants: bool,
        deployment: str | None = None,
        source: str | None = None,
        status: str | None = "held",
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        query = select(QuarantineRow).order_by(QuarantineRow.id).limit(limit)
        if not all_tenants:
            query = query.where(QuarantineRow.tenant == tenant)
        if deployment is not None:
            query = query.where(QuarantineRow.deployment == deployment)
        if source is not None:
            query = query.where(QuarantineRow.source == source)
        if status is not None:
            query = query.where(QuarantineRow.status == status)
        async with self._db.session() as session:
            return [_view(r) for r in await session.scalars(query)]

    async def get(self, item_id: int, tenant: str | None, *, all_tenants: bool) -> dict[str, Any]:
        async with self._db.session() as session:
            row = await session.get(QuarantineRow, item_id)
        if row is None or (not all_tenants and row.tenant != tenant):
            raise NotFound(f"no quarantined row {item_id}; see `bastion quarantine list`")
        return _view(row)

    async def set_status(self, ids: Sequence[int], status: str) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(QuarantineRow).where(QuarantineRow.id.in_(ids)).values(status=status)
            )
            await session.commit()


class QuarantineWriter:
    """Queues online quarantined rows and writes them in batches (a group commit)."""

    def __init__(self, store: QuarantineStore, interval_s: float, max_pending: int = 100_000):
        self._store = store
        self._interval = interval_s
        self._max_pending = max_pending
        self._pending: list[Quarantined] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def hold(self, item: Quarantined) -> None:
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            return
        self._pending.append(item)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="quarantine-writer")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            await self._store.add(batch)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("quarantine_flush_failed", rows=len(batch), error=type(exc).__name__)
            self._pending[:0] = batch

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

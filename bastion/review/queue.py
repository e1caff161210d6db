"""The review queue in the database: add, list, claim, release, decide, escalate, override."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.errors import Conflict, Forbidden, NotFound
from bastion.review import leases
from bastion.review.entities import FINAL_STATUSES, ReviewEvent, ReviewItem, Worker
from bastion.store import Database
from bastion.store.review_tables import ReviewEventRow, ReviewItemRow
from bastion.store.tables import utcnow

R = ReviewItemRow


class ReviewQueue:
    """Every state change is one conditional ``UPDATE … RETURNING`` plus its event, in one
    transaction, so two reviewers (or replicas) never win the same item."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def add(self, rows: Sequence[ReviewItemRow], actor: str, action: str = "queued") -> None:
        async with self._db.session() as session:
            session.add_all(rows)
            await session.flush()
            for row in rows:
                details = {"triggers": list(row.triggers), "priority": row.priority}
                _event(session, row.id, action, actor, row.reason, details, row.created_at)
            await session.commit()

    async def get(self, item_id: str) -> ReviewItem | None:
        async with self._db.session() as session:
            row = await session.get(R, item_id)
            return ReviewItem.of(row) if row else None

    async def find(self, request_id: str, index: int, worker: Worker) -> ReviewItem | None:
        """The newest item for one prediction of a request, within the worker's tenants."""
        query = (
            select(R)
            .where(R.request_id == request_id, R.item_index == index, leases.in_scope(worker))
            .order_by(R.created_at.desc())
            .limit(1)
        )
        async with self._db.session() as session:
            row = await session.scalar(query)
            return ReviewItem.of(row) if row else None

    async def browse(
        self,
        worker: Worker,
        *,
        status: str | None = "pending",
        deployment: str | None = None,
        limit: int = 50,
    ) -> list[ReviewItem]:
        """Highest priority first, then the oldest; only the worker's tenants."""
        query = self._scoped(worker, status, deployment)
        query = query.order_by(R.priority.desc(), R.created_at, R.id).limit(limit)
        async with self._db.session() as session:
            return [ReviewItem.of(r) for r in await session.scalars(query)]

    def _scoped(self, worker: Worker, status: str | None, deployment: str | None) -> Select[Any]:
        query = select(R).where(leases.in_scope(worker))
        if status is not None:
            query = query.where(R.status == status)
        if deployment is not None:
            query = query.where(R.deployment == deployment)
        return query

    async def claim(self, item_id: str, worker: Worker, lease_s: float) -> ReviewItem:
        now = self.now()
        conditions = (
            R.id == item_id,
            R.status == "pending",
            leases.free(now),
            leases.in_scope(worker),
            leases.workable(worker),
        )
        values = {
            "lease_owner": worker.key_id,
            "claimed_by": worker.name,
            "lease_until": now + timedelta(seconds=lease_s),
        }
        return await self._change(item_id, worker, conditions, values, "claimed", "")

    async def claim_next(
        self, worker: Worker, lease_s: float, deployment: str | None = None
    ) -> ReviewItem | None:
        """Claim the most urgent free item; losing a race to one candidate tries the next."""
        now = self.now()
        query = (
            self._scoped(worker, "pending", deployment)
            .where(leases.free(now), leases.workable(worker))
            .order_by(R.priority.desc(), R.created_at, R.id)
            .limit(20)
        )
        async with self._db.session() as session:
            candidates = list(await session.scalars(query.with_only_columns(R.id)))
        for item_id in candidates:
            try:
                return await self.claim(item_id, worker, lease_s)
            except (Conflict, NotFound, Forbidden):  # lost the race for this one: the next
                continue
        return None

    async def release(self, item_id: str, worker: Worker) -> ReviewItem:
        now = self.now()
        conditions = (R.id == item_id, R.status == "pending", leases.held_by(worker, now))
        values = {"lease_owner": None, "claimed_by": None, "lease_until": None}
        return await self._change(item_id, worker, conditions, values, "released", "")

    async def decide(
        self,
        item_id: str,
        worker: Worker,
        status: str,
        result: bytes | None,
        reason: str,
        details: dict[str, Any],
    ) -> ReviewItem:
        """Record a final decision; the item must be free or leased by this worker."""
        now = self.now()
        conditions = (
            R.id == item_id,
            R.status == "pending",
            leases.free_or_mine(worker, now),
            leases.in_scope(worker),
            leases.workable(worker),
        )
        values = {
            "status": status,
            "decision": status,
            "result": result,
            "decided_by": worker.name,
            "decided_at": now,
            "reason": reason,
            "lease_until": None,
        }
        return await self._change(item_id, worker, conditions, values, status, reason, details)

    async def escalate(
        self, item_id: str, worker: Worker, reason: str, sla_s: float, *, action: str = "escalated"
    ) -> ReviewItem:
        """Move a first-tier item to the second tier, with a fresh SLA; any lease is dropped."""
        now = self.now()
        conditions = [R.id == item_id, R.status == "pending", R.tier <= 1]
        if action == "escalated":  # a reviewer's choice; the SLA sweep acts on any lease
            conditions += [
                leases.free_or_mine(worker, now),
                leases.in_scope(worker),
                leases.workable(worker),
            ]
        else:
            conditions.append(R.sla_due_at < now)
        values = {
            "tier": 2,
            "sla_due_at": now + timedelta(seconds=sla_s),
            "lease_owner": None,
            "claimed_by": None,
            "lease_until": None,
        }
        return await self._change(item_id, worker, tuple(conditions), values, action, reason)

    async def override(
        self, item_id: str, worker: Worker, result: bytes, reason: str, details: dict[str, Any]
    ) -> ReviewItem:
        """An operator's final word on an item, whatever its state."""
        now = self.now()
        values = {
            "status": "overridden",
            "decision": "overridden",
            "result": result,
            "decided_by": worker.name,
            "decided_at": now,
            "reason": reason,
            "lease_until": None,
        }
        conditions = (R.id == item_id, leases.in_scope(worker))
        return await self._change(
            item_id, worker, conditions, values, "overridden", reason, details
        )

    async def _change(
        self,
        item_id: str,
        worker: Worker,
        conditions: Sequence[Any],
        values: dict[str, Any],
        action: str,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> ReviewItem:
        statement = update(R).where(*conditions).values(**values).returning(R)
        async with self._db.session() as session:
            row = await session.scalar(statement, execution_options={"synchronize_session": False})
            if row is None:
                await session.rollback()
                raise leases.explain(await self.get(item_id), worker, self.now())
            item = ReviewItem.of(row)
            _event(session, item_id, action, worker.name, reason, details or {}, self.now())
            await session.commit()
            return item

    async def overdue(self, tier: int, limit: int = 100) -> list[ReviewItem]:
        """Pending items of ``tier`` past their SLA (tier 2: not yet reported)."""
        query = select(R).where(R.status == "pending", R.tier == tier, R.sla_due_at < self.now())
        if tier >= 2:
            query = query.where(R.sla_breached_at.is_(None))
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(R.sla_due_at).limit(limit))
            return [ReviewItem.of(r) for r in rows]

    async def mark_breached(self, item_id: str) -> bool:
        """Flag a second-tier SLA breach once; False if another replica already did."""
        statement = (
            update(R)
            .where(R.id == item_id, R.sla_breached_at.is_(None), R.status == "pending")
            .values(sla_breached_at=self.now())
        )
        async with self._db.session() as session:
            done = (await session.execute(statement)).rowcount  # type: ignore[attr-defined]
            if done:
                _event(session, item_id, "sla_breached", "system", "", {}, self.now())
            await session.commit()
            return bool(done)

    async def statuses(self, ids: Sequence[str]) -> dict[str, str]:
        async with self._db.session() as session:
            rows = await session.execute(select(R.id, R.status).where(R.id.in_(list(ids))))
            return {item_id: status for item_id, status in rows}

    async def backlog(self) -> dict[str, int]:
        """Pending items per deployment."""
        query = select(R.deployment, func.count()).where(R.status == "pending")
        async with self._db.session() as session:
            rows = await session.execute(query.group_by(R.deployment))
            return {name: int(count) for name, count in rows}

    async def decided(
        self,
        worker: Worker,
        *,
        deployment: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100_000,
    ) -> list[ReviewItem]:
        """Decided items (oldest decision first) for export, within the worker's tenants."""
        query = self._scoped(worker, None, deployment).where(R.status.in_(FINAL_STATUSES))
        if since is not None:
            query = query.where(R.decided_at >= since)
        if until is not None:
            query = query.where(R.decided_at < until)
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(R.decided_at, R.id).limit(limit))
            return [ReviewItem.of(r) for r in rows]

    async def events(self, item_id: str) -> list[ReviewEvent]:
        query = select(ReviewEventRow).where(ReviewEventRow.item_id == item_id)
        async with self._db.session() as session:
            rows = await session.scalars(query.order_by(ReviewEventRow.id))
            return [ReviewEvent.of(r) for r in rows]

    async def note(
        self, item_id: str, action: str, actor: str, details: dict[str, Any] | None = None
    ) -> None:
        """Append an event that changes no state (e.g. a webhook delivery)."""
        async with self._db.session() as session:
            _event(session, item_id, action, actor, "", details or {}, self.now())
            await session.commit()


def _event(
    session: AsyncSession,
    item_id: str,
    action: str,
    actor: str,
    reason: str,
    details: dict[str, Any],
    at: datetime,
) -> None:
    session.add(
        ReviewEventRow(
            item_id=item_id, action=action, actor=actor, reason=reason, details=details, at=at
        )
    )

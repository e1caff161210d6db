"""The outbox in SQL: claim due actions under a lease, record each attempt, operator changes.

A claim is one statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``
on PostgreSQL (concurrent dispatchers skip each other's rows); on SQLite the same statement
runs under the database's single write lock, which serialises claims across processes. A
claimed row carries ``lease_owner``/``lease_until``; every later write is fenced on the
owner, and a lease that expired (its dispatcher died) makes the row claimable again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bastion.actions.machine import State, Transition
from bastion.errors import Conflict, NotFound
from bastion.store import Database
from bastion.store.actions_tables import FINAL, LIVE, ActionAttemptRow, ActionRow, OutboxIntent


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    tenant: str | None
    deployment: str
    action: str
    decision_id: str
    request_id: str
    state: State
    context: Mapping[str, Any]
    details: Mapping[str, Any]

    def ctx(self) -> dict[str, Any]:
        """What templates and conditions see."""
        return {
            **self.context,
            "decision_id": self.decision_id,
            "request_id": self.request_id,
            "deployment": self.deployment,
        }


@dataclass(frozen=True, slots=True)
class Attempt:
    action_id: str
    step: int
    step_name: str
    phase: str
    attempt: int
    at: datetime
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None
    worker: str


_CLAIMED_COLUMNS = (
    ActionRow.id,
    ActionRow.tenant,
    ActionRow.deployment,
    ActionRow.action,
    ActionRow.decision_id,
    ActionRow.request_id,
    ActionRow.status,
    ActionRow.step,
    ActionRow.attempts,
    ActionRow.context,
    ActionRow.details,
)


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, intents: Sequence[OutboxIntent]) -> None:
        """The outbox's own write (when no audit record carries the intents)."""
        async with self.db.engine.begin() as conn:
            await conn.execute(_insert_ignore(conn), [i.row() for i in intents])

    async def claim(self, worker: str, limit: int, lease_s: float, now: datetime) -> list[Claimed]:
        row = ActionRow
        due = (
            select(row.id)
            .where(row.status.in_(LIVE), row.next_at <= now)
            .where(or_(row.lease_until.is_(None), row.lease_until < now))
            .order_by(row.next_at)
            .limit(limit)
        )
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(row)
            .where(row.id.in_(due.scalar_subquery()))
            .values(lease_owner=worker, lease_until=now + timedelta(seconds=lease_s))
            .returning(*_CLAIMED_COLUMNS)
        )
        async with self.db.engine.begin() as conn:
            found = (await conn.execute(stmt)).all()
        return [_claimed(r) for r in found]

    async def apply(
        self,
        worker: str,
        changes: Sequence[tuple[Claimed, Transition]],
        attempts: Sequence[Attempt],
        lease_s: float,
        now: datetime,
    ) -> int:
        """Write each action's new state (fenced on ``worker``'s lease) and the attempts, in
        one transaction; returns how many changes were written. An action whose lease
        passed to another worker meanwhile is left alone (the fence)."""
        if not changes and not attempts:
            return 0
        params = [_change(worker, claimed, t, lease_s, now) for claimed, t in changes]
        async with self.db.engine.begin() as conn:
            if params:  # one statement, many rows: a single round trip (executemany)
                await conn.execute(_FENCED_UPDATE, params)
            if attempts:
                await conn.execute(insert(ActionAttemptRow), [_attempt(a) for a in attempts])
        return len(params)

    async def release(
        self, tenant: str | None, decision_id: str, output: Any, *, approved: bool, now: datetime
    ) -> list[Claimed]:
        """A reviewer decided: held actions of ``decision_id`` become due with ``output``
        (or are dropped, when rejected). Returns them as they were held."""
        row = ActionRow
        async with self.db.engine.begin() as conn:
            held = (
                await conn.execute(
                    select(*_CLAIMED_COLUMNS).where(
                        row.decision_id == decision_id, row.status == "held", row.tenant == tenant
                    )
                )
            ).all()
            for r in held:
                context = {**dict(r.context or {}), "output": output, "confidence": 1.0}
                await conn.execute(
                    update(row)
                    .where(row.id == r.id, row.status == "held")
                    .values(
                        status="pending" if approved else "dropped",
                        context=context,
                        next_at=now,
                        updated_at=now,
                        last_error=None if approved else "the reviewer rejected the decision",
                    )
                )
        return [_claimed(r) for r in held]

    async def mark(self, action_id: str, status: str, error: str | None, now: datetime) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(ActionRow)
                .where(ActionRow.id == action_id)
                .values(status=status, last_error=error, updated_at=now)
            )

    # -- operators -------------------------------------------------------------------------

    async def browse(
        self,
        tenant: str | None,
        *,
        all_tenants: bool,
        status: str | None,
        deployment: str | None,
        limit: int,
    ) -> Sequence[ActionRow]:
        row = ActionRow
        stmt = select(row)
        if not all_tenants:
            stmt = stmt.where(row.tenant == tenant)
        if status is not None:
            stmt = stmt.where(row.status == status)
        if deployment is not None:
            stmt = stmt.where(row.deployment == deployment)
        async with self.db.session() as session:
            found = await session.scalars(stmt.order_by(row.created_at.desc()).limit(limit))
            return list(found)

    async def get(
        self, action_id: str, tenant: str | None, *, all_tenants: bool
    ) -> tuple[ActionRow, list[ActionAttemptRow]]:
        async with self.db.session() as session:
            found = await session.get(ActionRow, action_id)
            if found is None or (not all_tenants and found.tenant != tenant):
                raise NotFound(f"no action '{action_id}' (list them with `bastion actions list`)")
            attempts = await session.scalars(
                select(ActionAttemptRow)
                .where(ActionAttemptRow.action_id == action_id)
                .order_by(ActionAttemptRow.id)
            )
            return found, list(attempts)

    async def operate(
        self, action_id: str, tenant: str | None, *, all_tenants: bool, op: str, now: datetime
    ) -> ActionRow:
        """``retry`` a dead or conflicted action (from where it stopped) or ``drop`` a live
        one; checked and changed in one transaction (a refusal changes nothing)."""
        row = ActionRow
        async with self.db.session() as session, session.begin():
            found = await session.get(row, action_id, with_for_update=True)
            if found is None or (not all_tenants and found.tenant != tenant):
                raise NotFound(f"no action '{action_id}' (list them with `bastion actions list`)")
            if op == "retry":
                if found.status not in ("dead", "conflict"):
                    raise Conflict(
                        f"action {action_id} is {found.status}; only dead or conflicted "
                        "actions can be retried"
                    )
                phase = (found.details or {}).get("phase")
                found.status = "compensating" if phase == "compensate" else "pending"
                found.attempts = 0
            else:
                if found.status in FINAL and found.status != "dead":
                    raise Conflict(f"action {action_id} is already {found.status}")
                found.status = "dropped"
            found.next_at = now
            found.updated_at = now
            found.lease_owner = None
            found.lease_until = None
            return found

    async def counts(self) -> dict[str, int]:
        row = ActionRow
        async with self.db.session() as session:
            found = await session.execute(select(row.status, func.count()).group_by(row.status))
            return {str(s): int(n) for s, n in found.all()}

    async def oldest_due(self, now: datetime) -> float:
        """Age in seconds of the oldest due live action (0 when none)."""
        row = ActionRow
        async with self.db.session() as session:
            oldest = await session.scalar(
                select(func.min(row.next_at)).where(and_(row.status.in_(LIVE), row.next_at <= now))
            )
        if oldest is None:
            return 0.0
        return max(0.0, (now - oldest).total_seconds())


_FENCED_UPDATE = (
    update(ActionRow)
    .where(ActionRow.id == bindparam("_id"), ActionRow.lease_owner == bindparam("_owner"))
    .values(
        status=bindparam("status"),
        step=bindparam("step"),
        attempts=bindparam("attempts"),
        next_at=bindparam("next_at"),
        updated_at=bindparam("updated_at"),
        lease_owner=bindparam("lease_owner"),
        lease_until=bindparam("lease_until"),
        last_error=bindparam("last_error"),
        details=bindparam("details"),
    )
)


def _change(
    worker: str, claimed: Claimed, t: Transition, lease_s: float, now: datetime
) -> dict[str, Any]:
    """The new state of one action, fenced on ``worker`` still holding its lease."""
    again = t.again_now
    details: dict[str, Any] | None = None
    if t.details or claimed.details:
        details = {**claimed.details, **t.details}
        if not t.details.get("reread"):
            details.pop("reread", None)
    return {
        "_id": claimed.id,
        "_owner": worker,
        "status": t.state.status,
        "step": t.state.step,
        "attempts": t.state.attempts,
        "next_at": t.next_at,
        "updated_at": now,
        "lease_owner": worker if again else None,
        "lease_until": now + timedelta(seconds=lease_s) if again else None,
        "last_error": t.error[:2000] if t.error is not None else None,
        "details": details,
    }


def _insert_ignore(conn: AsyncConnection) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(ActionRow).on_conflict_do_nothing()


def _claimed(r: Any) -> Claimed:
    return Claimed(
        id=r.id,
        tenant=r.tenant,
        deployment=r.deployment,
        action=r.action,
        decision_id=r.decision_id,
        request_id=r.request_id,
        state=State(r.status, r.step, r.attempts),
        context=r.context or {},
        details=r.details or {},
    )


def _attempt(a: Attempt) -> dict[str, Any]:
    return {
        "action_id": a.action_id,
        "step": a.step,
        "step_name": a.step_name,
        "phase": a.phase,
        "attempt": a.attempt,
        "at": a.at,
        "outcome": a.outcome,
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "error": a.error,
        "worker": a.worker,
    }

"""Rollout persistence: canary runs and events, per-process stats, A/B assignments, the lease."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.errors import Conflict
from bastion.routing.rollouts.config import CanaryPlan
from bastion.routing.rollouts.entities import RUNNING, CanaryEvent, CanaryRun, StatsRecord
from bastion.store import Database
from bastion.store.changes import WhileUnchanged
from bastion.store.rollouts_tables import (
    AbAssignmentRow,
    CanaryEventRow,
    CanaryRunRow,
    RolloutLeaseRow,
    RolloutStatsRow,
)
from bastion.store.tables import utcnow
from bastion.store.upsert import insert_for


def already_running(deployment: str) -> Conflict:
    return Conflict(
        f"deployment '{deployment}' already has a running canary; see "
        f"`bastion canary status {deployment}`, or abort it first"
    )


def _insert(session: AsyncSession) -> Any:
    return insert_for(session.get_bind().dialect.name)


class RolloutStore:
    """One database session per operation; state changes are conditional updates."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._running: WhileUnchanged[list[CanaryRun]] = WhileUnchanged(db)
        self._now = clock

    async def start_canary(
        self,
        *,
        deployment: str,
        model: str,
        version: int,
        stable_version: int,
        plan: CanaryPlan,
        actor: str,
        reason: str,
    ) -> CanaryRun:
        async with self._db.session() as session:
            row = await self.add_run(
                session,
                deployment=deployment,
                model=model,
                version=version,
                stable_version=stable_version,
                plan=plan,
                actor=actor,
                reason=reason,
            )
            await session.commit()
            return CanaryRun.from_row(row)

    async def has_running(self, deployment: str) -> bool:
        async with self._db.session() as session:
            found = await session.scalar(
                select(CanaryRunRow.id).where(CanaryRunRow.running_key == deployment).limit(1)
            )
            return found is not None

    async def add_run(
        self,
        session: AsyncSession,
        *,
        deployment: str,
        model: str,
        version: int,
        stable_version: int,
        plan: CanaryPlan,
        actor: str,
        reason: str,
    ) -> CanaryRunRow:
        """Record a running canary (and its ``started`` event) in ``session``'s transaction,
        uncommitted; Conflict if the deployment already runs one (the caller rolls back)."""
        now = self._now()
        row = CanaryRunRow(
            deployment=deployment,
            model=model,
            version=version,
            stable_version=stable_version,
            alias=plan.alias,
            status=RUNNING,
            step_index=0,
            traffic=plan.steps[0],
            plan=plan.to_dict(),
            running_key=deployment,
            started_by=actor[:100],
            reason=reason,
            started_at=now,
            step_started_at=now,
            updated_at=now,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as exc:
            raise already_running(deployment) from exc
        session.add(self._event(row, "started", actor, reason, {"plan": plan.to_dict()}))
        await session.flush()
        return row

    def _event(
        self, row: CanaryRunRow, action: str, actor: str, reason: str, details: dict[str, Any]
    ) -> CanaryEventRow:
        return CanaryEventRow(
            canary_id=row.id,
            step_index=row.step_index,
            traffic=row.traffic,
            action=action,
            actor=actor[:100],
            reason=reason,
            details=details,
            at=self._now(),
        )

    async def running(self) -> list[CanaryRun]:
        """Every process reads this each tick: from the database only after a commit."""
        return list(await self._running.get(self._read_running))

    async def _read_running(self) -> list[CanaryRun]:
        async with self._db.session() as session:
            rows = await session.scalars(select(CanaryRunRow).where(CanaryRunRow.status == RUNNING))
            return [CanaryRun.from_row(r) for r in rows]

    async def latest(self, deployment: str) -> CanaryRun | None:
        async with self._db.session() as session:
            row = await session.scalar(
                select(CanaryRunRow)
                .where(CanaryRunRow.deployment == deployment)
                .order_by(CanaryRunRow.id.desc())
                .limit(1)
            )
            return CanaryRun.from_row(row) if row else None

    async def advance(
        self, run: CanaryRun, *, step_index: int, details: dict[str, Any]
    ) -> CanaryRun | None:
        """Move a running canary from its current step to ``step_index``; None if it moved."""
        now = self._now()
        values = {
            "step_index": step_index,
            "traffic": run.plan.steps[step_index],
            "step_started_at": now,
            "updated_at": now,
        }
        return await self._transition(run, values, "advanced", "rollouts", "", details)

    async def finish(
        self, run: CanaryRun, status: str, *, actor: str, reason: str, details: dict[str, Any]
    ) -> CanaryRun | None:
        """End a running canary (promoted, rolled_back, aborted); None if it already ended."""
        now = self._now()
        values = {
            "status": status,
            "traffic": 100.0 if status == "promoted" else 0.0,
            "running_key": None,
            "reason": reason,
            "finished_at": now,
            "updated_at": now,
        }
        return await self._transition(run, values, status, actor, reason, details)

    async def _transition(
        self,
        run: CanaryRun,
        values: dict[str, Any],
        action: str,
        actor: str,
        reason: str,
        details: dict[str, Any],
    ) -> CanaryRun | None:
        async with self._db.session() as session:
            done = await session.execute(
                update(CanaryRunRow)
                .where(
                    CanaryRunRow.id == run.id,
                    CanaryRunRow.status == RUNNING,
                    CanaryRunRow.step_index == run.step_index,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], done).rowcount != 1:
                await session.rollback()
                return None
            row = await session.get(CanaryRunRow, run.id, populate_existing=True)
            assert row is not None
            session.add(self._event(row, action, actor, reason, details))
            await session.commit()
            return CanaryRun.from_row(row)

    async def events(self, run_id: int) -> list[CanaryEvent]:
        async with self._db.session() as session:
            rows = await session.scalars(
                select(CanaryEventRow)
                .where(CanaryEventRow.canary_id == run_id)
                .order_by(CanaryEventRow.id)
            )
            return [
                CanaryEvent(
                    r.id, r.step_index, r.traffic, r.action, r.actor, r.reason, r.details, r.at
                )
                for r in rows
            ]

    async def save_stats(self, process: str, records: Sequence[StatsRecord]) -> None:
        """Replace this process's counters (cumulative, so a repeated flush never double counts)."""
        if not records:
            return
        now = self._now()
        async with self._db.session() as session:
            insert = _insert(session)
            for rec in records:
                stmt = insert(RolloutStatsRow).values(
                    kind=rec.kind,
                    deployment=rec.deployment,
                    run=rec.run,
                    arm=rec.arm,
                    process=process,
                    model=rec.model,
                    data=rec.data,
                    updated_at=now,
                )
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["kind", "deployment", "run", "arm", "process"],
                        set_={"data": stmt.excluded.data, "updated_at": now},
                    )
                )
            await session.commit()

    async def load_stats(
        self,
        kind: str,
        *,
        deployment: str | None = None,
        run: str | None = None,
        model: str | None = None,
    ) -> list[StatsRecord]:
        query = select(RolloutStatsRow).where(RolloutStatsRow.kind == kind)
        if deployment is not None:
            query = query.where(RolloutStatsRow.deployment == deployment)
        if run is not None:
            query = query.where(RolloutStatsRow.run == run)
        if model is not None:
            query = query.where(RolloutStatsRow.model == model)
        async with self._db.session() as session:
            rows = await session.scalars(query)
            return [
                StatsRecord(r.kind, r.deployment, r.run, r.arm, r.model, dict(r.data), r.process)
                for r in rows
            ]

    async def log_assignments(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Append ``(request_id, deployment, experiment, arm)`` rows in one transaction."""
        if not rows:
            return
        now = self._now()
        values = [
            {"request_id": r, "deployment": d, "experiment": e, "arm": a, "at": now}
            for r, d, e, a in rows
        ]
        async with self._db.session() as session:
            await session.execute(insert(AbAssignmentRow), values)  # one executemany
            await session.commit()

    async def assignments(
        self, deployment: str, experiment: str, *, limit: int = 100_000
    ) -> dict[str, list[str]]:
        """Request ids per arm (the newest ``limit``), to join outcomes from feedback."""
        async with self._db.session() as session:
            rows = await session.execute(
                select(AbAssignmentRow.arm, AbAssignmentRow.request_id)
                .where(
                    AbAssignmentRow.deployment == deployment,
                    AbAssignmentRow.experiment == experiment,
                )
                .order_by(AbAssignmentRow.id.desc())
                .limit(limit)
            )
            out: dict[str, list[str]] = {}
            for arm, request_id in rows:
                out.setdefault(arm, []).append(request_id)
            return out

    async def acquire_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take or renew lease ``name`` for ``ttl_s``; False while another owner holds it."""
        now = self._now()
        until = now + timedelta(seconds=ttl_s)
        async with self._db.session() as session:
            renewed = await session.execute(
                update(RolloutLeaseRow)
                .where(
                    RolloutLeaseRow.name == name,
                    (RolloutLeaseRow.owner == owner) | (RolloutLeaseRow.expires_at < now),
                )
                .values(owner=owner, expires_at=until)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], renewed).rowcount == 1:
                await session.commit()
                return True
            await session.execute(
                _insert(session)(RolloutLeaseRow)
                .values(name=name, owner=owner, expires_at=until)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            holder = await session.scalar(
                select(RolloutLeaseRow.owner).where(RolloutLeaseRow.name == name)
            )
            await session.commit()
            return holder == owner

    async def release_lease(self, name: str, owner: str) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(RolloutLeaseRow)
                .where(RolloutLeaseRow.name == name, RolloutLeaseRow.owner == owner)
                .values(expires_at=self._now() - timedelta(seconds=1))
                .execution_options(synchronize_session=False)
            )
            await session.commit()

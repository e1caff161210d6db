"""The jobs ledger in the database: jobs, their finished chunks, and who runs them (leases).

A chunk counts once its row is in ``job_chunks``; that row and the job's counters change in
one transaction, so the counters always equal the sum of the chunks. The primary key
(job, chunk) makes recording a chunk twice impossible.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bastion.errors import Conflict, NotFound
from bastion.jobs.entities import Job
from bastion.store import Database
from bastion.store.jobs_tables import JobChunkRow, JobRow
from bastion.store.usage_tables import UsageRow

_FIELDS = tuple(f.name for f in fields(Job))
# a job read as one Core row (no ORM identity map or instance state: a running job reads
# its own row before every chunk, and a client polls it)
_SELECT_JOB = select(*(getattr(JobRow, name) for name in _FIELDS))


def _entity(row: JobRow) -> Job:
    return Job(**{name: getattr(row, name) for name in _FIELDS})


def chunk_request_prefix(job_id: str, chunk: int) -> str:
    """The request ids of a chunk's calls start with this (usage rows, audit, logs)."""
    return f"{job_id}-c{chunk}-"


class JobLedger:
    """One session per operation; every write validates first, then commits once."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, **values: Any) -> Job:
        async with self._db.session() as session:
            row = JobRow(**values)
            session.add(row)
            await session.commit()
            return _entity(row)

    async def get(self, job_id: str) -> Job:
        async with self._db.session() as session:
            row = (await session.execute(_SELECT_JOB.where(JobRow.id == job_id))).first()
            if row is None:
                raise NotFound(f"no job '{job_id}'; see `bastion batch list`")
            return Job(*row)

    async def list_jobs(
        self, tenant: str | None, *, all_tenants: bool, limit: int = 100
    ) -> list[Job]:
        query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
        if not all_tenants:
            query = query.where(JobRow.tenant == tenant)
        async with self._db.session() as session:
            return [_entity(r) for r in await session.scalars(query)]

    async def done_chunks(self, job_id: str) -> set[int]:
        async with self._db.session() as session:
            query = select(JobChunkRow.chunk).where(JobChunkRow.job_id == job_id)
            return set(await session.scalars(query))

    async def record_chunk(
        self, job_id: str, chunk: int, first_row: int, rows: int, failed: int, cost: int
    ) -> None:
        """Record a finished chunk and add it to the job's counters, in one transaction
        (two Core statements: no ORM unit of work for a row that is written once)."""
        row = insert(JobChunkRow).values(
            job_id=job_id,
            chunk=chunk,
            first_row=first_row,
            rows=rows,
            ok=rows - failed,
            failed=failed,
            cost_micros=cost,
        )
        counters = (
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(
                rows_done=JobRow.rows_done + rows,
                rows_failed=JobRow.rows_failed + failed,
                cost_micros=JobRow.cost_micros + cost,
            )
        )
        try:
            async with self._db.session() as session:
                await session.execute(row)  # the primary key refuses a second record here
                await session.execute(counters)
                await session.commit()
        except IntegrityError as exc:
            raise Conflict(f"job {job_id}: chunk {chunk} is already recorded") from exc

    async def totals(self, job_id: str) -> tuple[int, int, int]:
        """Rows, failed rows and cost summed over the ledger's chunks (for checks)."""
        async with self._db.session() as session:
            query = select(
                func.coalesce(func.sum(JobChunkRow.rows), 0),
                func.coalesce(func.sum(JobChunkRow.failed), 0),
                func.coalesce(func.sum(JobChunkRow.cost_micros), 0),
            ).where(JobChunkRow.job_id == job_id)
            rows, failed, cost = (await session.execute(query)).one()
            return int(rows), int(failed), int(cost)

    async def claim(self, owner: str, lease_s: float, limit: int = 4) -> list[Job]:
        """Take the lease of queued jobs and of running jobs whose lease lapsed."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=lease_s)
        async with self._db.session() as session:
            query = (
                select(JobRow.id)
                .where(
                    JobRow.status.in_(("queued", "running")),
                    or_(JobRow.lease_until.is_(None), JobRow.lease_until < now),
                )
                .order_by(JobRow.created_at)
                .limit(limit)
            )
            candidates = list(await session.scalars(query))
        claimed = []
        for job_id in candidates:
            if await self._take(job_id, owner, now, until):
                claimed.append(await self.get(job_id))
        return claimed

    async def _take(self, job_id: str, owner: str, now: datetime, until: datetime) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status.in_(("queued", "running")),
                    or_(JobRow.lease_until.is_(None), JobRow.lease_until < now),
                )
                .values(lease_owner=owner, lease_until=until)
            )
            await session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def renew(self, job_id: str, owner: str, lease_s: float) -> Job:
        """Extend the lease; the job as it is now (its cancel flag included)."""
        until = datetime.now(UTC) + timedelta(seconds=lease_s)
        async with self._db.session() as session:
            await session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.lease_owner == owner)
                .values(lease_until=until)
            )
            await session.commit()
        return await self.get(job_id)

    async def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status, "error": error}
        if status == "running":
            values["started_at"] = func.coalesce(JobRow.started_at, now)
        else:
            values.update(finished_at=now, lease_owner=None, lease_until=None)
        async with self._db.session() as session:
            await session.execute(update(JobRow).where(JobRow.id == job_id).values(**values))
            await session.commit()

    async def set_total(self, job_id: str, rows: int) -> None:
        async with self._db.session() as session:
            await session.execute(update(JobRow).where(JobRow.id == job_id).values(rows_total=rows))
            await session.commit()

    async def cancel_unclaimed(self, job_id: str, error: str) -> bool:
        """Cancel a queued job that no runner holds (one conditional update): False when a
        runner, in this process or another, took its lease first; then ask it to stop."""
        now = datetime.now(UTC)
        async with self._db.session() as session:
            result = await session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status == "queued",
                    or_(JobRow.lease_until.is_(None), JobRow.lease_until < now),
                )
                .values(status="cancelled", error=error, finished_at=now)
            )
            await session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def request_cancel(self, job_id: str) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(JobRow).where(JobRow.id == job_id).values(cancel_requested=True)
            )
            await session.commit()

    async def forget_unrecorded_usage(self, job_id: str, done: set[int]) -> int:
        """Delete usage rows of calls whose chunk the ledger does not hold.

        A process killed after a chunk's calls were charged but before the chunk was
        recorded leaves their usage rows behind; the chunk runs again and is charged again,
        so the orphans go: the usage log then charges every row once.
        """
        async with self._db.session() as session:
            query = select(UsageRow.id, UsageRow.request_id).where(
                UsageRow.request_id.like(f"{job_id}-c%")
            )
            orphans = [
                rid
                for rid, request_id in (await session.execute(query)).all()
                if int(request_id[len(job_id) + 2 :].split("-", 1)[0]) not in done
            ]
            if orphans:
                await session.execute(delete(UsageRow).where(UsageRow.id.in_(orphans)))
                await session.commit()
            return len(orphans)

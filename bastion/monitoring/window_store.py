"""``drift_windows``: each process saves its own live windows; released ones are adopted once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from bastion.monitoring.monitor import SavedStream
from bastion.monitoring.window_codec import encode
from bastion.store import Database
from bastion.store.monitoring_tables import DriftWindowRow as Row


@dataclass(frozen=True, slots=True)
class Claimed:
    """One saved window now owned by this process, still to be merged into its own."""

    id: int
    tenant: str
    source: int
    state: bytes


class WindowStore:
    """The rows of one process (``owner``, a fresh id per process).

    A row is only ever owned by one process: a process writes and deletes its own rows, and
    takes another's over with a conditional update (released, or not refreshed for
    ``stale_s``), so two processes never both count the same window.
    """

    def __init__(self, db: Database, owner: str) -> None:
        self._db = db
        self.owner = owner

    async def save(self, streams: list[SavedStream], adopted: list[int]) -> None:
        """Write the streams' windows (replacing this process's rows of them) and delete the
        rows ``adopted`` since (their counts are in these windows now), in one transaction.
        The windows are encoded in a thread (a few ms each): the event loop keeps serving."""
        now = datetime.now(UTC)
        blobs = await asyncio.to_thread(lambda: [[encode(w) for w in s.windows] for s in streams])
        async with self._db.session() as session:
            if adopted:  # first: SQLite may give a deleted row's id to a new row
                await session.execute(delete(Row).where(Row.id.in_(adopted)))
            for s, states in zip(streams, blobs, strict=True):
                mine = and_(
                    Row.owner == self.owner,
                    Row.deployment == s.deployment,
                    Row.version == s.version,
                    Row.tenant == s.tenant,
                )
                gone = mine if s.full else and_(mine, ~Row.closed)
                await session.execute(delete(Row).where(gone))
                session.add_all(
                    Row(
                        owner=self.owner,
                        deployment=s.deployment,
                        version=s.version,
                        tenant=s.tenant,
                        source=s.source,
                        closed=i > 0,
                        start=w.start,
                        end=w.end,
                        rows=w.rows,
                        state=state,
                        heartbeat_at=now,
                    )
                    for i, (w, state) in enumerate(zip(s.windows, states, strict=True))
                )
            await session.execute(
                update(Row).where(Row.owner == self.owner).values(heartbeat_at=now)
            )
            await session.commit()

    async def release(self) -> None:
        """Leave this process's rows for the next process that serves their versions."""
        async with self._db.session() as session:
            await session.execute(
                update(Row)
                .where(Row.owner == self.owner)
                .values(owner=None, heartbeat_at=datetime.now(UTC))
            )
            await session.commit()

    async def adoptable(self, released_s: float, stale_s: float) -> set[tuple[str, int]]:
        """The versions with rows released ``released_s`` ago, or not refreshed for
        ``stale_s`` (their process died)."""
        async with self._db.session() as session:
            free = self._free(released_s, stale_s)
            query = select(Row.deployment, Row.version).distinct().where(free)
            found = await session.execute(query)
            return {(d, v) for d, v in found.all()}

    async def claim(
        self, deployment: str, version: int, source: int, *, released_s: float, stale_s: float
    ) -> list[Claimed]:
        """Take over the free rows of a version measured against ``source``; free rows against
        another reference are deleted (their bins no longer mean anything)."""
        free = and_(Row.deployment == deployment, Row.version == version)
        free = and_(free, self._free(released_s, stale_s))
        now = datetime.now(UTC)
        out = []
        async with self._db.session() as session:
            await session.execute(delete(Row).where(free, Row.source != source))
            ids = list(await session.scalars(select(Row.id).where(free)))
            for row_id in ids:
                taken = await session.execute(
                    update(Row)
                    .where(Row.id == row_id, free)
                    .values(owner=self.owner, heartbeat_at=now)
                )
                if getattr(taken, "rowcount", 0) == 1:  # else another process was first
                    row = await session.get(Row, row_id)
                    if row is not None:
                        out.append(Claimed(row.id, row.tenant, row.source, row.state))
            await session.commit()
        return out

    async def purge(self, before: datetime) -> int:
        """Delete windows nobody has owned since ``before`` (versions no longer served)."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(Row).where(Row.owner.is_(None), Row.heartbeat_at < before)
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def _free(self, released_s: float, stale_s: float) -> ColumnElement[bool]:
        now = datetime.now(UTC)
        return or_(
            and_(Row.owner.is_(None), Row.heartbeat_at <= now - timedelta(seconds=released_s)),
            and_(
                Row.owner.is_not(None),
                Row.owner != self.owner,
                Row.heartbeat_at < now - timedelta(seconds=stale_s),
            ),
        )

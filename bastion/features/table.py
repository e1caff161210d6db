"""The built-in feature table: values over time in the database, the newest kept in memory.

``load`` appends rows (an entity's values from ``valid_from`` on, default now); nothing is
overwritten, so ``as_of`` can answer what held at any moment — the same rows serving read.
The in-process cache holds each entity's newest values; a background refresh reads rows
newer than the last one seen every ``poll_interval_s`` (loads from any replica arrive).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bastion.store import Database
from bastion.store.features_tables import FeatureValueRow


class BuiltinFeatures:
    def __init__(self, db: Database, poll_interval_s: float = 1.0) -> None:
        self._db = db
        self._poll = poll_interval_s
        self._cache: dict[tuple[str, str], tuple[datetime, dict[str, Any]]] = {}
        self._seen = 0
        self._task: asyncio.Task[None] | None = None

    def online(self, table: str, entity: str) -> Mapping[str, Any] | None:
        hit = self._cache.get((table, entity))
        return hit[1] if hit is not None else None

    async def fetch(self, table: str, entities: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        return {e: hit[1] for e in entities if (hit := self._cache.get((table, e))) is not None}

    async def as_of(self, table: str, entity: str, at: datetime) -> Mapping[str, Any] | None:
        query = (
            select(FeatureValueRow.values)
            .where(
                FeatureValueRow.table == table,
                FeatureValueRow.entity == entity,
                FeatureValueRow.valid_from <= at,
            )
            .order_by(FeatureValueRow.valid_from.desc(), FeatureValueRow.id.desc())
            .limit(1)
        )
        async with self._db.session() as session:
            found: dict[str, Any] | None = await session.scalar(query)
            return found

    async def as_of_many(
        self, table: str, asks: Sequence[tuple[str, datetime]]
    ) -> list[Mapping[str, Any] | None]:
        return [await self.as_of(table, entity, at) for entity, at in asks]

    async def load(
        self,
        table: str,
        rows: Iterable[tuple[str, dict[str, Any], datetime | None]],
        tenant: str | None,
    ) -> int:
        """Append ``(entity, values, valid_from)`` rows in one transaction; then refresh."""
        now = datetime.now(UTC)
        values = [
            {"table": table, "entity": entity, "values": vals, "valid_from": at or now,
             "tenant": tenant}
            for entity, vals, at in rows
        ]  # fmt: skip
        if values:
            async with self._db.session() as session:
                await session.execute(insert(FeatureValueRow), values)
                await session.commit()
            await self.refresh()
        return len(values)

    async def refresh(self) -> None:
        """Read rows newer than the last seen into the cache (newest valid_from wins)."""
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(FeatureValueRow).where(FeatureValueRow.id > self._seen)
                    .order_by(FeatureValueRow.id)
                )
            ).scalars().all()  # fmt: skip
        now = datetime.now(UTC)
        for row in rows:
            key = (row.table, row.entity)
            held = self._cache.get(key)
            if row.valid_from <= now and (held is None or row.valid_from >= held[0]):
                self._cache[key] = (row.valid_from, dict(row.values))
            self._seen = max(self._seen, row.id)

    async def count(self, table: str) -> int:
        async with self._db.session() as session:
            query = select(func.count()).where(FeatureValueRow.table == table)
            return int(await session.scalar(query) or 0)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="features-refresh")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await self.refresh()
            await asyncio.sleep(self._poll)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

"""Alias changes and alerts as events: tails their tables by id and emits each new row.

Every server process tails (from the newest row at its start); the event ids are the rows'
(``alias-<id>``, ``alert-<id>``), so a sink that deduplicates — JetStream by ``Nats-Msg-Id``,
a webhook receiver by ``x-bastion-id`` — sees each change once.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import func, select

from bastion.actions.events import EventBus
from bastion.store import Database
from bastion.store.alerts_tables import AlertRow
from bastion.store.tables import AliasEventRow

log = structlog.get_logger(__name__)


class Tailer:
    def __init__(self, db: Database, bus: EventBus, *, interval_s: float = 1.0) -> None:
        self._db = db
        self._bus = bus
        self._interval_s = interval_s

    async def run(self) -> None:
        alias_after = await self._max(AliasEventRow.id)
        alert_after = await self._max(AlertRow.id)
        while True:
            with contextlib.suppress(Exception):
                if self._bus.wants("alias"):
                    alias_after = await self._aliases(alias_after)
                if self._bus.wants("alert"):
                    alert_after = await self._alerts(alert_after)
            await asyncio.sleep(self._interval_s)

    async def _max(self, column: object) -> int:
        async with self._db.session() as session:
            return int(await session.scalar(select(func.max(column))) or 0)

    async def _aliases(self, after: int) -> int:
        row = AliasEventRow
        async with self._db.session() as session:
            found = list(await session.scalars(select(row).where(row.id > after).order_by(row.id)))
        for r in found:
            data = {
                "model": r.name,
                "alias": r.alias,
                "version": r.version,
                "previous_version": r.previous_version,
                "action": r.action,
                "actor": r.actor,
                "reason": r.reason,
            }
            self._bus.emit("alias", data, subject=f"{r.name}@{r.alias}", event_id=f"alias-{r.id}")
        return found[-1].id if found else after

    async def _alerts(self, after: int) -> int:
        row = AlertRow
        async with self._db.session() as session:
            found = list(await session.scalars(select(row).where(row.id > after).order_by(row.id)))
        for r in found:
            data = {
                "rule": r.rule,
                "severity": r.severity,
                "deployment": r.deployment,
                "summary": r.summary,
                "details": r.details,
            }
            self._bus.emit("alert", data, subject=r.rule, event_id=f"alert-{r.id}")
        return found[-1].id if found else after

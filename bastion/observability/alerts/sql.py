"""The alert history's SQL: at most one active alert per dedupe key, across processes.

The rows are ``store/alerts_tables.py`` (the schema, beside its migrations); the queries are
the alert manager's own, here, since ``bastion.observability`` sits above ``bastion.store``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update

from bastion.observability.alerts.history import Alert, NewAlert, State
from bastion.store.alerts_tables import AlertRow
from bastion.store.database import Database
from bastion.store.upsert import insert_for


class SqlAlertHistory:
    """``AlertHistory`` on the app's Database (SQLite or PostgreSQL); one session per call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, alert: NewAlert, *, at: datetime, by: str) -> Alert | None:
        insert = insert_for(self._db.dialect)
        values = {
            "dedupe_key": alert.dedupe_key,
            "active_key": alert.dedupe_key,
            "rule": alert.rule,
            "kind": alert.kind,
            "source": alert.source,
            "deployment": alert.deployment,
            "severity": alert.severity,
            "summary": alert.summary,
            "details": alert.details,
            "fired_at": at,
            "last_seen_at": at,
            "last_seen_by": by,
            "expires_at": alert.expires_at,
        }
        stmt = (
            insert(AlertRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["active_key"])
            .returning(AlertRow.id)
        )
        async with self._db.session() as session:
            new_id = (await session.execute(stmt)).scalar_one_or_none()
            if new_id is None:
                await session.execute(_seen(alert.dedupe_key, at, by))
            await session.commit()
            if new_id is None:
                return None
            row = await session.get(AlertRow, new_id)
            assert row is not None
            return to_entity(row)

    async def touch(self, dedupe_key: str, *, at: datetime, by: str) -> bool:
        async with self._db.session() as session:
            done = await session.execute(_seen(dedupe_key, at, by))
            await session.commit()
            return bool(getattr(done, "rowcount", 0))

    async def close(
        self, dedupe_key: str, *, at: datetime, unseen_since: datetime | None = None
    ) -> Alert | None:
        where: list[ColumnElement[bool]] = [AlertRow.active_key == dedupe_key]
        if unseen_since is not None:
            where.append(AlertRow.last_seen_at < unseen_since)
        stmt = (
            update(AlertRow)
            .where(*where)
            .values(active_key=None, resolved_at=at)
            .returning(AlertRow)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(stmt)).one_or_none()
            await session.commit()
            return to_entity(row) if row is not None else None

    async def active(self) -> list[Alert]:
        query = select(AlertRow).where(AlertRow.active_key.is_not(None)).order_by(AlertRow.id)
        async with self._db.session() as session:
            return [to_entity(row) for row in await session.scalars(query)]

    async def history(
        self,
        *,
        state: State | None = None,
        deployment: str | None = None,
        rule: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Alert]:
        query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        if state == "firing":
            query = query.where(AlertRow.active_key.is_not(None))
        elif state == "resolved":
            query = query.where(AlertRow.active_key.is_(None))
        if deployment is not None:
            query = query.where(AlertRow.deployment == deployment)
        if rule is not None:
            query = query.where(AlertRow.rule == rule)
        if before_id is not None:
            query = query.where(AlertRow.id < before_id)
        async with self._db.session() as session:
            return [to_entity(row) for row in await session.scalars(query)]

    async def get(self, alert_id: int) -> Alert | None:
        async with self._db.session() as session:
            row = await session.get(AlertRow, alert_id)
            return to_entity(row) if row is not None else None

    async def ack(self, alert_id: int, *, actor: str, at: datetime) -> Alert | None:
        stmt = (
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.active_key.is_not(None))
            .values(acked_at=at, acked_by=actor)
            .returning(AlertRow)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(stmt)).one_or_none()
            await session.commit()
            return to_entity(row) if row is not None else None


def _seen(dedupe_key: str, at: datetime, by: str) -> Any:
    return (
        update(AlertRow)
        .where(AlertRow.active_key == dedupe_key)
        .values(last_seen_at=at, last_seen_by=by)
        .execution_options(synchronize_session=False)
    )


def to_entity(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        dedupe_key=row.dedupe_key,
        rule=row.rule,
        kind=row.kind,
        source=row.source,
        deployment=row.deployment,
        severity=row.severity,
        summary=row.summary,
        details=dict(row.details or {}),
        fired_at=row.fired_at,
        last_seen_at=row.last_seen_at,
        last_seen_by=row.last_seen_by,
        resolved_at=row.resolved_at,
        expires_at=row.expires_at,
        acked_at=row.acked_at,
        acked_by=row.acked_by,
    )

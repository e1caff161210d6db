"""Alert rows and their SQL history: at most one active alert per dedupe key, across processes.

``active_key`` holds the dedupe key while the alert fires and NULL once resolved; a unique
constraint on it (NULLs never collide, on SQLite and PostgreSQL alike) makes "fire" an
insert-if-absent and "resolve" a conditional update, so whichever process wins the row is
the one that notifies. The repository lives here, beside its rows, because
``bastion.observability`` sits below ``bastion.store`` in the layers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from bastion.observability.alerts.history import Alert, NewAlert, State
from bastion.store.database import Database
from bastion.store.tables import Base


class AlertRow(Base):
    """One firing of an alert; never deleted, so that the history stays complete."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("active_key", name="uq_alerts_active_key"),
        Index("ix_alerts_deployment_id", "deployment", "id"),
        Index("ix_alerts_rule_id", "rule", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    active_key: Mapped[str | None] = mapped_column(String(255))
    rule: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    deployment: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fired_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    last_seen_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    acked_at: Mapped[datetime | None] = mapped_column()
    acked_by: Mapped[str | None] = mapped_column(String(100))

    def to_entity(self) -> Alert:
        return Alert(
            id=self.id,
            dedupe_key=self.dedupe_key,
            rule=self.rule,
            kind=self.kind,
            source=self.source,
            deployment=self.deployment,
            severity=self.severity,
            summary=self.summary,
            details=dict(self.details or {}),
            fired_at=self.fired_at,
            last_seen_at=self.last_seen_at,
            last_seen_by=self.last_seen_by,
            resolved_at=self.resolved_at,
            expires_at=self.expires_at,
            acked_at=self.acked_at,
            acked_by=self.acked_by,
        )


class SqlAlertHistory:
    """``AlertHistory`` on the app's Database (SQLite or PostgreSQL); one session per call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open(self, alert: NewAlert, *, at: datetime, by: str) -> Alert | None:
        insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
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
            return row.to_entity()

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
            return row.to_entity() if row is not None else None

    async def active(self) -> list[Alert]:
        query = select(AlertRow).where(AlertRow.active_key.is_not(None)).order_by(AlertRow.id)
        async with self._db.session() as session:
            return [row.to_entity() for row in await session.scalars(query)]

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
            return [row.to_entity() for row in await session.scalars(query)]

    async def get(self, alert_id: int) -> Alert | None:
        async with self._db.session() as session:
            row = await session.get(AlertRow, alert_id)
            return row.to_entity() if row is not None else None

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
            return row.to_entity() if row is not None else None


def _seen(dedupe_key: str, at: datetime, by: str) -> Any:
    return (
        update(AlertRow)
        .where(AlertRow.active_key == dedupe_key)
        .values(last_seen_at=at, last_seen_by=by)
        .execution_options(synchronize_session=False)
    )

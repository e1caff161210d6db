"""Action outbox rows: one row per (decision, action), one row per delivery attempt.

``OutboxIntent`` is what the act stage hands to the decision's commit (the audit log's group
commit, or the outbox's own writer): it lives here, below the audit writer, so that the one
transaction that makes a decision's record durable also inserts its action intents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow

# How SQLAlchemy's DateTime stores a UTC time on SQLite, so that its reads parse ours.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

# Statuses: held (waits for a review decision) → pending → done; a permanent failure of a
# later step → compensating → compensated; out of attempts (or conflict policy fail) → dead;
# conflict (policy review: waits for a human); dropped (by an operator or a rejection);
# skipped (its condition did not hold for the reviewed output).
LIVE = ("pending", "compensating")
FINAL = ("done", "compensated", "dead", "dropped", "skipped")


class ActionRow(Base):
    __tablename__ = "action_outbox"
    __table_args__ = (
        UniqueConstraint("tenant", "decision_id", "action", name="uq_action_outbox_decision"),
        Index("ix_action_outbox_due", "status", "next_at"),
        Index("ix_action_outbox_tenant_created", "tenant", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[str] = mapped_column(String(120))
    request_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    step: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column()
    context: Mapped[dict[str, Any]] = mapped_column()
    details: Mapped[dict[str, Any] | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionAttemptRow(Base):
    __tablename__ = "action_attempts"
    __table_args__ = (Index("ix_action_attempts_action_id", "action_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[str] = mapped_column(String(40))
    step: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str] = mapped_column(String(64))


class AsyncRequestRow(Base):
    """One ``?async=true`` request: its status, then its result (or error)."""

    __tablename__ = "async_requests"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # running | done | error
    result: Mapped[dict[str, Any] | None] = mapped_column()
    callback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


@dataclass(frozen=True, slots=True)
class OutboxIntent:
    """One action to run for one decision, before it has been written."""

    id: str
    tenant: str | None
    deployment: str
    action: str
    decision_id: str
    request_id: str
    status: str  # "pending", or "held" until a reviewer decides
    context: Mapping[str, Any]
    at: datetime

    def row(self) -> dict[str, Any]:
        """Column values for SQLAlchemy's ``insert(ActionRow)``."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "deployment": self.deployment,
            "action": self.action,
            "decision_id": self.decision_id,
            "request_id": self.request_id,
            "status": self.status,
            "step": 0,
            "attempts": 0,
            "next_at": self.at,
            "context": dict(self.context),
            "created_at": self.at,
            "updated_at": self.at,
        }

    def sqlite_params(self) -> dict[str, Any]:
        """The same for a raw sqlite3 ``executemany`` (text times and JSON)."""
        values = self.row()
        when = self.at.astimezone(UTC).strftime(SQLITE_TIME)
        values.update(next_at=when, created_at=when, updated_at=when)
        values["context"] = orjson.dumps(values["context"], option=_ORJSON).decode()
        return values


_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_COLUMNS = (
    "id",
    "tenant",
    "deployment",
    "action",
    "decision_id",
    "request_id",
    "status",
    "step",
    "attempts",
    "next_at",
    "context",
    "created_at",
    "updated_at",
)
# SQLite ≥ 3.24 and PostgreSQL: a decision's action is written once, even when a client
# repeats its x-request-id (a retried request then acts once).
SQLITE_INSERT = (
    f"INSERT INTO action_outbox ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) ON CONFLICT DO NOTHING"
)

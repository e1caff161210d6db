"""Rows of rollouts: canary runs and their step history, per-process stats, A/B log, leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class CanaryRunRow(Base):
    """One canary of one version. ``running_key`` is the deployment while it runs, else NULL:
    its unique index allows one running canary per deployment on SQLite and PostgreSQL alike."""

    __tablename__ = "rollout_canaries"
    __table_args__ = (Index("ix_rollout_canaries_deployment", "deployment", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment: Mapped[str] = mapped_column(String(63))
    model: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    stable_version: Mapped[int] = mapped_column(Integer)
    alias: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(16))
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    traffic: Mapped[float] = mapped_column(Float, default=0.0)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    running_key: Mapped[str | None] = mapped_column(String(63), unique=True)
    started_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    step_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CanaryEventRow(Base):
    """One thing that happened to a canary run (started, advanced, rolled back …)."""

    __tablename__ = "rollout_canary_events"
    __table_args__ = (Index("ix_rollout_canary_events_run", "canary_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canary_id: Mapped[int] = mapped_column(ForeignKey("rollout_canaries.id"))
    step_index: Mapped[int] = mapped_column(Integer)
    traffic: Mapped[float] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RolloutStatsRow(Base):
    """One process's cumulative counters for one arm of one run (replaced on each flush).

    ``kind`` is shadow, canary or ab; ``run`` names what the counters belong to (a candidate
    version, a canary step, an experiment). Summing over ``process`` gives the whole fleet.
    """

    __tablename__ = "rollout_stats"
    __table_args__ = (Index("ix_rollout_stats_model", "kind", "model", "run"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    deployment: Mapped[str] = mapped_column(String(63), primary_key=True)
    run: Mapped[str] = mapped_column(String(64), primary_key=True)
    arm: Mapped[str] = mapped_column(String(63), primary_key=True)
    process: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(63))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AbAssignmentRow(Base):
    """Which arm answered a request: joins feedback outcomes to arms. Written in batches."""

    __tablename__ = "rollout_ab_assignments"
    __table_args__ = (
        Index("ix_rollout_ab_assignments_run", "deployment", "experiment", "arm"),
        Index("ix_rollout_ab_assignments_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(63))
    experiment: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(63))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RolloutLeaseRow(Base):
    """A named lease: the one process that drives canary state machines holds it."""

    __tablename__ = "rollout_leases"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime] = mapped_column()

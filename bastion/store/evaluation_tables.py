"""Rows of evaluation: eval set versions, eval reports, and approvals of model versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class EvalSetRow(Base):
    """One version of an eval set; its content lives in the artifact store under ``sha256``."""

    __tablename__ = "eval_sets"
    __table_args__ = (Index("ix_eval_sets_name_sha256", "name", "sha256"),)

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    slices: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(100))  # None: shared (evaluation_0002)
    created_by_key: Mapped[str | None] = mapped_column(String(64))


class EvalReportRow(Base):
    """One eval run of one model version on one eval set version. Never updated."""

    __tablename__ = "eval_reports"
    __table_args__ = (
        Index("ix_eval_reports_version_set", "model", "version", "set_sha256", "id"),
        Index("ix_eval_reports_model", "model", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    set_name: Mapped[str] = mapped_column(String(63))
    set_version: Mapped[int] = mapped_column(Integer)
    set_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    scorers: Mapped[list[str]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    slices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    gaps: Mapped[dict[str, Any]] = mapped_column(default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(100))  # evaluation_0002


class ApprovalRow(Base):
    """One approver key's approval of one model version; a key approves a version once."""

    __tablename__ = "model_approvals"
    __table_args__ = (
        UniqueConstraint("model", "version", "key_id", name="uq_model_approvals_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(100))  # the approver's (evaluation_0002)


class GatePinRow(Base):
    """The eval-set version a promotion gate uses: pinned when first checked, moved only
    when a newer version of the set has the gate's approvals (evaluation_0002)."""

    __tablename__ = "gate_pins"

    model: Mapped[str] = mapped_column(String(63), primary_key=True)
    alias: Mapped[str] = mapped_column(String(63), primary_key=True)
    set_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    set_version: Mapped[int] = mapped_column(Integer)
    set_sha256: Mapped[str] = mapped_column(String(64))
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)


class SetApprovalRow(Base):
    """One approver key's approval of one eval-set version (evaluation_0002)."""

    __tablename__ = "eval_set_approvals"
    __table_args__ = (
        UniqueConstraint("set_name", "set_version", "key_id", name="uq_eval_set_approvals_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    set_name: Mapped[str] = mapped_column(String(63))
    set_version: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str] = mapped_column(String(100))
    tenant: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Rows of the quarantine: inputs that broke a deployment's data contract, with reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class QuarantineRow(Base):
    """One quarantined row. ``source``: ``online`` (a request id in ``ref``) or a job id
    (``row``: its index in the job's input). ``reasons``: the rules it broke."""

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_tenant_deployment", "tenant", "deployment", "id"),
        Index("ix_quarantine_source", "source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str | None] = mapped_column(String(100))
    deployment: Mapped[str] = mapped_column(String(100))
    version: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(100), default="")
    row: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column()
    reasons: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="held")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

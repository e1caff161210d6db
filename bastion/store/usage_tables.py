"""Rows of the usage log: one per admitted call, with what it cost (the costs report's data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class UsageRow(Base):
    """What one call used and cost. Written in batches after the answer; never updated.

    ``day`` is the UTC date (``2025-06-01``), kept as text so that grouping by day is the same
    on SQLite and PostgreSQL. Money is integer micro-dollars, as in the budget counters.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_records_tenant_day", "tenant", "day"),
        Index("ix_usage_records_day", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[str] = mapped_column(String(100))
    tenant: Mapped[str] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(40))
    deployment: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    api: Mapped[str] = mapped_column(String(32))
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[bool] = mapped_column(default=False)
    prompt: Mapped[str | None] = mapped_column(String(100))  # NAME@VERSION (prompts_0001)
    # the tokens (and so the cost) are Bastion's estimate: the upstream sent no usage
    estimated: Mapped[bool] = mapped_column(default=False, server_default=false())

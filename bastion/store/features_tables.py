"""Rows of the built-in feature table: an entity's feature values from a moment on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class FeatureValueRow(Base):
    """``values`` of ``entity`` in ``table`` hold from ``valid_from`` until a newer row."""

    __tablename__ = "feature_values"
    __table_args__ = (Index("ix_feature_values_lookup", "table", "entity", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    table: Mapped[str] = mapped_column(String(63))
    entity: Mapped[str] = mapped_column(String(200))
    values: Mapped[dict[str, Any]] = mapped_column()
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(100))

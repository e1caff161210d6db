"""Artifact bytes in the database (the cluster's default shared artifact store): one row per
artifact, its content in numbered chunks of at most 1 MiB, so that no read or write holds a
whole artifact in memory. Content-addressed: the sha256 is the key, rows are never updated.

A blob has no owner of its own: it is reachable only through the model versions and eval sets
that name its sha256, and those rows carry the tenant (issue 24)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class ArtifactBlobRow(Base):
    """An artifact: written in one transaction with its chunks, so never seen half-stored."""

    __tablename__ = "artifact_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArtifactChunkRow(Base):
    """Bytes ``seq * chunk size ..`` of an artifact."""

    __tablename__ = "artifact_chunks"

    sha256: Mapped[str] = mapped_column(
        String(64), ForeignKey("artifact_blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

"""Rows of retrieval collections: collections, documents, their chunks (with vectors), access
lists, metadata and the per-collection change log replicas follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class RagCollectionRow(Base):
    """A collection: its owner (NULL: shared), chunking policy, staleness target and the
    revision every change bumps (replicas compare it to what their index holds)."""

    __tablename__ = "rag_collections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    tenant: Mapped[str | None] = mapped_column(String(100))
    policy: Mapped[dict[str, Any]] = mapped_column()
    staleness_target_s: Mapped[float | None] = mapped_column(Float)
    revision: Mapped[int] = mapped_column(BigId, default=0)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RagDocumentRow(Base):
    """One indexed document: where it came from, its content hash, when it was indexed and
    last confirmed current (``checked_at``), its owning tenant (NULL: every tenant)."""

    __tablename__ = "rag_documents"
    __table_args__ = (Index("uq_rag_documents_doc", "collection_id", "doc_id", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    collection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rag_collections.id", ondelete="CASCADE")
    )
    doc_id: Mapped[str] = mapped_column(String(500))
    tenant: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(1000), default="")
    media_type: Mapped[str] = mapped_column(String(20), default="text")
    content_sha256: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column()
    acl: Mapped[list[str] | None] = mapped_column()
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    indexed_by: Mapped[str] = mapped_column(String(200), default="")


class RagChunkRow(Base):
    """A chunk of a document: its text, where it sits, and its unit-length float32 vector."""

    __tablename__ = "rag_chunks"
    __table_args__ = (Index("ix_rag_chunks_document", "document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rag_documents.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class RagAclRow(Base):
    """An access-list entry of a document (``key:ID``, ``team:NAME``, ``role:NAME``). A
    document with entries is visible only to principals matching one of them."""

    __tablename__ = "rag_acl"

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rag_documents.id", ondelete="CASCADE"), primary_key=True
    )
    entry: Mapped[str] = mapped_column(String(300), primary_key=True)


class RagMetaRow(Base):
    """A metadata value of a document, JSON-encoded (``"en"``, ``3``, ``true``), for filters."""

    __tablename__ = "rag_meta"
    __table_args__ = (Index("ix_rag_meta_lookup", "key", "value", "document_id"),)

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rag_documents.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)


class RagChangeRow(Base):
    """A document of a collection changed (indexed, replaced or deleted) at ``revision``."""

    __tablename__ = "rag_changes"

    collection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rag_collections.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(BigId)

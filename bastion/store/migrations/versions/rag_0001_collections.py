"""Retrieval collections: collections, documents, chunks with vectors, access lists,
metadata and the change log replicas follow.

Revision ID: rag_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.rag_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "rag_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("rag",)
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "rag_collections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("policy", _json(), nullable=False),
        sa.Column("staleness_target_s", sa.Float(), nullable=True),
        sa.Column("revision", _ID, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rag_collections"),
        sa.UniqueConstraint("name", name="uq_rag_collections_name"),
    )
    op.create_table(
        "rag_documents",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("collection_id", _ID, nullable=False),
        sa.Column("doc_id", sa.String(500), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("meta", _json(), nullable=False),
        sa.Column("acl", _json(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("indexed_at", _WHEN, nullable=False),
        sa.Column("checked_at", _WHEN, nullable=False),
        sa.Column("indexed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rag_documents"),
        _fk("rag_documents", "collection_id", "rag_collections"),
    )
    op.create_index(
        "uq_rag_documents_doc", "rag_documents", ["collection_id", "doc_id"], unique=True
    )
    op.create_table(
        "rag_chunks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rag_chunks"),
        _fk("rag_chunks", "document_id", "rag_documents"),
    )
    op.create_index("ix_rag_chunks_document", "rag_chunks", ["document_id", "ordinal"])
    op.create_table(
        "rag_acl",
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("entry", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "entry", name="pk_rag_acl"),
        _fk("rag_acl", "document_id", "rag_documents"),
    )
    op.create_table(
        "rag_meta",
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "key", "value", name="pk_rag_meta"),
        _fk("rag_meta", "document_id", "rag_documents"),
    )
    op.create_index("ix_rag_meta_lookup", "rag_meta", ["key", "value", "document_id"])
    op.create_table(
        "rag_changes",
        sa.Column("collection_id", _ID, nullable=False),
        sa.Column("revision", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "revision", name="pk_rag_changes"),
        _fk("rag_changes", "collection_id", "rag_collections"),
    )


def downgrade() -> None:
    for table in ("rag_changes", "rag_meta", "rag_acl", "rag_chunks", "rag_documents"):
        op.drop_table(table)
    op.drop_table("rag_collections")

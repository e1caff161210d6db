"""Batches: the OpenAI-compatible files, batches and per-line results.

Revision ID: batches_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.batch_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "batches_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("batches",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "openai_files",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_openai_files"),
    )
    op.create_index("ix_openai_files_tenant", "openai_files", ["tenant", "created_at"])
    op.create_table(
        "openai_batches",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("input_file_id", sa.String(40), nullable=False),
        sa.Column("completion_window", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("output_file_id", sa.String(40), nullable=True),
        sa.Column("error_file_id", sa.String(40), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("meta", _json(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("in_progress_at", when, nullable=True),
        sa.Column("finalizing_at", when, nullable=True),
        sa.Column("completed_at", when, nullable=True),
        sa.Column("failed_at", when, nullable=True),
        sa.Column("cancelling_at", when, nullable=True),
        sa.Column("cancelled_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_openai_batches"),
        sa.UniqueConstraint("tenant", "key_id", "idempotency_key", name="uq_openai_batches_idem"),
    )
    op.create_index("ix_openai_batches_status", "openai_batches", ["status"])
    op.create_table(
        "openai_batch_lines",
        sa.Column("batch_id", sa.String(40), nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("result", _json(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "line", name="pk_openai_batch_lines"),
    )


def downgrade() -> None:
    op.drop_table("openai_batch_lines")
    op.drop_index("ix_openai_batches_status", table_name="openai_batches")
    op.drop_table("openai_batches")
    op.drop_index("ix_openai_files_tenant", table_name="openai_files")
    op.drop_table("openai_files")

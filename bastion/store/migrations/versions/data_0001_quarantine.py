"""Data: the quarantine of rows that broke a deployment's data contract.

Revision ID: data_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.data_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "data_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("data",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("ref", sa.String(100), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
    )
    op.create_index("ix_quarantine_tenant_deployment", "quarantine", ["tenant", "deployment", "id"])
    op.create_index("ix_quarantine_source", "quarantine", ["source"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_source", table_name="quarantine")
    op.drop_index("ix_quarantine_tenant_deployment", table_name="quarantine")
    op.drop_table("quarantine")

"""Operations records: load tests, backups and restores, for `bastion check`.

Revision ID: operations_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.operations_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "operations_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("operations",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operation_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "details",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operation_records"),
    )
    op.create_index("ix_operation_records_kind_id", "operation_records", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_operation_records_kind_id", table_name="operation_records")
    op.drop_table("operation_records")

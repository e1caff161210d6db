"""Usage log: one row per admitted call with its tokens and cost.

Revision ID: usage_0001
Revises: 0001
Create Date: 2025-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.usage_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "usage_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("usage",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("api", sa.String(32), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
    )
    op.create_index("ix_usage_records_tenant_day", "usage_records", ["tenant", "day"])
    op.create_index("ix_usage_records_day", "usage_records", ["day"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_day", table_name="usage_records")
    op.drop_index("ix_usage_records_tenant_day", table_name="usage_records")
    op.drop_table("usage_records")

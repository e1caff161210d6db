"""Features: the built-in feature table (entity values over time).

Revision ID: features_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.features_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "features_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("features",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )
    op.create_table(
        "feature_values",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("table", sa.String(63), nullable=False),
        sa.Column("entity", sa.String(200), nullable=False),
        sa.Column("values", json, nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_feature_values"),
    )
    op.create_index("ix_feature_values_lookup", "feature_values", ["table", "entity", "valid_from"])


def downgrade() -> None:
    op.drop_index("ix_feature_values_lookup", table_name="feature_values")
    op.drop_table("feature_values")

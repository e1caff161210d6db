"""Alerts: one row per firing; at most one active per dedupe key.

Revision ID: alerts_0001
Revises: 0001
Create Date: 2025-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.alerts_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "alerts_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("alerts",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("active_key", sa.String(255), nullable=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("fired_at", _when(), nullable=False),
        sa.Column("last_seen_at", _when(), nullable=False),
        sa.Column("last_seen_by", sa.String(64), nullable=False),
        sa.Column("expires_at", _when(), nullable=True),
        sa.Column("resolved_at", _when(), nullable=True),
        sa.Column("acked_at", _when(), nullable=True),
        sa.Column("acked_by", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("active_key", name="uq_alerts_active_key"),
    )
    op.create_index("ix_alerts_deployment_id", "alerts", ["deployment", "id"])
    op.create_index("ix_alerts_rule_id", "alerts", ["rule", "id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_rule_id", table_name="alerts")
    op.drop_index("ix_alerts_deployment_id", table_name="alerts")
    op.drop_table("alerts")

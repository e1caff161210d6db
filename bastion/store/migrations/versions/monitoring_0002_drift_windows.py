"""Monitoring: live drift windows kept across restarts (``drift_windows``).

Revision ID: monitoring_0002
Revises: monitoring_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.monitoring_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "monitoring_0002"
down_revision: str | None = "monitoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drift_windows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_windows"),
    )
    op.create_index("ix_drift_windows_stream", "drift_windows", ["deployment", "version", "owner"])
    op.create_index("ix_drift_windows_owner", "drift_windows", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_drift_windows_owner", table_name="drift_windows")
    op.drop_index("ix_drift_windows_stream", table_name="drift_windows")
    op.drop_table("drift_windows")

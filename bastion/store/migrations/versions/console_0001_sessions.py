"""Console: server-side sessions and the rollups of traffic and usage.

The indexes on audit and usage are audit_console_0001 and usage_console_0001, on those
tables' own branches.

Revision ID: console_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.console_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "console_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("principal", _json(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_traffic_hourly",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hour", sa.String(13), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("deployment", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(64), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_traffic_hourly"),
    )
    op.create_index("ix_console_traffic_hourly_hour", "console_traffic_hourly", ["hour"])
    op.create_index(
        "ix_console_traffic_hourly_tenant_hour", "console_traffic_hourly", ["tenant", "hour"]
    )
    big = sa.BigInteger()
    op.create_table(
        "console_usage_daily",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        *(
            sa.Column(name, big, nullable=False)
            for name in (
                "requests",
                "prompt_tokens",
                "completion_tokens",
                "tokens",
                "cached",
                "cost_micros",
            )
        ),
        sa.PrimaryKeyConstraint("id", name="pk_console_usage_daily"),
    )
    op.create_index("ix_console_usage_daily_day", "console_usage_daily", ["day"])
    op.create_index("ix_console_usage_daily_tenant_day", "console_usage_daily", ["tenant", "day"])
    op.create_table(  # no rows: the first refresh adds them (a restore brings its own)
        "console_rollup_marks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("until", sa.String(13), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_console_rollup_marks"),
    )


def downgrade() -> None:
    op.drop_table("console_rollup_marks")
    op.drop_index("ix_console_usage_daily_tenant_day", table_name="console_usage_daily")
    op.drop_index("ix_console_usage_daily_day", table_name="console_usage_daily")
    op.drop_table("console_usage_daily")
    op.drop_index("ix_console_traffic_hourly_tenant_hour", table_name="console_traffic_hourly")
    op.drop_index("ix_console_traffic_hourly_hour", table_name="console_traffic_hourly")
    op.drop_table("console_traffic_hourly")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_table("console_sessions")

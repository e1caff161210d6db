"""Rollouts: canary runs and events, per-process rollout stats, A/B assignments, leases.

Revision ID: rollouts_0001
Revises: 0001
Create Date: 2025-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.rollouts_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "rollouts_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("rollouts",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rollout_canaries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stable_version", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("traffic", sa.Float(), nullable=False),
        sa.Column("plan", _json(), nullable=False),
        sa.Column("running_key", sa.String(63), nullable=True),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("step_started_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rollout_canaries"),
        sa.UniqueConstraint("running_key", name="uq_rollout_canaries_running_key"),
    )
    op.create_index("ix_rollout_canaries_deployment", "rollout_canaries", ["deployment", "id"])
    op.create_table(
        "rollout_canary_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("canary_id", sa.Integer(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("traffic", sa.Float(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["canary_id"],
            ["rollout_canaries.id"],
            name="fk_rollout_canary_events_canary_id_rollout_canaries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rollout_canary_events"),
    )
    op.create_index("ix_rollout_canary_events_run", "rollout_canary_events", ["canary_id", "id"])
    op.create_table(
        "rollout_stats",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("run", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(63), nullable=False),
        sa.Column("process", sa.String(40), nullable=False),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "deployment", "run", "arm", "process", name="pk_rollout_stats"
        ),
    )
    op.create_index("ix_rollout_stats_model", "rollout_stats", ["kind", "model", "run"])
    op.create_table(
        "rollout_ab_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(63), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rollout_ab_assignments"),
    )
    op.create_index(
        "ix_rollout_ab_assignments_run",
        "rollout_ab_assignments",
        ["deployment", "experiment", "arm"],
    )
    op.create_index("ix_rollout_ab_assignments_request", "rollout_ab_assignments", ["request_id"])
    op.create_table(
        "rollout_leases",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("owner", sa.String(40), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rollout_leases"),
    )


def downgrade() -> None:
    op.drop_table("rollout_leases")
    op.drop_index("ix_rollout_ab_assignments_request", table_name="rollout_ab_assignments")
    op.drop_index("ix_rollout_ab_assignments_run", table_name="rollout_ab_assignments")
    op.drop_table("rollout_ab_assignments")
    op.drop_index("ix_rollout_stats_model", table_name="rollout_stats")
    op.drop_table("rollout_stats")
    op.drop_index("ix_rollout_canary_events_run", table_name="rollout_canary_events")
    op.drop_table("rollout_canary_events")
    op.drop_index("ix_rollout_canaries_deployment", table_name="rollout_canaries")
    op.drop_table("rollout_canaries")

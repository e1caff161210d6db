"""Action layer: the outbox (one row per decision and action), every delivery attempt, and
asynchronous predict requests.

Revision ID: actions_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.actions_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "actions_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("actions",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "action_outbox",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.String(120), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", _when(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _when(), nullable=True),
        sa.Column("context", _json(), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_outbox"),
        sa.UniqueConstraint("tenant", "decision_id", "action", name="uq_action_outbox_decision"),
    )
    op.create_index("ix_action_outbox_due", "action_outbox", ["status", "next_at"])
    op.create_index("ix_action_outbox_tenant_created", "action_outbox", ["tenant", "created_at"])
    op.create_table(
        "action_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.String(40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_attempts"),
    )
    op.create_index("ix_action_attempts_action_id", "action_attempts", ["action_id", "id"])
    op.create_table(
        "async_requests",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.Column("deployment", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", _json(), nullable=True),
        sa.Column("callback", sa.Text(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_async_requests"),
    )


def downgrade() -> None:
    op.drop_table("async_requests")
    op.drop_table("action_attempts")
    op.drop_table("action_outbox")

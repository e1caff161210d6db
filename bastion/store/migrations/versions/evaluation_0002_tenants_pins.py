"""Evaluation: owning tenants of eval sets and reports, approvers' tenants, gate pins and
approvals of eval-set versions.

Revision ID: evaluation_0002
Revises: evaluation_0001
Create Date: 2026-12-07

Sets and reports stored before this revision become shared (``tenant`` NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_0002"
down_revision: str | None = "evaluation_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("eval_sets") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=True))
        batch.add_column(sa.Column("created_by_key", sa.String(64), nullable=True))
    with op.batch_alter_table("eval_reports") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=True))
    with op.batch_alter_table("model_approvals") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=True))
    op.create_table(
        "gate_pins",
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("set_name", sa.String(63), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("set_sha256", sa.String(64), nullable=False),
        sa.Column("pinned_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("model", "alias", "set_name", name="pk_gate_pins"),
    )
    op.create_table(
        "eval_set_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("set_name", sa.String(63), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(100), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_eval_set_approvals"),
        sa.UniqueConstraint("set_name", "set_version", "key_id", name="uq_eval_set_approvals_key"),
    )


def downgrade() -> None:
    op.drop_table("eval_set_approvals")
    op.drop_table("gate_pins")
    with op.batch_alter_table("model_approvals") as batch:
        batch.drop_column("tenant")
    with op.batch_alter_table("eval_reports") as batch:
        batch.drop_column("tenant")
    with op.batch_alter_table("eval_sets") as batch:
        batch.drop_column("created_by_key")
        batch.drop_column("tenant")

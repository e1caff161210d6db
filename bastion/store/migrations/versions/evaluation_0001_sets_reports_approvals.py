"""Evaluation: eval set versions, eval reports, approvals of model versions.

Revision ID: evaluation_0001
Revises: 0001
Create Date: 2025-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.evaluation_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "evaluation_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("evaluation",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "eval_sets",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("slices", _json(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_eval_sets"),
    )
    op.create_index("ix_eval_sets_name_sha256", "eval_sets", ["name", "sha256"])
    op.create_table(
        "eval_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("set_name", sa.String(63), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("set_sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("scorers", _json(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("slices", _json(), nullable=False),
        sa.Column("gaps", _json(), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_eval_reports"),
    )
    op.create_index(
        "ix_eval_reports_version_set", "eval_reports", ["model", "version", "set_sha256", "id"]
    )
    op.create_index("ix_eval_reports_model", "eval_reports", ["model", "id"])
    op.create_table(
        "model_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_approvals"),
        sa.UniqueConstraint("model", "version", "key_id", name="uq_model_approvals_key"),
    )


def downgrade() -> None:
    op.drop_table("model_approvals")
    op.drop_index("ix_eval_reports_model", table_name="eval_reports")
    op.drop_index("ix_eval_reports_version_set", table_name="eval_reports")
    op.drop_table("eval_reports")
    op.drop_index("ix_eval_sets_name_sha256", table_name="eval_sets")
    op.drop_table("eval_sets")

"""Monitoring: the prediction log, feedback on predictions, drift reference profiles.

Revision ID: monitoring_0001
Revises: 0001
Create Date: 2025-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.monitoring_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "monitoring_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("monitoring",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "prediction_log",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("segments", _json(), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("input_logged", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_log"),
    )
    op.create_index("ix_prediction_log_request", "prediction_log", ["request_id", "item_index"])
    op.create_index(
        "ix_prediction_log_deployment_at", "prediction_log", ["deployment", "version", "at"]
    )
    op.create_index("ix_prediction_log_at", "prediction_log", ["at"])
    op.create_table(
        "prediction_feedback",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("prediction_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("segments", _json(), nullable=False),
        sa.Column("predicted_at", _when(), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("predicted_label", sa.String(200), nullable=True),
        sa.Column("predicted_value", sa.Float(), nullable=True),
        sa.Column("label_key", sa.String(200), nullable=True),
        sa.Column("label_value", sa.Float(), nullable=True),
        sa.Column("label", sa.LargeBinary(), nullable=True),
        sa.Column("label_encrypted", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("abs_error", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_feedback"),
    )
    op.create_index(
        "ix_prediction_feedback_window",
        "prediction_feedback",
        ["deployment", "version", "predicted_at"],
    )
    op.create_index(
        "ix_prediction_feedback_recent", "prediction_feedback", ["deployment", "predicted_at"]
    )
    op.create_index(
        "ix_prediction_feedback_request", "prediction_feedback", ["request_id", "item_index"]
    )
    op.create_index("ix_prediction_feedback_prediction", "prediction_feedback", ["prediction_id"])
    op.create_index("ix_prediction_feedback_at", "prediction_feedback", ["at"])
    op.create_table(
        "drift_references",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_references"),
    )
    op.create_index("ix_drift_references_version", "drift_references", ["model", "version", "id"])


def downgrade() -> None:
    op.drop_index("ix_drift_references_version", table_name="drift_references")
    op.drop_table("drift_references")
    for name in ("at", "prediction", "request", "recent", "window"):
        op.drop_index(f"ix_prediction_feedback_{name}", table_name="prediction_feedback")
    op.drop_table("prediction_feedback")
    for name in ("at", "deployment_at", "request"):
        op.drop_index(f"ix_prediction_log_{name}", table_name="prediction_log")
    op.drop_table("prediction_log")

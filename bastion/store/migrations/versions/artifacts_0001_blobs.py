"""Artifact bytes in the database: the cluster's shared artifact store (issue 18).

Revision ID: artifacts_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.artifact_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "artifacts_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("artifacts",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "artifact_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_artifact_blobs"),
    )
    op.create_table(
        "artifact_chunks",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["artifact_blobs.sha256"],
            name="fk_artifact_chunks_sha256_artifact_blobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sha256", "seq", name="pk_artifact_chunks"),
    )


def downgrade() -> None:
    op.drop_table("artifact_chunks")
    op.drop_table("artifact_blobs")

"""Encryption key checks: a known value sealed under each key that wrote data here.

Revision ID: security_0002
Revises: security_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bastion.store.security_tables  # noqa: F401  (the table joins Base.metadata)

revision: str = "security_0002"
down_revision: str | None = "security_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encryption_key_checks",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_encryption_key_checks"),
    )


def downgrade() -> None:
    op.drop_table("encryption_key_checks")

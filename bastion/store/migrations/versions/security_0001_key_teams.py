"""API keys: team, metadata and the rotation link (the key that replaced this one).

Revision ID: security_0001
Revises: 0001
Create Date: 2025-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.security_tables  # noqa: F401  (the columns join Base.metadata)

revision: str = "security_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("security",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("team", sa.String(100), nullable=True))
        batch.add_column(sa.Column("metadata", _json(), nullable=True))
        batch.add_column(sa.Column("replaced_by", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("replaced_by")
        batch.drop_column("metadata")
        batch.drop_column("team")

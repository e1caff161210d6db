"""Registry: each model's owning tenant (NULL: shared) and the key that registered a version.

Revision ID: registry_0001
Revises: 0001
Create Date: 2026-12-07

Models registered before this revision become shared (``tenant`` NULL): every tenant keeps
seeing them, and changing them needs an admin or a global operator.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("tenant", sa.String(100), nullable=True))
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("created_by_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("created_by_key")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("tenant")

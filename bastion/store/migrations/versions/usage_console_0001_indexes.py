"""Usage: the index the console's request page finds a request's usage and cost through.

Revision ID: usage_console_0001
Revises: usage_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

import bastion.store.console_tables  # noqa: F401  (the index joins Base.metadata)

revision: str = "usage_console_0001"
down_revision: str | None = "usage_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_usage_records_request_id", "usage_records", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_usage_records_request_id", table_name="usage_records")

"""Audit: the indexes the console's request search and overview read through.

Revision ID: audit_console_0001
Revises: audit_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

import bastion.store.console_tables  # noqa: F401  (the indexes join Base.metadata)

revision: str = "audit_console_0001"
down_revision: str | None = "audit_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_audit_records_tenant_at", ["tenant", "at"]),
    ("ix_audit_records_deployment_seq", ["deployment", "seq"]),
    ("ix_audit_records_status_seq", ["status", "seq"]),
)


def upgrade() -> None:
    for name, columns in _INDEXES:
        op.create_index(name, "audit_records", columns)


def downgrade() -> None:
    for name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name="audit_records")

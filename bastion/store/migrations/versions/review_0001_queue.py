"""Review queue: review items and their event history.

Revision ID: review_0001
Revises: 0001
Create Date: 2025-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.review_tables  # noqa: F401  (the rows join Base.metadata for autogenerate)

revision: str = "review_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("review",)
depends_on: str | Sequence[str] | None = None


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(63), nullable=False),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("triggers", _json(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("tier2_role", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("sla_due_at", _when(), nullable=False),
        sa.Column("sla_breached_at", _when(), nullable=True),
        sa.Column("lease_owner", sa.String(40), nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("lease_until", _when(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", _when(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
    )
    op.create_index("ix_review_items_queue", "review_items", ["status", "tenant", "priority"])
    op.create_index("ix_review_items_request", "review_items", ["request_id", "item_index"])
    op.create_index("ix_review_items_due", "review_items", ["status", "sla_due_at"])
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["review_items.id"], name="fk_review_events_item_id_review_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_events"),
    )
    op.create_index("ix_review_events_item_id", "review_events", ["item_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_events_item_id", table_name="review_events")
    op.drop_table("review_events")
    op.drop_index("ix_review_items_due", table_name="review_items")
    op.drop_index("ix_review_items_request", table_name="review_items")
    op.drop_index("ix_review_items_queue", table_name="review_items")
    op.drop_table("review_items")

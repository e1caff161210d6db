"""Prompts: templates, their immutable versions, aliases and alias events; the usage log
learns which prompt version a call rendered (cost attribution).

Revision ID: prompts_0001
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bastion.store.prompts_tables  # noqa: F401  (the rows join Base.metadata)

revision: str = "prompts_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("prompts",)
depends_on: str | Sequence[str] | None = ("usage_0002",)


def _json() -> sa.JSON:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("name", sa.String(56), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_prompts"),
    )
    op.create_table(
        "prompt_versions",
        sa.Column("name", sa.String(56), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("template", _json(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_by_key", sa.String(64), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["prompts.name"], name="fk_prompt_versions_name_prompts"),
        sa.PrimaryKeyConstraint("name", "version", name="pk_prompt_versions"),
    )
    op.create_table(
        "prompt_aliases",
        sa.Column("name", sa.String(56), nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["prompts.name"], name="fk_prompt_aliases_name_prompts"),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["prompt_versions.name", "prompt_versions.version"],
            name="fk_prompt_aliases_version_prompt_versions",
        ),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_prompt_aliases"),
    )
    op.create_table(
        "prompt_alias_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(56), nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["name"], ["prompts.name"], name="fk_prompt_alias_events_name_prompts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_prompt_alias_events"),
    )
    op.create_index(
        "ix_prompt_alias_events_name_alias_id", "prompt_alias_events", ["name", "alias", "id"]
    )
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("prompt", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("prompt")
    op.drop_index("ix_prompt_alias_events_name_alias_id", table_name="prompt_alias_events")
    op.drop_table("prompt_alias_events")
    op.drop_table("prompt_aliases")
    op.drop_table("prompt_versions")
    op.drop_table("prompts")

"""Rows of prompt templates: prompts, their immutable versions, aliases and alias events.

The same shape as the model registry's tables (``tables.py``), so that alias changes follow
the one set of rules (``registry/aliases.py``) and replicas learn of them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow


class PromptRow(Base):
    """One named prompt template; ``tenant`` owns it (None: shared by every tenant)."""

    __tablename__ = "prompts"

    name: Mapped[str] = mapped_column(String(56), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tenant: Mapped[str | None] = mapped_column(String(100))


class PromptVersionRow(Base):
    """One immutable version: the template (messages, group, parameters, variables schema,
    retrieval step) as registered, and its sha256."""

    __tablename__ = "prompt_versions"

    name: Mapped[str] = mapped_column(ForeignKey("prompts.name"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template: Mapped[dict[str, Any]] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_by_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PromptAliasRow(Base):
    __tablename__ = "prompt_aliases"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["prompt_versions.name", "prompt_versions.version"],
            name="fk_prompt_aliases_version_prompt_versions",
        ),
    )

    name: Mapped[str] = mapped_column(ForeignKey("prompts.name"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class PromptAliasEventRow(Base):
    """One alias change of a prompt; ``version`` is None when the alias was removed."""

    __tablename__ = "prompt_alias_events"
    __table_args__ = (Index("ix_prompt_alias_events_name_alias_id", "name", "alias", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(ForeignKey("prompts.name"))
    alias: Mapped[str] = mapped_column(String(63))
    version: Mapped[int | None] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

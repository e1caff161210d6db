"""API-key columns of the security branch: team, metadata, rotation link (single-table)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import ApiKeyRow


class KeyRow(ApiKeyRow):
    """``api_keys`` with the columns the ``security`` migration branch adds.

    Mapped as single-table inheritance on :class:`ApiKeyRow`, so the foundation's row keeps
    working and the extra columns live in the same table. ``team`` is optional (a key of a
    tenant may belong to no team); ``replaced_by`` names the key that rotated this one out.
    """

    team: Mapped[str | None] = mapped_column(String(100))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    replaced_by: Mapped[str | None] = mapped_column(String(40))

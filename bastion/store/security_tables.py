"""Tables of the security branch: API-key columns (team, metadata, rotation link; single-table)
and the encryption key checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import ApiKeyRow, Base


class KeyRow(ApiKeyRow):
    """``api_keys`` with the columns the ``security`` migration branch adds.

    Mapped as single-table inheritance on :class:`ApiKeyRow`, so the foundation's row keeps
    working and the extra columns live in the same table. ``team`` is optional (a key of a
    tenant may belong to no team); ``replaced_by`` names the key that rotated this one out.
    """

    team: Mapped[str | None] = mapped_column(String(100))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    replaced_by: Mapped[str | None] = mapped_column(String(40))


class EncryptionKeyCheckRow(Base):
    """One known value sealed under each encryption key that has written data here: a start
    with a key that cannot open it is refused (bastion/security/key_check.py)."""

    __tablename__ = "encryption_key_checks"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column()

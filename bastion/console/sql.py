"""SQL helpers the console's queries share: time buckets portable across SQLite and PostgreSQL,
the tenant filter, keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from bastion.security import Principal

PAGE_SIZE = 50


def hour_bucket(dialect: str, column: Any) -> ColumnElement[str]:
    """``YYYY-MM-DD HH`` of a UTC timestamp column."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def tenant_of(principal: Principal) -> str | None:
    """The one tenant a viewer's pages are limited to (None: an admin sees every tenant)."""
    return None if principal.is_admin else principal.tenant


@dataclass(frozen=True, slots=True)
class Pager:
    """Keyset paging, newest first: ``before`` is the smallest key shown on this page."""

    before: int | None
    next_before: int | None
    size: int = PAGE_SIZE


def int_param(value: str | None, default: int | None = None) -> int | None:
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        return default

"""``INSERT … ON CONFLICT`` for the database at hand, importing only that database's dialect.

SQLAlchemy's PostgreSQL dialect costs ~2 MiB resident; a server on SQLite never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert

    DialectInsert = PostgresInsert | SQLiteInsert


def insert_for(dialect: str) -> Callable[[Any], DialectInsert]:
    """``postgresql.insert`` when ``dialect`` is ``"postgresql"``, else ``sqlite.insert``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert

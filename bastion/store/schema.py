"""Is the database's schema current? One plain SQL query, without importing Alembic.

A serving process only needs to know that the schema is at the shipped heads
(``bastion.store.heads``); Alembic and its migration scripts (~12 MiB that stay in the
heap) are needed only to change it. ``ensure_schema`` therefore reads ``alembic_version``
itself and, when something is pending, runs the upgrade in a child process that exits
when it is done (``bastion db upgrade`` and the tests still run it in-process).
"""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bastion.errors import ConfigError
from bastion.store.database import create_engine, normalize_url
from bastion.store.heads import HEADS

_URL_VAR = "BASTION_MIGRATE_URL"  # the child reads the URL here: argv is visible in ps


async def stored_revisions(url: str) -> frozenset[str] | None:
    """The revisions ``alembic_version`` holds, or None if the database has no such table."""
    engine = create_engine(normalize_url(url), pooled=False)
    try:
        async with engine.connect() as connection:
            try:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            except DBAPIError:  # a blank database: never migrated
                return None
            return frozenset(str(row[0]) for row in rows)
    finally:
        await engine.dispose()


def shipped_head() -> str:
    """The shipped heads, comma-joined and sorted (as ``migrate.head()`` computes them)."""
    return ",".join(sorted(HEADS))


async def ensure_schema(url: str) -> str:
    """Bring the database at ``url`` to the shipped heads; returns them, comma-joined.

    At head (every start after the first): one query, no Alembic. Otherwise the upgrade
    runs in a child process (serialised with other processes as ``migrate.upgrade`` is).
    """
    if await stored_revisions(url) == frozenset(HEADS):
        return shipped_head()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",  # not ``-m``: the package imports this module first, and runpy warns of it
        "from bastion.store.schema import main; main()",
        env={**os.environ, _URL_VAR: url},
    )
    if await proc.wait() != 0:
        raise ConfigError(
            f"the database migration failed (exit status {proc.returncode}; its error is "
            "printed above); fix the cause and start again, or run `bastion db upgrade`"
        )
    return shipped_head()


def main() -> None:
    from bastion.store import migrate

    asyncio.run(migrate.upgrade(os.environ[_URL_VAR]))

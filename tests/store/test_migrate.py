"""Migrations: idempotent, safe to run concurrently, and matching the table definitions."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bastion.store import Database, migrate
from bastion.store.tables import Base

TABLES = {"models", "model_versions", "model_aliases", "alias_events", "api_keys"}


async def _table_names(url: str) -> set[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await db.aclose()


async def test_upgrade_creates_the_schema_and_is_idempotent(blank_database_url: str) -> None:
    assert await migrate.current(blank_database_url) is None
    assert await migrate.upgrade(blank_database_url) == migrate.head()
    assert await migrate.upgrade(blank_database_url) == migrate.head()
    assert await migrate.current(blank_database_url) == migrate.head()
    assert await _table_names(blank_database_url) >= TABLES | {"alembic_version"}


async def _upgrade_in_subprocess(url: str) -> str:
    code = (
        "import asyncio; from bastion.store import migrate; "
        f"print(asyncio.run(migrate.upgrade({url!r})))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=PIPE, stderr=PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[-1]


async def test_concurrent_upgrades_from_separate_processes_all_succeed(
    blank_database_url: str,
) -> None:
    # Separate processes, like replicas starting together: Alembic itself is not safe to
    # run twice at once inside one process.
    results = await asyncio.gather(*(_upgrade_in_subprocess(blank_database_url) for _ in range(3)))
    assert results == [migrate.head()] * 3
    assert await migrate.current(blank_database_url) == migrate.head()


async def test_migrated_schema_matches_the_table_definitions(database_url: str) -> None:
    def diff(connection: Connection) -> list[object]:
        def mapped(name: str | None, kind: str, _parent: object) -> bool:
            # rag_chunks_fts (and its shadow tables): SQLite FTS5, kept by triggers, unmapped
            return not (kind == "table" and (name or "").startswith("rag_chunks_fts"))

        opts = {"compare_type": True, "include_name": mapped}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))

    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await db.aclose()

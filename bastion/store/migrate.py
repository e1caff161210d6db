"""Schema migrations: Alembic, configured in code, run over the app's own async driver."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bastion.store.database import create_engine, normalize_url
from bastion.store.heads import HEADS
from bastion.store.schema import shipped_head, stored_revisions

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions below: it costs ~0.2 s, which commands that never
# migrate should not pay.

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# How long a process waits for another's SQLite upgrade (the usual busy timeout is 10 s).
_SQLITE_MIGRATION_WAIT_MS = 300_000
# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises concurrent upgrades.
_PG_MIGRATION_LOCK = 0x42A5_7104


def alembic_config() -> Config:
    """An Alembic Config pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def head() -> str:
    """The newest revisions shipped with this version of Bastion, comma-joined and sorted.

    Each concern adds its tables on its own Alembic branch off ``0001`` (e.g. ``audit``,
    ``review``), so there may be several heads; ``upgrade`` applies them all.
    """
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads, "the package ships at least one migration"
    return ",".join(sorted(heads))


def _engine(url: str) -> AsyncEngine:
    """An unpooled engine; on SQLite every transaction is BEGIN IMMEDIATE (one writer at once)."""
    parsed = normalize_url(url)
    engine = create_engine(parsed, pooled=False)
    if parsed.get_backend_name() == "sqlite":

        def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            # another process's upgrade holds the write lock for as long as it runs (seconds
            # on a busy machine): wait for it, as PostgreSQL's advisory lock waits
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout={_SQLITE_MIGRATION_WAIT_MS}")
            finally:
                cursor.close()

        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        event.listen(engine.sync_engine, "connect", _manual_transactions)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def _upgrade(connection: Connection, revision: str) -> tuple[str | None, str | None]:
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    from alembic import command

    before = _current(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return before, _current(connection)


async def upgrade(url: str, revision: str = "heads") -> str | None:
    """Bring the database at ``url`` up to ``revision``; safe to call again, and concurrently.

    Returns the revision the database is at afterwards. Callers in separate processes
    (replicas or workers starting at once) are serialised by a database lock, so each
    migration runs once. Within one process run one upgrade at a time: Alembic keeps its
    running context in module globals. A database already at the shipped heads is
    answered by one query, without importing Alembic.
    """
    if revision == "heads" and await stored_revisions(url) == frozenset(HEADS):
        return shipped_head()
    engine = _engine(url)
    try:
        async with engine.begin() as connection:
            before, after = await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()
    if before != after:
        log.info("database_migrated", from_revision=before, to_revision=after)
    return after


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None if it was never migrated."""
    engine = create_engine(normalize_url(url), pooled=False)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()

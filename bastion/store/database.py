"""Database: one async engine and session factory for SQLite (embedded) or PostgreSQL (cluster)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool, StaticPool

from bastion.errors import ConfigError
from bastion.store.changes import CommitCounter

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Each SQLite connection keeps its own page cache, 2 MiB by default, filled as it writes
# the growing audit, usage and prediction tables and never given back: with the pool's
# connections and the audit writer's that was ~3 MiB of a worker's resident memory after
# three minutes at c=16 (bench/RESULTS.md, 2026-12-07, fourth round). The OS page cache
# still holds the file, so a smaller one costs reads little.
SQLITE_CACHE_KIB = 256

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"}
_KEEP_DRIVERS = {"postgresql+asyncpg"}


def normalize_url(url: str) -> URL:
    """Parse ``url`` and choose Bastion's async driver: aiosqlite or psycopg 3.

    ``sqlite:///path`` becomes ``sqlite+aiosqlite:///path`` and ``postgresql://`` (or
    ``postgres://``) becomes ``postgresql+psycopg://``. Raises ConfigError for anything else.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"database URL {url!r} could not be parsed; use sqlite:///path/to/bastion.db "
            "or postgresql://user@host:5432/dbname"
        ) from exc
    driver = parsed.drivername
    if driver in _SQLITE_DRIVERS:
        return parsed.set(drivername="sqlite+aiosqlite")
    if driver in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if driver in _KEEP_DRIVERS:
        return parsed
    raise ConfigError(
        f"unsupported database URL scheme {driver!r}; Bastion stores its state in SQLite "
        "(sqlite:///path/to/bastion.db) or PostgreSQL (postgresql://user@host:5432/dbname)"
    )


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first, so that the journal-mode switch below waits for other writers.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _ensure_sqlite_dir(url: URL) -> None:
    if not is_memory_sqlite(url) and url.database and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str | URL, *, pooled: bool = True, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for ``url`` with Bastion's connection settings applied.

    SQLite connections get WAL, foreign keys and a busy timeout; the file's directory is
    created if missing. ``pooled=False`` opens a fresh connection per use (migrations).
    """
    parsed = url if isinstance(url, URL) else normalize_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(parsed)
        if is_memory_sqlite(parsed):
            kwargs["poolclass"] = StaticPool
        elif not pooled:
            kwargs["poolclass"] = NullPool
    elif pooled:
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)
    else:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


class Database:
    """An async engine plus a session factory; use one ``session()`` per operation."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self._url = normalize_url(url)
        self._engine = create_engine(self._url, echo=echo)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        path = self._url.database or ""
        plain_file = not is_memory_sqlite(self._url) and not path.startswith("file:")
        sqlite_file = self._url.get_backend_name() == "sqlite" and plain_file
        self._commits = CommitCounter(path) if sqlite_file else None

    @property
    def url(self) -> URL:
        """The normalised URL (its password is masked when printed)."""
        return self._url

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for one operation; rolled back unless the caller commits."""
        async with self._sessions() as session:
            yield session

    def data_version(self) -> int | None:
        """A number that changes whenever any connection commits to this SQLite file; None
        for PostgreSQL and in-memory SQLite (see ``store/changes.py``)."""
        return None if self._commits is None else self._commits.version()

    def quick_scalar(self) -> Callable[[str], Any] | None:
        """A one-value read on the event loop, without a session (``CommitCounter.scalar``),
        for cheap polls of this SQLite file; None for PostgreSQL and in-memory SQLite."""
        return None if self._commits is None else self._commits.scalar

    async def aclose(self) -> None:
        """Close every pooled connection; the Database must not be used afterwards."""
        if self._commits is not None:
            self._commits.close()
        await self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self._url!r})"

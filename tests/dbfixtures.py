"""Database fixtures for SQLite and PostgreSQL (a pytest plugin: ``tests.dbfixtures``).

``database_url``        a migrated, empty database: once on SQLite (a file under tmp_path) and
                        once on PostgreSQL (one database per session, tables emptied per test).
``blank_database_url``  a database with no tables at all (for migration tests), on both.
``database``            a ``bastion.store.Database`` on ``database_url``, closed afterwards.
``artifacts``, ``registry``  an artifact store under tmp_path and a Registry on ``database``.

PostgreSQL is at ``BASTION_TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/
postgres). When it is unreachable its cases skip, or fail if ``BASTION_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bastion.registry import ArtifactStore, Registry
from bastion.store import Database, migrate
from bastion.store.tables import Base
from tests.support import service_unavailable

T = TypeVar("T")

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop in a worker thread (for sync fixtures)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PostgresDatabases:
    """Creates throwaway databases on one server and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._created: list[str] = []

    def url_of(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create(self) -> str:
        name = "bastion_test_" + secrets.token_hex(6)
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url_of(name)

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for name in self._created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """A factory of fresh PostgreSQL databases; skips (or fails) if the server is absent."""
    admin_url = os.environ.get("BASTION_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    try:
        psycopg.connect(admin_url, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        reason = f"PostgreSQL is not reachable at {make_url(admin_url)!r}: {first_line}"
        service_unavailable(reason)
    databases = PostgresDatabases(admin_url)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_databases: PostgresDatabases) -> Iterator[tuple[str, Any]]:
    """One migrated database for the session, and an autocommit connection to empty it."""
    url = postgres_databases.create()
    run_sync(migrate.upgrade(url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        yield url, conn


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "bastion.db"
    run_sync(migrate.upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with every table empty, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "db" / "bastion.db"
        target.parent.mkdir()
        for suffix in ("", "-wal"):
            source = template.with_name(template.name + suffix)
            if source.exists():
                shutil.copyfile(source, target.with_name(target.name + suffix))
        return f"sqlite+aiosqlite:///{target}"
    url, conn = request.getfixturevalue("_postgres_migrated")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return str(url)


@pytest.fixture(params=BACKENDS)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables (a fresh file, or a fresh PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank' / 'bastion.db'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.create()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.aclose()


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def registry(database: Database, artifacts: ArtifactStore) -> Registry:
    return Registry(database, artifacts)

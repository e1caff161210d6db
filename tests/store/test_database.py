"""Database: URL normalisation, SQLite connection settings, sessions, UTC times and JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bastion.errors import ConfigError
from bastion.store import Database, normalize_url
from bastion.store.database import SQLITE_CACHE_KIB
from bastion.store.tables import ApiKeyRow, ModelRow


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/b.db", "sqlite+aiosqlite:///data/b.db"),
        ("sqlite+aiosqlite:////abs/b.db", "sqlite+aiosqlite:////abs/b.db"),
        ("postgresql://u:pw@h:5432/db", "postgresql+psycopg://u:pw@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_normalize_url_picks_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url", ""])
def test_unsupported_urls_raise_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="sqlite:///"):
        normalize_url(bad)


async def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new' / 'dir' / 'b.db'}")
    try:
        assert db.dialect == "sqlite"
        async with db.session() as session:
            assert await session.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await session.scalar(text("PRAGMA foreign_keys")) == 1
            assert await session.scalar(text("PRAGMA busy_timeout")) >= 1000
            assert await session.scalar(text("PRAGMA cache_size")) == -SQLITE_CACHE_KIB
    finally:
        await db.aclose()
    assert (tmp_path / "new" / "dir" / "b.db").exists()


async def test_datetimes_come_back_timezone_aware_utc(database: Database) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2025, 1, 2, 14, 0, tzinfo=plus_two)
    async with database.session() as session:
        session.add(ModelRow(name="m", description="", created_at=written))
        await session.commit()
    async with database.session() as session:
        row = await session.get(ModelRow, "m")
        assert row is not None
        assert row.created_at.tzinfo is not None
        assert row.created_at.utcoffset() == timedelta(0)
        assert row.created_at == datetime(2025, 1, 2, 12, 0, tzinfo=UTC)


async def test_json_columns_round_trip_and_none_is_sql_null(database: Database) -> None:
    now = datetime.now(UTC)
    async with database.session() as session:
        session.add_all(
            [
                ApiKeyRow(
                    id="k1",
                    key_hash="a" * 64,
                    prefix="bst_abcd",
                    name="all",
                    roles=["admin"],
                    deployments=None,
                    created_at=now,
                ),
                ApiKeyRow(
                    id="k2",
                    key_hash="b" * 64,
                    prefix="bst_efgh",
                    name="some",
                    roles=["predict", "operator"],
                    deployments=["fraud"],
                    created_at=now,
                ),
            ]
        )
        await session.commit()
    async with database.session() as session:
        unrestricted = await session.scalars(
            select(ApiKeyRow.id).where(ApiKeyRow.deployments.is_(None))
        )
        assert list(unrestricted) == ["k1"]
        k2 = await session.get(ApiKeyRow, "k2")
        assert k2 is not None
        assert k2.roles == ["predict", "operator"]
        assert k2.deployments == ["fraud"]
        assert k2.tenant == "default"
        assert k2.revoked_at is None


async def test_key_hash_is_unique(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    now = datetime.now(UTC)
    async with database.session() as session:
        session.add(
            ApiKeyRow(id="k1", key_hash="c" * 64, prefix="p", name="a", roles=[], created_at=now)
        )
        await session.commit()
    async with database.session() as session:
        session.add(
            ApiKeyRow(id="k2", key_hash="c" * 64, prefix="p", name="b", roles=[], created_at=now)
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_session_rolls_back_unless_committed(database: Database) -> None:
    async with database.session() as session:
        session.add(ModelRow(name="uncommitted", description="", created_at=datetime.now(UTC)))
        await session.flush()
    async with database.session() as session:
        assert await session.get(ModelRow, "uncommitted") is None

"""registry_0001 and evaluation_0002 upgrade a database holding data (SQLite, PostgreSQL):
models and eval sets stored before them become shared (tenant NULL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from bastion.registry import ArtifactStore, Registry
from bastion.store import Database, migrate


async def test_existing_models_and_sets_become_shared(blank_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await migrate.upgrade(blank_database_url, "evaluation_0001")
    db = Database(blank_database_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO models (name, description, created_at) VALUES ('old', '', :t)"),
                {"t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO eval_sets (name, version, sha256, format, rows, size, slices, "
                    "description, created_by, created_at) VALUES ('golden', 1, :h, 'jsonl', 1, "
                    "1, '[]', '', 'cli', :t)"
                ),
                {"h": "0" * 64, "t": now},
            )
    finally:
        await db.aclose()
    assert await migrate.upgrade(blank_database_url) == migrate.head()
    db = Database(blank_database_url)
    try:
        assert await Registry(db, ArtifactStore(tmp_path / "a")).owner("old") is None
        async with db.engine.connect() as conn:
            row = (await conn.execute(text("SELECT tenant FROM eval_sets"))).one()
            pins = (await conn.execute(text("SELECT count(*) FROM gate_pins"))).scalar()
        assert row.tenant is None and pins == 0
    finally:
        await db.aclose()

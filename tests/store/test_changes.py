"""WhileUnchanged: a poll reads the database again only after some connection committed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bastion.store import Database, migrate
from bastion.store.changes import WhileUnchanged


async def test_sqlite_reads_again_only_after_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    cached: WhileUnchanged[int] = WhileUnchanged(db)
    answers = iter(range(100))

    async def read() -> int:
        return next(answers)

    other = sqlite3.connect(path, isolation_level=None)
    try:
        assert [await cached.get(read) for _ in range(5)] == [0] * 5
        assert cached.reads == 1
        other.execute("SELECT count(*) FROM jobs").fetchall()  # a read commits nothing
        assert await cached.get(read) == 0
        other.execute("CREATE TABLE scratch (x INTEGER)")  # another connection commits
        assert await cached.get(read) == 1
        assert await cached.get(read) == 1
        assert cached.reads == 2
        async with db.engine.begin() as conn:  # so does this process's own pool
            await conn.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        assert await cached.get(read) == 2
    finally:
        other.close()
        await db.aclose()


async def test_without_a_commit_counter_every_poll_reads(tmp_path: Path) -> None:
    db = Database("sqlite:///:memory:")  # like PostgreSQL: no data_version to go by
    assert db.data_version() is None
    cached: WhileUnchanged[int] = WhileUnchanged(db)
    answers = iter(range(100))

    async def read() -> int:
        return next(answers)

    try:
        assert [await cached.get(read) for _ in range(3)] == [0, 1, 2]
    finally:
        await db.aclose()

"""The SQLite audit writer as the file's one writer: other rows ride its thread and connection,
take the lock with its fine retry, and leave the chain intact."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bastion.observability.audit.record import GENESIS, AuditRecord, sealed
from bastion.observability.audit.sqlite_writer import SqliteChainWriter, _params
from bastion.store.database import SQLITE_CACHE_KIB
from tests.observability.audit.conftest import entry

_INSERT = "INSERT INTO writer_test (body) VALUES (:body)"


def _bodies(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT body FROM writer_test ORDER BY id")]


async def _until_waiting(writer: SqliteChainWriter) -> None:
    while writer.lock_waits == 0:
        await asyncio.sleep(0.001)


async def test_rows_commit_between_appends_and_the_chain_goes_on(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    try:
        [first] = await writer.append([entry(0)])
        await writer.insert(_INSERT, [{"body": "a"}, {"body": "b"}])
        [second] = await writer.append([entry(1)])
        conn = writer._connection  # read on the writer's own thread, as it uses it
        pragma = lambda: conn().execute("PRAGMA synchronous").fetchone()[0]  # noqa: E731
        synchronous = await asyncio.get_running_loop().run_in_executor(writer._thread, pragma)
    finally:
        await writer.aclose()
    assert _bodies(sqlite_path) == ["a", "b"]
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert synchronous == 2  # FULL again for the audit batches after the rows' NORMAL commit
    assert writer.checkpointer.started  # the rows' commit counts for the WAL's bound too


async def test_rows_wait_for_a_held_lock_with_the_fine_retry(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=False)
    other = sqlite3.connect(sqlite_path, isolation_level=None)
    try:
        await writer.append([entry(0)])  # opens the connection (busy_timeout 0)
        other.execute("BEGIN IMMEDIATE")
        pending = asyncio.create_task(writer.insert(_INSERT, [{"body": "late"}]))
        # it retries rather than sleeping in SQLite's handler
        await asyncio.wait_for(_until_waiting(writer), 5)
        assert not pending.done()
        other.execute("ROLLBACK")
        await asyncio.wait_for(pending, 5)
    finally:
        other.close()
        await writer.aclose()
    assert _bodies(sqlite_path) == ["late"]


async def test_a_failed_insert_writes_nothing_and_the_writer_goes_on(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await writer.insert(_INSERT, [{"body": "kept?"}, {"body": None}])
        [record] = await writer.append([entry(0)])
        await writer.insert(_INSERT, [{"body": "after"}])
    finally:
        await writer.aclose()
    assert _bodies(sqlite_path) == ["after"]  # the failed batch rolled back whole
    assert record.seq == 1


async def test_the_writers_page_cache_is_as_small_as_the_pools(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=False)
    try:
        await writer.append([entry(0)])
        conn = writer._connection
        pragma = lambda: conn().execute("PRAGMA cache_size").fetchone()[0]  # noqa: E731
        cache = await asyncio.get_running_loop().run_in_executor(writer._thread, pragma)
    finally:
        await writer.aclose()
    assert cache == -SQLITE_CACHE_KIB


def test_the_stored_time_is_sqlalchemys_text_of_the_hashed_time() -> None:
    """The row's ``at`` is derived from the hashed stamp: the bytes SQLAlchemy's DateTime
    writes on SQLite (``%Y-%m-%d %H:%M:%S.%f`` of the UTC time), years before 1000 included."""
    zone = timezone(timedelta(hours=5, minutes=45))
    times = [
        datetime(2026, 1, 2, 3, 4, 5, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(12, 3, 4, 5, 6, 7, 8, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 123, tzinfo=zone),
        datetime(2026, 3, 1, 12, 0, 0, 123),  # naive: taken as UTC
    ]
    for at in times:
        record, stamp = sealed(entry(0, at=at), 1, GENESIS)
        row = dict(zip(AuditRecord.__dataclass_fields__, _params(record, stamp), strict=True))
        assert row["at"] == record.at.strftime("%Y-%m-%d %H:%M:%S.%f")
        assert row["hash"] == record.hash and row["seq"] == 1

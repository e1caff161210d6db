"""How the usage log writes: through the SQLite file's one writer, a flush bounded to what was
queued when it began, every record exactly once across failures and shutdown."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bastion.governance.budget.base import Usage
from bastion.governance.costs import CostFilter, cost_report
from bastion.governance.usage import UsageRecord, UsageRecorder
from bastion.observability.audit.sqlite_writer import SqliteChainWriter
from bastion.store import Database, migrate
from bastion.store.usage_tables import UsageRow
from tests.governance.test_usage import call


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> Any:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    writer = SqliteChainWriter(str(path), fsync=True)
    yield db, writer, path
    await writer.aclose()
    await db.aclose()


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(UsageRow)) or 0)


async def _until_waiting(writer: SqliteChainWriter) -> None:
    while writer.lock_waits == 0:
        await asyncio.sleep(0.001)


async def test_rows_through_the_writer_read_back_as_through_a_session(sqlite_db: Any) -> None:
    db, writer, _ = sqlite_db
    usage = {"prompt_tokens": 3, "completion_tokens": 7, "total_tokens": 10}
    recorder = UsageRecorder(db, rows=writer)
    recorder.record(call("k1", "acme", "search", "chat", usage=usage), Usage(1500, 1, 10))
    recorder.record(call("k2", "acme", None, "chat", cache="hit"), Usage(0, 1, 0))
    assert await recorder.flush() == 2
    [row] = await cost_report(db, ["tenant"], CostFilter())
    assert (row["requests"], row["cached"], row["estimated"], row["cost_usd"]) == (2, 1, 0, 0.0015)
    async with db.session() as session:
        stored = list(await session.scalars(select(UsageRow).order_by(UsageRow.id)))
    got = [(r.tokens, r.cached, r.team) for r in stored]
    assert got == [(10, False, "search"), (0, True, None)]


def test_sqlite_params_match_the_session_row() -> None:
    record = UsageRecord.of(call("k", "t", None, "d"), Usage(5, 1, 2))
    params, row = record.sqlite_params(), record.row()
    assert set(params) == set(row)
    assert (params["cached"], params["estimated"]) == (0, 0)
    assert params["at"] == record.at.strftime("%Y-%m-%d %H:%M:%S.%f")


class _Recording:
    """The real writer, plus a call recorded while each batch is being written."""

    def __init__(self, writer: SqliteChainWriter, recorder: list[UsageRecorder]) -> None:
        self.writer, self.recorder, self.batches = writer, recorder, 0

    async def insert(self, sql: str, rows: list[dict[str, Any]]) -> None:
        self.batches += 1
        self.recorder[0].record(call("k", "t", None, "d"), Usage(1, 1, 0))
        await self.writer.insert(sql, rows)


async def test_a_flush_writes_what_was_queued_when_it_began(sqlite_db: Any) -> None:
    db, writer, _ = sqlite_db
    holder: list[UsageRecorder] = []
    rows = _Recording(writer, holder)
    recorder = UsageRecorder(db, rows=rows)
    holder.append(recorder)
    recorder.record(call("k", "t", None, "d"), Usage(1, 1, 0))
    # each write queues one more record: a flush that chased the queue would never end
    assert await recorder.flush() == 1
    assert await recorder.flush() == 1
    assert rows.batches == 2 and await _count(db) == 2


class _FailingOnce:
    def __init__(self, writer: SqliteChainWriter) -> None:
        self.writer, self.failed = writer, False

    async def insert(self, sql: str, rows: list[dict[str, Any]]) -> None:
        if not self.failed:
            self.failed = True
            raise sqlite3.OperationalError("database is locked")
        await self.writer.insert(sql, rows)


async def test_a_failed_batch_is_kept_and_written_once_later(sqlite_db: Any) -> None:
    db, writer, _ = sqlite_db
    recorder = UsageRecorder(db, rows=_FailingOnce(writer))
    for _ in range(3):
        recorder.record(call("k", "t", None, "d"), Usage(1, 1, 0))
    assert await recorder.flush() == 0
    assert await recorder.flush() == 3
    assert await recorder.flush() == 0
    assert await _count(db) == 3


async def test_closing_during_a_write_writes_each_record_once(sqlite_db: Any) -> None:
    db, writer, path = sqlite_db
    recorder = UsageRecorder(db, rows=writer, flush_interval_s=0.001)
    await writer.append([])  # opens the writer's connection (fine retry, no busy handler)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the writer's next commit waits for this lock
    recorder.start()
    for _ in range(5):
        recorder.record(call("k", "t", None, "d"), Usage(1, 1, 0))
    await asyncio.wait_for(_until_waiting(writer), 5)  # the task is inside a write
    closing = asyncio.create_task(recorder.aclose())
    await asyncio.sleep(0.01)
    other.execute("ROLLBACK")
    other.close()
    await asyncio.wait_for(closing, 10)
    assert await _count(db) == 5  # not cancelled mid-write, so not written again on close


async def test_rows_committed_before_a_failed_slice_are_not_written_again(
    sqlite_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bastion.observability.audit import sqlite_writer

    db, writer, path = sqlite_db
    monkeypatch.setattr(sqlite_writer, "ROWS_HOLD_S", 0.0)  # each slice its own transaction
    with sqlite3.connect(path) as conn:  # the third slice of 16 fails
        conn.execute(
            "CREATE TRIGGER full BEFORE INSERT ON usage_records "
            "WHEN (SELECT count(*) FROM usage_records) >= 32 "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    recorder = UsageRecorder(db, rows=writer)
    for n in range(40):
        recorder.record(call(f"k{n}", "acme", None, "chat"), Usage(1, 1, 1))
    assert await recorder.flush() == 32
    assert await _count(db) == 32
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER full")
    assert await recorder.flush() == 8
    async with db.session() as session:
        keys = list(await session.scalars(select(UsageRow.key_id).order_by(UsageRow.id)))
    assert keys == [f"k{n}" for n in range(40)]  # each record exactly once, in order

"""The SQLite audit writer's write lock and checkpoints: fine retries, no checkpoint in a commit,
N concurrent appends in few fsyncs, every record durable and chained."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bastion.observability.audit import (
    AuditEntry,
    AuditLog,
    AuditQuery,
    AuditRecord,
    verify_log,
)
from bastion.observability.audit.sql import SqlAuditStore
from bastion.observability.audit.sqlite_lock import Checkpointer, begin_immediate
from bastion.observability.audit.sqlite_writer import SqliteChainWriter
from bastion.settings.audit import AuditSettings
from bastion.store import Database, migrate
from tests.observability.audit.conftest import Clock, entry

_FRAME = 4096 + 24  # one WAL frame: a page and its header


@pytest.fixture
async def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    return path


def _locked(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_begin_retries_finely_then_takes_the_lock(sqlite_path: Path) -> None:
    other = _locked(sqlite_path)
    conn = sqlite3.connect(sqlite_path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=0")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 7:
            other.execute("ROLLBACK")  # the other writer finishes

    try:
        assert begin_immediate(conn, 10.0, sleep=sleep) == 7
        assert conn.in_transaction
        # 50 µs, doubling, never longer than 1 ms: not SQLite's 1, 2, 5, 10 ms steps
        assert slept == pytest.approx([0.00005, 0.0001, 0.0002, 0.0004, 0.0008, 0.001, 0.001])
    finally:
        conn.close()
        other.close()


def test_begin_gives_up_after_its_timeout(sqlite_path: Path) -> None:
    other = _locked(sqlite_path)
    conn = sqlite3.connect(sqlite_path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=0")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            begin_immediate(conn, 0.05, sleep=sleep, clock=lambda: now[0])
        assert 0.05 <= now[0] < 0.052
        assert not conn.in_transaction
    finally:
        conn.close()
        other.close()


async def test_an_append_waits_for_a_held_lock_and_chains_after(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    try:
        await writer.append([entry(0)])
        other = _locked(sqlite_path)  # another writer, mid-transaction
        pending = asyncio.create_task(writer.append([entry(1)]))
        for _ in range(5000):  # counted as it waits (on a busy machine, not at once)
            if writer.lock_waits:
                break
            await asyncio.sleep(0.001)
        assert not pending.done()
        other.execute("ROLLBACK")
        other.close()
        [record] = await asyncio.wait_for(pending, 5)
        assert record.seq == 2
        assert writer.lock_waits > 0
    finally:
        await writer.aclose()


async def test_commits_never_checkpoint_the_checkpointer_does(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    writer.checkpointer.close()  # switched off: only the commits could checkpoint now
    wal = Path(f"{sqlite_path}-wal")
    try:
        for n in range(200):  # about eight pages each: well past the 1,000-page autocheckpoint
            await writer.append([entry(n)])
        # SQLite's autocheckpoint in a commit would have restarted the WAL near 1,000 frames
        assert wal.stat().st_size > 1200 * _FRAME
    finally:
        await writer.aclose()

    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    check = sqlite3.connect(sqlite_path, isolation_level=None)
    try:
        await writer.append([entry(200)])
        deadline = time.monotonic() + 10
        while writer.checkpointer.runs == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert writer.checkpointer.runs >= 1
        _, frames, done = check.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert frames == done  # everything was already copied into the database file
    finally:
        check.close()
        await writer.aclose()


def test_an_idle_checkpointer_does_nothing_and_closes(sqlite_path: Path) -> None:
    checkpointer = Checkpointer(str(sqlite_path), interval_s=0.01)
    time.sleep(0.05)
    assert checkpointer.runs == 0 and not checkpointer.started  # no thread at all
    checkpointer.committed()
    deadline = time.monotonic() + 5
    while checkpointer.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    checkpointer.close()
    assert checkpointer.runs == 1
    checkpointer.committed()  # after close: ignored
    assert checkpointer.runs == 1


async def test_concurrent_appends_share_fsyncs_and_all_are_durable(sqlite_path: Path) -> None:
    """64 requests at once: one transaction (one WAL fsync) per batch, not per record; every
    record is in the file when its append returns, and the chain verifies."""
    db = Database(f"sqlite:///{sqlite_path}")
    store = SqlAuditStore(db)
    assert store._sqlite is not None
    fsyncs: list[int] = []
    real = store._sqlite._append

    def counted(entries: list[AuditEntry]) -> list[AuditRecord]:
        fsyncs.append(len(entries))  # synchronous=FULL: one WAL fsync per commit
        return real(entries)

    store._sqlite._append = counted  # type: ignore[method-assign]
    log = AuditLog(store, AuditSettings(), clock=Clock())
    durable: list[int] = []

    async def one(n: int) -> None:
        await log.append(entry(n))
        check = sqlite3.connect(sqlite_path)
        try:  # a separate connection sees it: committed, not merely queued
            durable.append(
                check.execute(
                    "SELECT count(*) FROM audit_records WHERE request_id = ?", (f"req-{n}",)
                ).fetchone()[0]
            )
        finally:
            check.close()

    try:
        await asyncio.gather(*(one(n) for n in range(64)))
        assert durable == [1] * 64
        assert sum(fsyncs) == 64 and len(fsyncs) < 64 // 4  # batches, not one per record
        assert (await verify_log(store)).ok
        found = await store.query(AuditQuery(limit=100))
        assert sorted(r.request_id or "" for r in found) == sorted(f"req-{n}" for n in range(64))
    finally:
        await log.aclose()
        await db.aclose()

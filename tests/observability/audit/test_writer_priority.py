"""The writer thread's order: an audit batch never waits behind another writer's whole batch
of rows. It goes first among queued jobs, and a batch of rows already being written commits
what it has and lets the audit batch run before it goes on."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bastion.observability.audit import sqlite_writer
from bastion.observability.audit.sqlite_writer import SqliteChainWriter
from bastion.observability.audit.writer_thread import WriterThread
from bastion.store.row_writer import RowsPartlyWritten
from tests.observability.audit.conftest import entry

_GATED = "INSERT INTO writer_test (body) VALUES (gate(:body))"


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:  # another connection: only what was committed
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


class _Gate:
    """A SQL function on the writer's connection that stops the insert at chosen rows until
    the test lets it go on (or raises there)."""

    def __init__(self, stops: dict[str, threading.Event], fail_at: str | None = None) -> None:
        self.stops = stops
        self.reached = {body: threading.Event() for body in stops}
        self.fail_at = fail_at

    def __call__(self, body: str) -> str:
        if body == self.fail_at:
            raise ValueError("the disk is full")
        if body in self.stops:
            self.reached[body].set()
            assert self.stops[body].wait(10)
        return body

    async def install(self, writer: SqliteChainWriter) -> None:
        def create() -> None:
            writer._connection().create_function("gate", 1, self)

        await asyncio.get_running_loop().run_in_executor(writer._thread, create)


async def test_an_audit_batch_commits_between_the_slices_of_a_running_insert(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch yields once it has written ROWS_BEFORE_YIELD rows (256: fewer starved the
    # rows under load); 16 here so that a 64-row batch shows the slice.
    monkeypatch.setattr(sqlite_writer, "ROWS_BEFORE_YIELD", 16)
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    go_on, finish = threading.Event(), threading.Event()
    gate = _Gate({"3": go_on, "40": finish})
    try:
        await gate.install(writer)
        rows = [{"body": str(n)} for n in range(64)]
        inserting = asyncio.create_task(writer.insert(_GATED, rows))
        await asyncio.to_thread(gate.reached["3"].wait, 10)  # the insert holds the thread
        appending = asyncio.create_task(writer.append([entry(0)]))
        while not writer._thread.urgent_waiting():
            await asyncio.sleep(0.001)
        go_on.set()
        [record] = await asyncio.wait_for(appending, 10)
        # The audit record is on disk while the rows' batch is still being written: it
        # waited for one slice of 16 rows, committed before it, not for the 64.
        assert _count(sqlite_path, "audit_records") == 1
        assert _count(sqlite_path, "writer_test") == 16
        assert not inserting.done()
        finish.set()
        await asyncio.wait_for(inserting, 10)
    finally:
        go_on.set()
        finish.set()
        await writer.aclose()
    assert record.seq == 1
    assert _count(sqlite_path, "writer_test") == 64  # every row once, in order
    with sqlite3.connect(sqlite_path) as conn:
        bodies = [r[0] for r in conn.execute("SELECT body FROM writer_test ORDER BY id")]
    assert bodies == [str(n) for n in range(64)]


async def test_a_queued_audit_batch_goes_before_queued_rows(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    held, order = threading.Event(), []
    loop = asyncio.get_running_loop()
    try:
        await writer.append([entry(0)])
        busy = loop.run_in_executor(writer._thread, held.wait, 10)  # the thread is busy
        inserting = asyncio.create_task(
            writer.insert("INSERT INTO writer_test (body) VALUES (:body)", [{"body": "a"}])
        )
        await asyncio.sleep(0.01)  # the rows are queued first
        appending = asyncio.create_task(writer.append([entry(1)]))
        inserting.add_done_callback(lambda _: order.append("rows"))
        appending.add_done_callback(lambda _: order.append("audit"))
        await asyncio.sleep(0.01)
        held.set()
        await asyncio.wait_for(asyncio.gather(busy, inserting, appending), 10)
    finally:
        held.set()
        await writer.aclose()
    assert order == ["audit", "rows"]


async def test_a_failure_after_committed_slices_says_how_many_rows_are_in(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writer, "ROWS_HOLD_S", 0.0)  # each slice its own transaction
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    gate = _Gate({}, fail_at="40")
    try:
        await gate.install(writer)
        with pytest.raises(RowsPartlyWritten) as failed:
            await writer.insert(_GATED, [{"body": str(n)} for n in range(64)])
        [record] = await writer.append([entry(0)])  # the writer goes on
    finally:
        await writer.aclose()
    assert failed.value.written == 32  # two slices committed; the third rolled back
    assert _count(sqlite_path, "writer_test") == 32
    assert record.seq == 1


async def test_a_failure_in_the_first_slice_is_the_error_itself(sqlite_path: Path) -> None:
    writer = SqliteChainWriter(str(sqlite_path), fsync=True)
    gate = _Gate({}, fail_at="3")
    try:
        await gate.install(writer)
        with pytest.raises(sqlite3.OperationalError):
            await writer.insert(_GATED, [{"body": str(n)} for n in range(64)])
    finally:
        await writer.aclose()
    assert _count(sqlite_path, "writer_test") == 0


async def test_a_shut_down_thread_refuses_new_jobs_and_finished_the_queued_ones() -> None:
    thread = WriterThread("test-writer")
    done = asyncio.wrap_future(thread.submit(lambda: 1))
    urgent = asyncio.wrap_future(thread.submit_urgent(lambda: 2))
    thread.shutdown()
    assert (await done, await urgent) == (1, 2)
    with pytest.raises(RuntimeError, match="shut down"):
        thread.submit(lambda: 3)


def test_a_waiting_plain_job_runs_after_one_urgent_job_not_after_all() -> None:
    """Urgent first, but never urgent only: with audit batches queued without end, the usage
    and prediction logs' rows still get written (a strict priority let them pile up)."""
    thread, started, held, order = (
        WriterThread("turns-test"),
        threading.Event(),
        threading.Event(),
        [],
    )

    def hold() -> None:
        started.set()
        assert held.wait(10)

    try:
        busy = thread.submit(hold)  # the thread is busy while the rest is queued
        assert started.wait(10)
        plain = thread.submit(order.append, "rows")
        urgent = [thread.submit_urgent(order.append, f"audit {n}") for n in range(3)]
        held.set()
        for future in (busy, plain, *urgent):
            future.result(10)
    finally:
        held.set()
        thread.shutdown()
    assert order == ["audit 0", "rows", "audit 1", "audit 2"]

"""The SQLite chain writer: each audit batch in one thread hop on one stdlib sqlite3 connection.

Through aiosqlite a batch costs five hops to its thread (begin, read the head, insert, commit);
here it costs one, which is most of the audit log's latency when the disk flush is not waited
for. ``BEGIN IMMEDIATE`` takes the database's write lock before the head is read, so writers
in other processes (uvicorn workers) are serialised and extend one chain. The lock is taken
with a fine retry instead of SQLite's coarse busy handler, and WAL checkpoints run on their
own thread instead of inside a commit (``sqlite_lock.py``): both were the c=1 latency tail.
The file's other steady writers share the thread, behind every audit batch and in slices
that let an audit batch go between them (``writer_thread.py``).
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from bastion.observability.audit.record import GENESIS, AuditEntry, AuditRecord, sealed
from bastion.observability.audit.sqlite_lock import Checkpointer, begin_immediate
from bastion.observability.audit.writer_thread import WriterThread
from bastion.store.actions_tables import SQLITE_INSERT as OUTBOX_INSERT
from bastion.store.database import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from bastion.store.row_writer import RowsPartlyWritten

_HEAD = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1"
_FIELDS = tuple(AuditRecord.__dataclass_fields__)
_INSERT = (
    f"INSERT INTO audit_records ({', '.join(_FIELDS)}) VALUES ({', '.join('?' for _ in _FIELDS)})"
)
_VALUES = operator.attrgetter(*_FIELDS)  # a record's values in column order, in one C call
_AT = _FIELDS.index("at")
_LOCK_TIMEOUT_S = SQLITE_BUSY_TIMEOUT_MS / 1000
# Another writer's rows go in chunks of ROWS_CHUNK; its transaction is committed, and the
# audit batches queued meanwhile run, once it has written ROWS_BEFORE_YIELD rows while one
# is waiting, or has held the write lock for ROWS_HOLD_S. Yielding after every 16 rows cost
# a commit per 16 rows: under load an audit batch is nearly always waiting, and the usage and
# prediction logs fell behind (their queues filled, RSS grew by ~70 MiB in a c=16 soak).
ROWS_CHUNK = 16
ROWS_HOLD_S = 0.002
ROWS_BEFORE_YIELD = 256


class SqliteChainWriter:
    """Appends chained batches to one SQLite file from one dedicated thread."""

    def __init__(self, path: str, *, fsync: bool) -> None:
        self._path = path
        self._sync = "FULL" if fsync else "NORMAL"
        self._thread = WriterThread("bastion-audit")
        self._conn: sqlite3.Connection | None = None  # opened and used only in that thread
        self._closed = False
        # The chain's head after this connection's last commit, and the database's
        # data_version then: while data_version is unchanged, no other connection (another
        # worker) has written, so the head need not be read again.
        self._head: tuple[int, str] | None = None
        self._seen_version: int | None = None
        self.checkpointer = Checkpointer(path)
        self.lock_waits = 0  # times a batch found the write lock held and retried

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Seal and commit ``entries`` as one batch, before any other writer's rows queued."""
        job = self._thread.submit_urgent(self._append, list(entries))
        return await asyncio.wrap_future(job)

    async def insert(self, sql: str, params: Sequence[Any]) -> None:
        """Run ``sql`` for each of ``params`` on this writer's thread, behind every audit
        batch, in transactions an audit batch can go between (``_insert``).

        For the file's other steady writers (the usage and prediction logs; a ``RowWriter``):
        queued behind audit batches on one connection, they no longer hold SQLite's write
        lock across event-loop hops from a connection of their own while an audit batch
        waits for it, and they take it with the same fine retry against other processes.
        """
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._insert, sql, params)

    async def aclose(self) -> None:
        """Close the connection and stop the thread; safe to call again."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)  # after everything queued
        await loop.run_in_executor(None, self._thread.shutdown)
        await loop.run_in_executor(None, self.checkpointer.close)

    def _append(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        conn = self._connection()
        try:
            begin_immediate(conn, _LOCK_TIMEOUT_S, sleep=self._lock_wait)
            seq, prev = self._current_head(conn)
            records, params = [], []
            for entry in entries:
                seq += 1
                record, stamp = sealed(entry, seq, prev)
                prev = record.hash
                records.append(record)
                params.append(_params(record, stamp))
            conn.executemany(_INSERT, params)
            intents = [i.sqlite_params() for e in entries for i in e.outbox]
            if intents:  # the decisions' action intents ride the same commit
                conn.executemany(OUTBOX_INSERT, intents)
            seen = _data_version(conn)  # under the write lock: no other commit in between
            conn.execute("COMMIT")
        except BaseException:
            self._head = None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._head, self._seen_version = (seq, prev), seen
        self.checkpointer.committed()
        return records

    def _insert(self, sql: str, params: Sequence[Any]) -> None:
        """The rows in as few transactions as the audit batches allow: one is committed and
        the queued audit batches run whenever one is waiting (or it held the lock for
        ``ROWS_HOLD_S``), then the rest follows in a new one. Raises ``RowsPartlyWritten``
        when a failure comes after some rows were committed."""
        written = 0
        while written < len(params):
            try:
                written = self._insert_some(sql, params, written)
            except BaseException as exc:
                if written:
                    raise RowsPartlyWritten(written, exc) from exc
                raise
            self._thread.serve_urgent()

    def _insert_some(self, sql: str, params: Sequence[Any], start: int) -> int:
        """One transaction from row ``start``; returns the rows committed so far."""
        conn = self._connection()
        # Not flushed to disk at its own commit: an audit batch queued behind it would wait
        # for that fsync. The rows are in the WAL file, safe if the process dies, and on
        # disk with the next audit commit's flush of that file, or the checkpoint that
        # follows within CHECKPOINT_INTERVAL_S (SQLite syncs the WAL before copying it).
        conn.execute("PRAGMA synchronous=NORMAL")
        end = start
        try:
            begin_immediate(conn, _LOCK_TIMEOUT_S, sleep=self._lock_wait)
            held = time.perf_counter() + ROWS_HOLD_S
            while end < len(params):
                conn.executemany(sql, params[end : end + ROWS_CHUNK])
                end += ROWS_CHUNK
                if time.perf_counter() > held or (
                    end - start >= ROWS_BEFORE_YIELD and self._thread.urgent_waiting()
                ):
                    break
            conn.execute("COMMIT")  # the audit chain's head is untouched: no need to forget it
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute(f"PRAGMA synchronous={self._sync}")
        self.checkpointer.committed()
        return min(end, len(params))

    def _lock_wait(self, seconds: float) -> None:
        """Counted as it happens (a batch still waiting shows in ``lock_waits``)."""
        self.lock_waits += 1
        time.sleep(seconds)

    def _current_head(self, conn: sqlite3.Connection) -> tuple[int, str]:
        """The last (seq, hash), read under the write lock unless provably unchanged."""
        if self._head is not None and _data_version(conn) == self._seen_version:
            return self._head
        head = conn.execute(_HEAD).fetchone()
        return (int(head[0]), str(head[1])) if head else (0, GENESIS)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
            )
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            # FULL: each commit flushes the WAL to disk; NORMAL: it reaches the OS, so it
            # survives the process being killed but not the machine losing power.
            conn.execute(f"PRAGMA synchronous={self._sync}")
            conn.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # as the pool's
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer's thread does it
            conn.execute("PRAGMA busy_timeout=0")  # begin_immediate retries, finer
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits to the database (SQLite's own counter)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _params(record: AuditRecord, stamp: str) -> tuple[Any, ...]:
    """The row's parameters; ``at`` as SQLAlchemy's DateTime stores a UTC time on SQLite
    (``%Y-%m-%d %H:%M:%S.%f``), so that its reads parse ours: the hashed ``stamp``
    (``%Y-%m-%dT%H:%M:%S.%fZ``, the same time) with a space for the ``T`` and no ``Z``."""
    values = list(_VALUES(record))
    values[_AT] = stamp[:-1].replace("T", " ", 1)
    return tuple(values)

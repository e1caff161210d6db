"""Taking SQLite's write lock for the audit writer, and keeping WAL checkpoints off its path.

SQLite's own busy handler (``busy_timeout``) sleeps 1, 2, 5, 10, 15 … ms between tries, so a
writer that finds the lock held for 0.2 ms by another connection (the prediction log's or
the usage recorder's commit) waits 1 ms, and one that finds it held for 1.5 ms waits 3 ms,
then 8, then 18: a request waiting for its audit record pays that quantisation in full. Here
the lock is tried without SQLite's handler and retried after 50 µs, doubling to at most 1 ms,
until the same overall timeout.

A commit that pushes the WAL past ``wal_autocheckpoint`` pages (1,000 by default; an audit
record with its indexes dirties about eight) runs the checkpoint itself before returning:
about one request in 120 waited for some 1,000 pages to be copied into the database file and
that file to be fsync'd. The audit connection turns that off, and ``Checkpointer`` runs a
``PASSIVE`` checkpoint (which never blocks writers) on its own connection and thread, at most
every ``interval_s``, after commits. An idle database is never checkpointed by it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

_FIRST_WAIT_S = 0.00005
_LONGEST_WAIT_S = 0.001
# Once a second: a page rewritten many times in between (the audit table's and its indexes'
# right-most pages, at every record) is copied once. At 0.25 s, c=1 made ~4 checkpoints a
# second, each a burst of CPU and a flush of the database file beside the audit's own
# flushes (bench/RESULTS.md, 2026-12-08): ~2-4x the time spent checkpointing.
CHECKPOINT_INTERVAL_S = 1.0


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or one of its extended codes (another connection holds the lock)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # an older sqlite3 module: only the message tells
        return "locked" in str(exc) or "busy" in str(exc)
    return bool(code & 0xFF == sqlite3.SQLITE_BUSY)


def begin_immediate(
    conn: sqlite3.Connection,
    timeout_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """``BEGIN IMMEDIATE`` on ``conn`` (whose ``busy_timeout`` is 0), retried while another
    connection holds the write lock; raises the last ``OperationalError`` after ``timeout_s``.
    Returns how many times it had to wait."""
    deadline = clock() + timeout_s
    wait = _FIRST_WAIT_S
    waits = 0
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return waits
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or clock() >= deadline:
                raise
        sleep(wait)
        waits += 1
        wait = min(wait * 2, _LONGEST_WAIT_S)


class Checkpointer:
    """Copies the WAL into the database file on its own thread, after commits, at most every
    ``interval_s``; ``close`` stops it (the WAL is durable either way: this only bounds it)."""

    def __init__(self, path: str, *, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self._path = path
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.runs = 0
        self.seconds = 0.0  # spent checkpointing: time a commit no longer waits for

    @property
    def started(self) -> bool:
        """Whether its thread was started (the first commit starts it)."""
        return self._thread is not None

    def committed(self) -> None:
        """Note a commit: a checkpoint follows within ``interval_s``."""
        with self._guard:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="bastion-audit-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        with self._guard:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                self._wake.clear()
                self._checkpoint(conn)
                if self._stop.wait(self._interval_s):
                    return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            started = time.perf_counter()
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.seconds += time.perf_counter() - started
            self.runs += 1
        except sqlite3.Error as exc:  # a busy or failed checkpoint is retried after the next commit
            log.debug("audit_checkpoint_skipped", error=str(exc))

"""Whether anything was committed to a SQLite file since a last look: ``PRAGMA data_version``.

The background loops poll the database for changes other processes make (alias moves,
canaries). Idle, nothing commits, yet each poll cost a session, a query and two thread hops:
an idle ``bastion serve`` ran about twelve statements a second. SQLite counts commits made by
other connections; read on a private connection that never writes, an unchanged count means
no connection (this process's or another's) committed, so the last answer still holds. The
read is a few microseconds in the WAL index, no I/O, so it runs on the event loop. PostgreSQL
has no such counter: there every read goes to the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class CommitCounter:
    """``PRAGMA data_version`` of one SQLite file, on a connection opened at first use."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def version(self) -> int:
        return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def scalar(self, sql: str) -> Any:
        """The first column of the first row of a read (None without a row): for a poll's
        cheap query (an index's last key), a few microseconds on this connection where a
        session and its two thread hops cost hundreds. In WAL mode a read never waits
        for a writer; each runs in its own read transaction, so it sees every commit."""
        row = self._connection().execute(sql).fetchone()
        return None if row is None else row[0]

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Used from one thread at a time (the event loop's); opened lazily so that a
            # Database built before its migrations do not create the file early.
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class HasDataVersion(Protocol):
    def data_version(self) -> int | None: ...


class WhileUnchanged(Generic[T]):
    """The last result of ``read``, reused while the database reports no commit since it ran."""

    def __init__(self, db: HasDataVersion) -> None:
        self._db = db
        self._seen: int | None = None
        self._last: tuple[T] | None = None
        self.reads = 0

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        version = self._db.data_version()  # before the read: a commit during it shows next time
        if version is not None and version == self._seen and self._last is not None:
            return self._last[0]
        value = await read()
        self.reads += 1
        self._seen, self._last = version, (value,)
        return value

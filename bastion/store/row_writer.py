"""RowWriter: the one thread that writes a SQLite file, for the file's other steady writers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class RowWriter(Protocol):
    """Runs one INSERT for many rows in one transaction on the file's writer thread.

    On a SQLite file the audit log's writer (``observability/audit/sqlite_writer.py``) is
    one: the usage log and the prediction log hand it their batches instead of holding
    SQLite's write lock from connections of their own while an audit batch waits for it.
    ``params`` are the driver's (dicts for ``:name`` placeholders, tuples for ``?``).
    """

    async def insert(self, sql: str, params: Sequence[Any]) -> None: ...

"""RowWriter: the one thread that writes a SQLite file, for the file's other steady writers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


class RowsPartlyWritten(Exception):
    """The first ``written`` rows of an insert were committed, the rest were not (``cause``)."""

    def __init__(self, written: int, cause: BaseException) -> None:
        super().__init__(f"{written} rows were written before the insert failed: {cause}")
        self.written = written
        self.cause = cause


class RowWriter(Protocol):
    """Runs one INSERT for many rows in one transaction on the file's writer thread.

    On a SQLite file the audit log's writer (``observability/audit/sqlite_writer.py``) is
    one: the usage log and the prediction log hand it their batches instead of holding
    SQLite's write lock from connections of their own while an audit batch waits for it.
    ``params`` are the driver's (dicts for ``:name`` placeholders, tuples for ``?``).
    The rows may be committed in several transactions (an audit batch goes between them);
    a failure after some were committed raises ``RowsPartlyWritten``, so that a caller that
    retries writes only the rest.
    """

    async def insert(self, sql: str, params: Sequence[Any]) -> None: ...


def utc_text(at: datetime, sep: str) -> str:
    """``at`` (a UTC time) as ``%Y-%m-%d{sep}%H:%M:%S.%f``: ``isoformat`` writes the same
    bytes in a tenth of ``strftime``'s time, except for years before 1000 (not zero-padded
    by the C library's ``%Y``), which keep ``strftime``. With ``sep`` a space, how the rows
    given to a ``RowWriter`` hold a time (SQLAlchemy's DateTime reads it back)."""
    if at.year < 1000:
        return at.strftime(f"%Y-%m-%d{sep}%H:%M:%S.%f")
    return at.replace(tzinfo=None).isoformat(sep, "microseconds")

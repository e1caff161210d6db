"""A batch INSERT whose parameters are converted on the event loop in short slices.

SQLAlchemy converts every row of an ``executemany`` to the driver's types in one go, on the
calling thread: for the 140 prediction-log rows a c=1 server gathers in one 0.2 s linger that
held the event loop for about 2 ms, five times a second, and a request arriving then waited
for it. Here the rows are converted by the same bind processors (so the stored values are
identical), yielding to the loop every ``slice_s``, before the transaction starts; the driver
then gets one ``executemany`` of ready tuples. SQLite only (the embedded default, where the
loop and the database share one process); other dialects take SQLAlchemy's own path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

SLICE_S = 0.0005


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


class SlicedInsert:
    """``prepare`` the rows (None: not this way), then ``execute`` them in a transaction."""

    def __init__(self, table: Table, *, slice_s: float = SLICE_S) -> None:
        self._table = table
        self._slice_s = slice_s
        self._compiled: dict[str, _Compiled] = {}

    async def prepare(
        self, dialect: Dialect, rows: Sequence[dict[str, Any]]
    ) -> list[tuple[Any, ...]] | None:
        """The rows as driver tuples, or None when the dialect or a row needs SQLAlchemy's
        own path (a column left to its default)."""
        if dialect.name != "sqlite":
            return None
        compiled = self._compile(dialect)
        # one C-level read of every value, then only the columns that have a processor
        keys = compiled.keys
        values: Callable[[dict[str, Any]], Any] = (
            itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
        )
        converted = [(i, p) for i, p in enumerate(compiled.processors) if p is not None]
        out: list[tuple[Any, ...]] = []
        started = time.perf_counter()
        try:
            for row in rows:
                got = values(row)
                if converted:
                    cells = list(got)
                    for i, p in converted:
                        cells[i] = p(cells[i])
                    got = tuple(cells)
                out.append(got)
                if time.perf_counter() - started > self._slice_s:
                    await asyncio.sleep(0)
                    started = time.perf_counter()
        except KeyError:
            return None
        return out

    async def execute(self, connection: AsyncConnection, params: list[tuple[Any, ...]]) -> None:
        await connection.exec_driver_sql(self.sql(connection.dialect), params)

    def sql(self, dialect: Dialect) -> str:
        """The INSERT the prepared tuples are for (``?`` placeholders, in their order)."""
        return self._compile(dialect).sql

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            columns = [c for c in self._table.columns if not (c.primary_key and c.autoincrement)]
            stmt = insert(self._table).values({c.key: bindparam(c.key) for c in columns})
            compiled = stmt.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ())
            if sorted(order) != sorted(c.key for c in columns):
                raise RuntimeError(f"unexpected bind parameters for {self._table.name}: {order}")
            by_key = {c.key: c for c in columns}
            processors = tuple(
                by_key[k].type.dialect_impl(dialect).bind_processor(dialect) for k in order
            )
            found = self._compiled[dialect.name] = _Compiled(str(compiled), order, processors)
        return found

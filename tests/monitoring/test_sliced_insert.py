"""SlicedInsert stores exactly what SQLAlchemy's own executemany stores, in short loop slices,
whether the rows go through a SQLAlchemy connection or the file's one writer thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert

from bastion.monitoring.predictions import PredictionLog, Sealer
from bastion.monitoring.sliced_insert import SlicedInsert
from bastion.observability.audit.sqlite_writer import SqliteChainWriter
from bastion.store import Database, migrate
from bastion.store.monitoring_tables import PredictionRow

TABLE = cast(Table, PredictionRow.__table__)


def _rows(prefix: str, n: int) -> list[dict[str, Any]]:
    at = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    return [
        {
            "request_id": f"{prefix}-{i}",
            "item_index": i % 3,
            "items": 3,
            "deployment": "bench",
            "model": "m",
            "version": 2,
            "tenant": "acme" if i % 2 else "default",
            "at": at + timedelta(microseconds=1234 * i),
            "confidence": None if i % 4 == 0 else 0.5 + i / 1000,
            "label": None if i % 2 else f"label {i} é",
            "value": None if i % 5 else float(i),
            "segments": {} if i % 3 else {"country": "FR", "n": i},
            "mode": "scrubbed",
            "input_logged": bool(i % 2),
            "payload": bytes([i % 256]) * (i + 1),
        }
        for i in range(n)
    ]


async def _stored(db: Database, prefix: str) -> list[tuple[Any, ...]]:
    """The raw stored values (as SQLite holds them, not parsed back), request ids aside."""
    columns = ", ".join(c.key for c in TABLE.columns if c.key not in ("id", "request_id"))
    async with db.engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            f"SELECT {columns} FROM prediction_log WHERE request_id LIKE ? ORDER BY id",
            (f"{prefix}-%",),
        )
        return [tuple(r) for r in rows]


async def test_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    sliced = SlicedInsert(TABLE)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert(TABLE), _rows("a", 60))
        params = await sliced.prepare(db.engine.dialect, _rows("b", 60))
        assert params is not None and len(params) == 60
        async with db.engine.begin() as conn:
            await sliced.execute(conn, params)
        assert await _stored(db, "a") == await _stored(db, "b")
        assert len(await _stored(db, "b")) == 60
    finally:
        await db.aclose()


async def test_yields_to_the_loop_between_slices(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    sliced = SlicedInsert(TABLE, slice_s=0.0)  # yield after every row
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0)
        params = await sliced.prepare(db.engine.dialect, _rows("c", 20))
        assert params is not None
        assert ticks >= 19  # the loop ran other work between the rows
    finally:
        task.cancel()
        await db.aclose()


async def test_a_row_without_every_column_takes_sqlalchemys_path(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    row = _rows("d", 1)[0]
    del row["at"]  # left to the column's default
    try:
        assert await SlicedInsert(TABLE).prepare(db.engine.dialect, [row]) is None
    finally:
        await db.aclose()


async def test_the_prediction_log_hands_its_rows_to_the_files_writer(tmp_path: Path) -> None:
    path = tmp_path / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    writer = SqliteChainWriter(str(path), fsync=True)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert(TABLE), _rows("a", 30))
        await PredictionLog(db, Sealer(), rows=writer).write(_rows("b", 30))
        assert await _stored(db, "a") == await _stored(db, "b")  # the same stored values
        assert len(await _stored(db, "b")) == 30
    finally:
        await writer.aclose()
        await db.aclose()

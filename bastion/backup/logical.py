"""The portable dump: every Bastion table as JSON lines, restorable into SQLite or PostgreSQL."""

from __future__ import annotations

import base64
import gzip
import importlib
import pkgutil
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Table, func, insert, select, text

from bastion.store import Database
from bastion.store.tables import Base

_BATCH = 1000


def tables() -> list[Table]:
    """Every table Bastion defines, parents before children."""
    from bastion import store

    for info in pkgutil.iter_modules(store.__path__):
        if info.name.endswith("_tables"):
            importlib.import_module(f"bastion.store.{info.name}")
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
    return value


async def dump(db: Database, out: Path) -> dict[str, int]:
    """Write ``{"table": name, "row": {...}}`` lines (gzip); returns rows per table."""
    counts: dict[str, int] = {}
    with gzip.open(out, "wb") as fh:
        async with db.engine.connect() as conn:
            for table in tables():
                counts[table.name] = 0
                result = await conn.stream(select(table))
                async for row in result.mappings():
                    line = {"table": table.name, "row": {k: _encode(v) for k, v in row.items()}}
                    fh.write(orjson.dumps(line) + b"\n")
                    counts[table.name] += 1
    return counts


async def load(db: Database, source: Path) -> dict[str, int]:
    """Insert the dump's rows into an empty, migrated database (one transaction)."""
    by_name = {t.name: t for t in tables()}
    counts: dict[str, int] = {}
    async with db.engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        current: Table | None = None
        with gzip.open(source, "rb") as fh:
            for raw in fh:
                line = orjson.loads(raw)
                table = by_name[line["table"]]
                if current is not None and (table is not current or len(batch) >= _BATCH):
                    await conn.execute(insert(current), batch)
                    batch = []
                current = table
                batch.append({k: _decode(v) for k, v in line["row"].items()})
                counts[table.name] = counts.get(table.name, 0) + 1
        if current is not None and batch:
            await conn.execute(insert(current), batch)
        if db.dialect == "postgresql":
            await _reset_sequences(conn)
    return counts


async def _reset_sequences(conn: Any) -> None:
    """Explicit ids were inserted: move each serial sequence past the largest one."""
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                seq = await conn.scalar(
                    text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": table.name, "c": column.name},
                )
                if seq is None:
                    continue
                top = await conn.scalar(select(func.max(column)))
                await conn.execute(
                    text("SELECT setval(:s, :v, :called)"),
                    {"s": seq, "v": top or 1, "called": top is not None},
                )

"""Issue 20, c=1: how long an audit append waits behind the usage and prediction logs' rows on
the SQLite file's one writer thread.

One record per batch, appended one after another (a c=1 client), through the real
``SqlAuditStore`` (its ``SqliteChainWriter``) with ``durability: fsync``, while a second task
hands that writer a batch of ``rows`` usage rows every 0.2 s, as the usage recorder does
(``RowWriter.insert``, no fsync of their own). For the appends handed over while such a batch
was being written it prints how many finished before that batch did (an audit batch that
goes between the batch's slices) and their latency, against the appends that met no batch.
The order is the evidence that does not depend on the machine's load; the times do.

    PYTHONPATH=<checkout> python -m bench.audit_behind_rows [appends] [rows]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion.governance.usage import SQLITE_INSERT, UsageRecord
from bastion.observability.audit.sql import SqlAuditStore
from bastion.store import Database, migrate
from bench.audit_tail import _entry


def _usage_row(n: int) -> dict[str, Any]:
    return UsageRecord(
        at=datetime.now(UTC),
        request_id=f"req-{n:08d}",
        tenant="default",
        team=None,
        key_id="key_1",
        deployment="bench",
        model="bench",
        api="chat",
        cost_micros=19,
        prompt_tokens=12,
        completion_tokens=7,
        tokens=19,
        cached=False,
    ).sqlite_params()


async def run(appends: int, rows: int) -> str:
    path = Path(tempfile.mkdtemp(prefix="bastion-behind-rows-")) / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    store = SqlAuditStore(db, durability="fsync")
    writer: Any = store._sqlite  # type: ignore[attr-defined]
    inserts: list[tuple[float, float]] = []  # (handed, done) of each batch of rows
    stop = asyncio.Event()

    async def usage_log() -> None:
        n = 0
        while not stop.is_set():
            await asyncio.sleep(0.2)
            batch = [_usage_row(n + i) for i in range(rows)]
            n += rows
            handed = time.perf_counter()
            await writer.insert(SQLITE_INSERT, batch)
            inserts.append((handed, time.perf_counter()))

    took: list[tuple[float, float]] = []
    try:
        for n in range(50):  # warm-up: the connection, the head
            await store.append([_entry(-n)])
        rider = asyncio.create_task(usage_log())
        for n in range(appends):
            started = time.perf_counter()
            await store.append([_entry(n)])
            took.append((started, time.perf_counter()))
        stop.set()
        await rider
    finally:
        await store.aclose()
        await db.aclose()
    during = [(s, e, d) for s, e in took for h, d in inserts if h < s < d]
    others = [(e - s) * 1e3 for s, e in took if not any(h < s < d for h, d in inserts)]
    before = sum(e < d for _, e, d in during)
    ms = sorted((e - s) * 1e3 for s, e, _ in during)

    def q(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")

    others.sort()
    return (
        f"{appends} appends, {len(inserts)} batches of {rows} rows; appends handed over while "
        f"a batch was written: {len(during)}, finished before that batch: {before}; their ms "
        f"p50 {q(ms, 0.5):.3f} p90 {q(ms, 0.9):.3f} max {q(ms, 1.0):.3f}; the other appends "
        f"p50 {q(others, 0.5):.3f} p99 {q(others, 0.99):.3f}; batch of rows median "
        f"{statistics.median((d - h) * 1e3 for h, d in inserts):.2f} ms"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    print(asyncio.run(run(count, size)))

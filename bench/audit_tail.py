"""The audit writer's latency tail at concurrency 1, alone and beside another SQLite writer.

One record per batch, appended one after another (what a c=1 client makes), through the real
``SqlAuditStore`` on a migrated SQLite file with ``durability: fsync``. With ``contended``, a
second connection in another thread does what the prediction log and usage recorder do:
every 100 ms a write transaction of 50 rows that holds the write lock for about 1 ms (an
event-loop hop or two) and commits with SQLite's default ``synchronous=FULL``.

    python -m bench.audit_tail [appends] [alone|contended]

Prints the append latency's percentiles, the appends that waited ≥ 1 ms for the write lock
(SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between tries) and process CPU per append.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bastion.observability.audit import AuditEntry
from bastion.observability.audit.sql import SqlAuditStore
from bastion.store import Database, migrate


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        kind="interaction",
        action="chat",
        at=datetime.now(UTC),
        actor_key_id="key_1",
        actor_name="bench",
        tenant="default",
        deployment="bench",
        version=1,
        request_id=f"req-{n:08d}",
        input_sha256="a" * 64,
        output_sha256="b" * 64,
        cost=0.0001,
        decision="answered",
        guards={"pii": {}, "injection": None},
        details={"api": "openai.chat", "model": "bench", "tokens": 19},
    )


def _contender(path: Path, stop: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("CREATE TABLE IF NOT EXISTS bench_noise (id INTEGER PRIMARY KEY, body TEXT)")
    while not stop.wait(0.1):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO bench_noise (body) VALUES (?)", [("x" * 400,)] * 50)
        time.sleep(0.001)  # the event-loop hops a SQLAlchemy session spends inside its write
        conn.execute("COMMIT")
    conn.close()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(appends: int, contended: bool) -> str:
    path = Path(tempfile.mkdtemp(prefix="bastion-audit-tail-")) / "bastion.db"
    await migrate.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    store = SqlAuditStore(db, durability="fsync")
    stop = threading.Event()
    noise = threading.Thread(target=_contender, args=(path, stop), daemon=True)
    if contended:
        noise.start()
    took: list[float] = []
    try:
        for n in range(50):  # warm-up: the connection, the head
            await store.append([_entry(-n)])
        cpu = _cpu_s()
        for n in range(appends):
            started = time.perf_counter()
            await store.append([_entry(n)])
            took.append((time.perf_counter() - started) * 1e3)
        cpu = _cpu_s() - cpu
        writer = getattr(store, "_sqlite", None)
        waits = getattr(writer, "lock_waits", "n/a")
        checkpointer = getattr(writer, "checkpointer", None)
        checkpoints = (
            f"{checkpointer.runs} ({checkpointer.seconds / max(checkpointer.runs, 1) * 1e3:.1f} "
            "ms each)"
            if checkpointer
            else "n/a"
        )
    finally:
        stop.set()
        if contended:
            noise.join()
        await store.aclose()
        await db.aclose()
    q = statistics.quantiles(took, n=1000)
    return (
        f"{'contended' if contended else 'alone'}: {appends} appends, ms p50 "
        f"{statistics.median(took):.3f} p90 {q[899]:.3f} p99 {q[989]:.3f} p99.9 {q[998]:.3f} "
        f"max {max(took):.2f}; ≥3 ms: {sum(t >= 3 for t in took)}; "
        f"CPU {cpu / appends * 1e6:.0f} µs/append; lock retries {waits}, "
        f"checkpoints off the path {checkpoints}"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    mode = sys.argv[2] if len(sys.argv) > 2 else "contended"
    print(asyncio.run(run(count, mode == "contended")))

"""Issue 17: retrieval collections at 100k chunks — embedded (SQLite) and cluster (PostgreSQL).

For each mode: chunks written through the store (vectors given: no embedding), a second
service that loads the collection as a replica starting up (and builds its IVF index), then
top-10 searches through ``RagService.search_vector`` — the revision check, the in-process
search and the SQL fetch that enforces tenant and access rules, but not the query's
embedding — timed one by one; recall@10 against exact search over the same rows; a filtered
search (1 % of documents). Vectors are synthetic but embedding-like: a 200-topic mixture in a
32-dimensional latent space projected into 384 dimensions plus noise (real sentence embeddings
also live near a low-dimensional subspace). Uniformly random vectors, which have no
neighbourhoods at all, are reported apart. Indexing throughput with real MiniLM embedding is
measured on the repository's own docs (parse, chunk, embed, write).

Bounded: BENCH_RAG_CHUNKS (default 100,000) chunks, BENCH_RAG_QUERIES (default 300) queries.
Runnable alone: ``python -m bench.rag``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bastion.core.principal import Principal
from bastion.rag import RagService
from bastion.rag.base import Chunk
from bastion.rag.index import IndexTuning, VectorIndex
from bastion.rag.store import NewDocument
from bastion.settings.rag import RagSettings
from bastion.store import Database, migrate

ROOT = Path(__file__).resolve().parents[1]
CHUNKS = int(os.environ.get("BENCH_RAG_CHUNKS", "100000"))
QUERIES = int(os.environ.get("BENCH_RAG_QUERIES", "300"))
PER_DOC = 100
PG_ADMIN = os.environ.get(
    "BASTION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WHO = Principal("bench", "bench", "bench", frozenset({"operator"}))
D = 384


@functools.cache
def _space() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    basis = np.linalg.qr(np.random.default_rng(7).standard_normal((D, 32)))[0].T
    return basis, np.random.default_rng(8).standard_normal((200, 32))


def embedding_like(n: int, rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.float32]]:
    basis, topics = _space()
    latent = topics[rng.integers(0, 200, n)] + 0.7 * rng.standard_normal((n, 32))
    x = (latent @ basis + 0.05 * rng.standard_normal((n, D))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _pct(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))] * 1000


async def _fill(svc: RagService, name: str) -> float:
    """Write CHUNKS chunks (PER_DOC per document) through the store; chunks/s."""
    found = await svc.store.collection(name)
    assert found is not None
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for d in range(CHUNKS // PER_DOC):
        vectors = embedding_like(PER_DOC, rng)
        chunks = [Chunk(i, f"document {d} chunk {i}") for i in range(PER_DOC)]
        doc = NewDocument(
            f"d{d}", "bench", "bench", "text", f"{d:064x}", {"group": d % 100}, None, "bench"
        )
        await svc.store.write(found.id, doc, chunks, vectors)
    return CHUNKS / (time.perf_counter() - started)


async def _queries(replica: RagService, name: str) -> dict[str, Any]:
    """Timed searches first (wall and process CPU time each), the exact reference after:
    interleaving a 20 ms exact scan would only slow the next timed search's scheduling."""
    found = await replica.collection(WHO, name)
    live = replica._live[found.id]
    queries = embedding_like(QUERIES, np.random.default_rng(2))
    wall, cpu, filtered, got = [], [], [], []
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        hits = await replica.search_vector(WHO, found, q, 10)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        got.append({h.chunk_id for h in hits})
    for q in queries[:100]:
        t = time.perf_counter()
        hits = await replica.search_vector(WHO, found, q, 10, {"group": 7})
        filtered.append(time.perf_counter() - t)
        assert len(hits) == 10
    recall = sum(
        len({c for c, _ in live.index.search(q, 10, exact=True)} & ids) / 10
        for q, ids in zip(queries, got, strict=True)
    )
    return {
        "p50": _pct(wall, 0.5),
        "p99": _pct(wall, 0.99),
        "cpu_p50": _pct(cpu, 0.5),
        "cpu_p99": _pct(cpu, 0.99),
        "recall": recall / len(queries),
        "filtered_p99": _pct(filtered, 0.99),
        "mode": live.index.mode,
    }


async def _mode(url: str, label: str) -> dict[str, Any]:
    await migrate.upgrade(url)
    settings = RagSettings()
    writer_db, replica_db = Database(url), Database(url)
    writer = RagService(settings, writer_db, lambda t: np.zeros((len(t), D), np.float32))
    replica = RagService(settings, replica_db, lambda t: np.zeros((len(t), D), np.float32))
    try:
        await writer.create_collection(WHO, "bench")
        write_rate = await _fill(writer, "bench")
        t = time.perf_counter()
        await replica.follow_all()
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        await replica.wait_for_builds()
        build_s = time.perf_counter() - t
        out = await _queries(replica, "bench")
        return {"label": label, "write": write_rate, "load_s": load_s, "build_s": build_s, **out}
    finally:
        for svc, db in ((writer, writer_db), (replica, replica_db)):
            await svc.aclose()
            await db.aclose()


def _uniform_recall() -> float:
    """IVF recall@10 on uniformly random unit vectors (no neighbourhoods), in memory."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((CHUNKS, D)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = VectorIndex(D, IndexTuning())
    for start in range(0, CHUNKS, 1000):
        index.put(start, list(range(start, start + 1000)), x[start : start + 1000])
    if not index.build_ivf():
        return float("nan")
    total = 0.0
    queries = rng.standard_normal((100, D)).astype(np.float32)
    for q in queries / np.linalg.norm(queries, axis=1, keepdims=True):
        exact = {c for c, _ in index.search(q, 10, exact=True)}
        total += len(exact & {c for c, _ in index.search(q, 10)}) / 10
    return total / 100


async def _embedding_throughput(tmp: Path) -> tuple[int, float, float]:
    """Real indexing (parse, chunk, MiniLM embed, write) of the repository's docs."""
    from bastion.backends.resources import Resources
    from bastion.settings import Settings
    from bastion.wiring.services import rag_encoder

    url = f"sqlite:///{tmp}/docs.db"
    await migrate.upgrade(url)
    db = Database(url)
    encode = rag_encoder(Settings(data_dir=tmp), Resources())
    svc = RagService(RagSettings(), db, encode)
    try:
        await svc.create_collection(WHO, "docs", policy={"strategy": "heading", "size": 800})
        files = sorted((ROOT / "docs").glob("*.md"))[:12]  # bounded: ~200 chunks
        await svc.embed(["warm-up"])  # the int8 copy is written and loaded once
        chunks, started, cpu = 0, time.perf_counter(), time.process_time()
        for f in files:
            done = await svc.index(WHO, "docs", f.name, f.read_bytes())
            chunks += done.chunks
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return chunks, chunks / wall, chunks / cpu
    finally:
        await svc.aclose()
        await db.aclose()


def _postgres() -> tuple[str, str] | None:
    try:
        import psycopg

        name = "bench_rag_" + secrets.token_hex(4)
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        from sqlalchemy.engine import make_url

        return name, make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:
        print(f"PostgreSQL unavailable, cluster mode skipped: {exc}")
        return None


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run() -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(await _mode(f"sqlite:///{tmp}/bench.db", "embedded (SQLite)"))
        rows[0]["embed"] = await _embedding_throughput(Path(tmp))
    pg = _postgres()
    if pg is not None:
        try:
            rows.append(await _mode(pg[1], "cluster (PostgreSQL, no pgvector)"))
        finally:
            _drop(pg[0])
    return rows


def main() -> str:
    rows = asyncio.run(_run())
    uniform = _uniform_recall()
    lines = [
        "### Retrieval collections — issue 17",
        "",
        f"{CHUNKS:,} chunks of 384 dimensions in one collection ({PER_DOC} per document); "
        f"{QUERIES} top-10 searches by query vector (the query's embedding excluded) through a "
        "second service on the same database, as a replica. Recall@10 against exact search "
        "over the same rows.",
        "",
        "| mode | write chunks/s (no embedding) | replica load s | IVF build s | index | "
        "p50 ms | p99 ms | CPU p50 / p99 ms | recall@10 | filtered (1 %) p99 ms |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['write']:,.0f} | {r['load_s']:.1f} | {r['build_s']:.1f} | "
            f"{r['mode']} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['cpu_p50']:.2f} / {r['cpu_p99']:.2f} | {r['recall']:.3f} | "
            f"{r['filtered_p99']:.2f} |"
        )
    chunks, rate, per_cpu = rows[0]["embed"]
    lines += [
        "",
        f"Indexing with real embedding (parse, chunk by heading, bundled MiniLM int8, write; "
        f"SQLite): {chunks} chunks of the repository's docs at **{rate:,.1f} chunks/s** wall "
        f"clock, **{per_cpu:,.1f} chunks per CPU-second** (the process's CPU time).",
        "",
        f"On uniformly random vectors (no neighbourhood structure, the worst case for any "
        f"approximate index) IVF recall@10 is {uniform:.3f}: a collection of such vectors "
        "should be searched exactly (`rag.ivf_min_rows` above its size).",
        "",
        "Targets: p99 ≤ 20 ms at top-10, recall@10 ≥ 0.95. The machine is shared (2 vCPU, "
        f"load average {os.getloadavg()[0]:.1f} at the end of this run): wall-clock tails "
        "include time spent waiting for a core; the CPU columns (the process's CPU time per "
        "search, every thread) do not.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())

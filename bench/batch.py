"""Batch jobs: throughput on the tabular demo against calling its ONNX model directly, peak
memory at two file sizes, and the Ray engine's overhead (bounded: files in a temp dir).

Each measurement runs in its own process (``python -m bench.batch --child …``) so that its
peak RSS is its own. The floor reads the same Parquet file in batches of the same size and
runs the ONNX session on them in one process: no pipeline, no ledger, no output file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CALL_ROWS = 2048  # jobs.call_rows: a job's calls may exceed limits.max_batch
# the columnar path's own sizes (this file takes it): the server's defaults unless given
COLUMNAR_CHUNK_ROWS = int(os.environ.get("BENCH_COLUMNAR_CHUNK_ROWS", "32768"))
COLUMNAR_CALL_ROWS = int(os.environ.get("BENCH_COLUMNAR_CALL_ROWS", "32768"))
SIZES = (100_000, 1_000_000)


def write_input(path: Path, rows: int) -> None:
    """``rows`` real breast-cancer rows (repeated), written 65,536 at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bastion.demo.tabular import _dataset

    x, _, names = _dataset()
    block = 65_536
    tiled = np.tile(x, (block // len(x) + 1, 1))[:block]
    with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in names])) as writer:
        for start in range(0, rows, block):
            part = tiled[: min(block, rows - start)]
            writer.write_table(pa.table({n: part[:, i] for i, n in enumerate(names)}))


def floor(path: Path) -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort
    import pyarrow.parquet as pq

    from bastion.demo.tabular import train_breast_cancer

    session = ort.InferenceSession(train_breast_cancer().artifact)
    started, cpu, rows = time.perf_counter(), time.process_time(), 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=CALL_ROWS):
        x = np.column_stack([c.to_numpy() for c in batch.columns]).astype(np.float32)
        session.run(None, {"input": x})
        rows += len(x)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
    }


async def job(path: Path, engine: str) -> dict[str, Any]:
    from bastion.observability.logging import configure_logging
    from bastion.wiring import build_services, close_services
    from tests.jobs.conftest import job_settings, seed, stream

    data = path.parent / f"srv-{engine}-{os.getpid()}"
    settings = job_settings(
        data,
        chunk_rows=8192,
        call_rows=CALL_ROWS,
        columnar_chunk_rows=COLUMNAR_CHUNK_ROWS,
        columnar_call_rows=COLUMNAR_CALL_ROWS,
        concurrency=4,
        poll_interval_s=2,
    )
    # logging as a server configures it (JSON lines at the configured level, here the
    # BASTION_LOGGING__LEVEL run_child sets), not structlog's unconfigured console renderer
    configure_logging(settings.logging, settings.observability)
    acme, _ = await seed(settings)
    svc = await build_services(settings)
    try:
        assert svc.jobs is not None
        started, cpu = time.perf_counter(), time.process_time()
        created = await svc.jobs.create(
            acme, stream(path), deployment="breast-cancer", filename=path.name, engine=engine
        )
        while not (current := await svc.jobs.ledger.get(created.id)).finished:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # the poll costs CPU the job shares
        seconds = time.perf_counter() - started
        assert current.status == "succeeded", current.error
        return {
            "rows": current.rows_done,
            "seconds": seconds,
            "cpu_s": time.process_time() - cpu,  # every thread of the process (Ray: driver)
            "failed": current.rows_failed,
        }
    finally:
        await close_services(svc)


def child(args: argparse.Namespace) -> None:
    import logging

    logging.disable(logging.INFO)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    path = Path(args.input)
    if args.child == "floor":
        out = floor(path)
    elif args.child == "ray":
        out = ray_child(path)
    else:
        out = asyncio.run(job(path, args.child))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def ray_child(path: Path) -> dict[str, Any]:
    """The job on a local Ray started here (its start timed apart from the job's), with the
    memory of the driver, the Ray processes and the object store sampled throughout."""
    from bench.ray_memory import MemorySampler

    sampler = MemorySampler()
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _temp_dir=str(path.parent / "ray"))  # fmt: skip
    init = {"ray_init_s": time.perf_counter() - started}
    init["ray_init_cpu_s"] = time.process_time() - cpu
    out = asyncio.run(job(path, "ray"))
    return {**out, **init, **sampler.stop()}


def run_child(kind: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "BASTION_LOGGING__LEVEL": "error", "RAY_AUTH_MODE": "disabled"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.batch", "--child", kind, "--input", str(path)],
        capture_output=True, text=True, check=False, env=env, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"bench child {kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def feature_lookup_us() -> float:
    """Median µs of the enrich step for one input (30 features) from the in-process table."""
    import statistics

    from bastion.demo.tabular import sample_inputs
    from bastion.features import BuiltinFeatures, enrich
    from bastion.settings.features import FeatureBinding
    from bastion.store import Database, migrate

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/features.db"
        await migrate.upgrade(url)
        db = Database(url)
        table = BuiltinFeatures(db)
        rows = sample_inputs(1000)
        await table.load("t", [(f"e{i}", r, None) for i, r in enumerate(rows)], None)
        binding = FeatureBinding(deployment="x", table="t", entity_key="id")
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            for i in range(1000):
                enrich(table, binding, {"id": f"e{i}"}, "input")
            samples.append((time.perf_counter() - started) / 1000 * 1e6)
        await db.aclose()
        return statistics.median(samples)


def main(sizes: tuple[int, ...] = SIZES) -> str:
    lines = [
        "## Batch jobs (bench/batch.py)",
        "",
        "breast-cancer ONNX (30 features), Parquet input (the columnar path: chunks of "
        f"{COLUMNAR_CHUNK_ROWS:,}, calls of {COLUMNAR_CALL_ROWS:,} rows), 4 calls at once, "
        "SQLite, monitoring off, every other default on (auth, limits, budget and price, "
        f"audit, metrics). Floor: the same file read in {CALL_ROWS}-row batches into the "
        "ONNX session, one process.",
        "",
        "| run | rows | seconds | rows/s | CPU s | share of floor | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            path = Path(tmp) / f"in-{rows}.parquet"
            write_input(path, rows)
            base = run_child("floor", path)
            kinds = ["local", "ray"] if rows == sizes[0] else ["local"]
            runs = {k: run_child(k, path) for k in kinds}
            floor_rate = base["rows"] / base["seconds"]
            lines.append(_row(f"floor (ONNX direct), {rows:,}", base, floor_rate))
            for kind, out in runs.items():
                lines.append(_row(f"job, {kind} engine, {rows:,}", out, floor_rate))
    lookup = asyncio.run(feature_lookup_us())
    lines += [
        "",
        f"Built-in feature lookup (enrich, 30 features, in-process table): {lookup:.1f} µs "
        "p50 per input (target ≤ 100 µs added to a predict call).",
    ]
    return "\n".join(lines)


def _row(label: str, out: dict[str, Any], floor_rate: float) -> str:
    rate = out["rows"] / out["seconds"]
    return (
        f"| {label} | {out['rows']:,} | {out['seconds']:.1f} | {rate:,.0f} | "
        f"{out['cpu_s']:.1f} | {rate / floor_rate:.1%} | {out['peak_rss_mb']:.0f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["floor", "local", "ray"])
    parser.add_argument("--input")
    parser.add_argument("--rows", type=int, nargs="*")
    ns = parser.parse_args()
    if ns.child:
        child(ns)
    else:
        print(main(tuple(ns.rows) if ns.rows else SIZES))

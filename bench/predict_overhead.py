"""Issue 2 benchmark: `predict` on the tabular demo through the server vs. in-process."""

from __future__ import annotations

import asyncio
import statistics
import time

import orjson

from bench.harness import start_bastion, wrk


def in_process(n: int = 5000) -> tuple[float, float, float]:
    """p50/p99 (ms) and calls/s of the same ONNX backend called directly, one row at a time."""
    from bastion.backends import create_backend
    from bastion.backends.base import ModelSpec
    from bastion.backends.resources import Resources
    from bastion.demo.tabular import sample_inputs, train_breast_cancer

    trained = train_breast_cancer()
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / trained.artifact_name
    path.write_bytes(trained.artifact)
    spec = ModelSpec("breast-cancer", 1, trained.flavor, path, trained.signature, trained.params)
    backend = create_backend(spec, Resources())
    row = sample_inputs(1)[0]

    async def run() -> list[float]:
        await backend.load()
        for _ in range(200):
            await backend.infer([row])
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            await backend.infer([row])
            times.append((time.perf_counter() - t0) * 1000)
        return times

    times = sorted(asyncio.run(run()))
    return statistics.median(times), times[int(len(times) * 0.99)], 1000 / statistics.mean(times)


def main(seconds: int = 10) -> str:
    from bastion.demo.tabular import sample_inputs

    ip50, ip99, irps = in_process()
    server = start_bastion(cpu=0)
    try:
        url = server.url + "/v1/deployments/breast-cancer/predict"
        body = orjson.dumps({"input": sample_inputs(1)[0]}).decode()
        wrk(url, body, server.key, 4, 3)  # warm-up
        rows = []
        for c in (1, 16, 64):
            r = wrk(url, body, server.key, c, seconds)
            rows.append((c, r))
    finally:
        server.stop()
    lines = [
        "### `predict` on the tabular demo (breast-cancer, ONNX) — issue 2",
        "",
        f"In-process (same backend, `await backend.infer([row])`): p50 {ip50:.3f} ms, "
        f"p99 {ip99:.3f} ms, {irps:,.0f} calls/s.",
        "",
        "| concurrency | req/s | p50 ms | p99 ms | overhead p50 vs in-process | non-2xx |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for c, r in rows:
        lines.append(
            f"| {c} | {r.rps:,.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | "
            f"{r.p50_ms - ip50:.3f} ms | {r.errors} |"
        )
    c1 = rows[0][1]
    verdict = "meets" if c1.p50_ms - ip50 <= 1.0 else "MISSES"
    lines += [
        "",
        f"Overhead p50 at concurrency 1: {c1.p50_ms - ip50:.3f} ms ({verdict} the ≤ 1 ms "
        "target). Server: one worker pinned to CPU 0 (taskset); wrk: one thread pinned to "
        f"CPU 1; {seconds} s per step, after a 3 s warm-up; auth, contract validation and "
        "the full pipeline on.",
    ]
    return "\n".join(lines)

"""Issue 2 benchmark: `predict` on the tabular demo through the server vs. in-process."""

from __future__ import annotations

import asyncio
import statistics
import time

import orjson

from bench.harness import WrkResult, start_bastion, wrk


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


# The later issues' stages, off for the foundation's figure (their own benches measure them).
FOUNDATION_ONLY = {
    "BASTION_AUDIT__ENABLED": "false",
    "BASTION_MONITORING__ENABLED": "false",
    "BASTION_OBSERVABILITY__REQUEST_LOG": "false",
    "BASTION_OBSERVABILITY__METRICS_ENABLED": "false",
    "BASTION_ALERTS__ENABLED": "false",
    "BASTION_GOVERNANCE__RECORD_USAGE": "false",
}
SETUPS = {
    "foundation stages (auth, route, validate, cache, execute)": FOUNDATION_ONLY,
    "every default on (+ fsync'd audit, prediction log, usage rows, logs, metrics, alerts)": {},
}


def main(seconds: int = 10) -> str:
    from bastion.demo.tabular import sample_inputs

    ip50, ip99, irps = in_process()
    body = orjson.dumps({"input": sample_inputs(1)[0]}).decode()
    rows: list[tuple[str, int, WrkResult]] = []
    for setup, env in SETUPS.items():
        server = start_bastion(cpu=0, extra_env=env)
        try:
            url = server.url + "/v1/deployments/breast-cancer/predict"
            wrk(url, body, server.key, 4, 3)  # warm-up
            rows += [(setup, c, wrk(url, body, server.key, c, seconds)) for c in (1, 16, 64)]
        finally:
            server.stop()
    lines = [
        "### `predict` on the tabular demo (breast-cancer, ONNX) — issue 2",
        "",
        f"In-process (same backend, `await backend.infer([row])`): p50 {ip50:.3f} ms, "
        f"p99 {ip99:.3f} ms, {irps:,.0f} calls/s.",
        "",
        "| server | concurrency | req/s | p50 ms | p99 ms | overhead p50 vs in-process | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for setup, c, r in rows:
        lines.append(
            f"| {setup} | {c} | {r.rps:,.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | "
            f"{r.p50_ms - ip50:.3f} ms | {r.errors} |"
        )
    lines.append("")
    for setup, c, r in rows:
        if c == 1:
            verdict = "meets" if r.p50_ms - ip50 <= 1.0 else "MISSES"
            lines.append(
                f"- {setup}: overhead p50 at concurrency 1 {r.p50_ms - ip50:.3f} ms "
                f"({verdict} the ≤ 1 ms target)."
            )
    lines += [
        "",
        "Server: one worker pinned to CPU 0 (taskset); wrk: one thread pinned to CPU 1; "
        f"{seconds} s per step, after a 3 s warm-up.",
    ]
    return "\n".join(lines)

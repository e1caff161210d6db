"""Batch jobs on text: the support-intent classifier (bundled MiniLM encoder + ONNX head)
through a job against the same texts encoded and classified directly in one process.

Text rows take the row path (the columnar path is for tabular contracts); what a job adds
here is the pipeline per call and the ledger per chunk, beside an encoder that costs
milliseconds per text. Each measurement runs in its own process (``--child``).

At 100k texts a run takes over an hour of wall time on shared cores; run the two children
side by side in the background on one file, each printing a progress line (rows, wall,
CPU) every 5,120 rows on stderr, so that a stopped run still leaves its prefix's figures::

    python -m bench.batch_text --write texts.jsonl --rows 100000
    nice -n 10 python -m bench.batch_text --child floor --input texts.jsonl &
    nice -n 10 python -m bench.batch_text --child job --input texts.jsonl &
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

import orjson

CALL_ROWS = 256
CHUNK_ROWS = 1024
BATCH = 256  # the floor's encoder batches
ROWS = 3_000
PROGRESS_EVERY = 20  # a progress line (rows, wall, CPU) on stderr every 20 x 256 rows


def progress(kind: str, rows: int, started: float, cpu: float) -> None:
    """Rows done so far with wall and CPU seconds: a long run on shared cores leaves
    figures for the prefix it reached even if it is stopped."""
    line = {"kind": kind, "rows": rows, "seconds": time.perf_counter() - started}
    line["cpu_s"] = time.process_time() - cpu
    print(json.dumps(line), file=sys.stderr, flush=True)


def write_texts(path: Path, rows: int) -> None:
    """``rows`` support messages (the demo's, repeated) as JSONL strings."""
    from bastion.demo.intent import load_messages, training_data

    texts, _ = load_messages(training_data())
    path.write_bytes(b"".join(orjson.dumps(texts[i % len(texts)]) + b"\n" for i in range(rows)))


def floor(path: Path) -> dict[str, Any]:
    import numpy as np

    from bastion.backends.onnx_model import new_session
    from bastion.backends.resources import Resources
    from bastion.demo.intent import train_support_intent

    resources = Resources()
    head = new_session(train_support_intent(resources).artifact)
    encoder = resources.text_encoder()
    texts = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), BATCH):
        x = np.asarray(encoder.encode(texts[i : i + BATCH]), dtype=np.float32)
        head.run(["probabilities"], {"input": x})
        if (i // BATCH) % PROGRESS_EVERY == PROGRESS_EVERY - 1:
            progress("floor", i + len(x), started, cpu)
    return {
        "rows": len(texts),
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
    }


async def job(path: Path) -> dict[str, Any]:
    from bastion.backends.resources import Resources
    from bastion.demo.intent import NAME, train_support_intent
    from bastion.registry import ArtifactStore, Registry
    from bastion.store import Database
    from bastion.wiring import build_services, close_services
    from tests.jobs.conftest import job_settings, seed, stream

    data = path.parent / f"srv-text-{os.getpid()}"
    settings = job_settings(
        data, chunk_rows=CHUNK_ROWS, call_rows=CALL_ROWS, concurrency=4, poll_interval_s=2
    )
    acme, _ = await seed(settings)
    model = train_support_intent(Resources())
    db = Database(settings.resolved_database_url)
    registry = Registry(db, ArtifactStore(settings.artifacts_dir))
    mv = await registry.register(
        NAME, flavor=model.flavor, artifact=model.artifact,
        artifact_name=model.artifact_name, signature=model.signature,
    )  # fmt: skip
    await registry.promote(NAME, mv.version, actor="bench")
    await db.aclose()
    svc = await build_services(settings)
    try:
        assert svc.jobs is not None
        started, cpu = time.perf_counter(), time.process_time()
        created = await svc.jobs.create(
            acme, stream(path), deployment=NAME, filename=path.name, engine="local"
        )
        reported = 0
        while not (current := await svc.jobs.ledger.get(created.id)).finished:
            await asyncio.sleep(0.2)
            if current.rows_done - reported >= PROGRESS_EVERY * BATCH:
                reported = current.rows_done
                progress("job", reported, started, cpu)
        assert current.status == "succeeded", current.error
        return {
            "rows": current.rows_done,
            "failed": current.rows_failed,
            "seconds": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
        }
    finally:
        await close_services(svc)


def child(kind: str, path: Path) -> None:
    import logging

    logging.disable(logging.INFO)
    out = floor(path) if kind == "floor" else asyncio.run(job(path))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(kind: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "BASTION_LOGGING__LEVEL": "error"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.batch_text", "--child", kind, "--input", str(path)],
        capture_output=True, text=True, check=False, env=env, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"bench child {kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(rows: int = ROWS) -> str:
    lines = [
        f"support-intent (MiniLM int8 encoder + ONNX head), {rows:,} texts as JSONL, calls of "
        f"{CALL_ROWS}, chunks of {CHUNK_ROWS:,}; floor: the encoder and head on batches of "
        f"{BATCH}, one process.",
        "",
        "| run | rows | seconds | rows/s | CPU s | share of floor | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"texts-{rows}.jsonl"
        write_texts(path, rows)
        base = run_child("floor", path)
        out = run_child("job", path)
    floor_rate = base["rows"] / base["seconds"]
    for label, r in (("floor (encoder + head direct)", base), ("job, local engine", out)):
        rate = r["rows"] / r["seconds"]
        lines.append(
            f"| {label} | {r['rows']:,} | {r['seconds']:.1f} | {rate:,.0f} | {r['cpu_s']:.1f} | "
            f"{rate / floor_rate:.1%} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["floor", "job"])
    parser.add_argument("--input")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--write", help="only write the texts file here (for --child runs)")
    ns = parser.parse_args()
    if ns.write:
        write_texts(Path(ns.write), ns.rows)
    elif ns.child:
        child(ns.child, Path(ns.input))
    else:
        print(main(ns.rows))

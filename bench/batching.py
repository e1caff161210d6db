"""Issue 3 benchmark: `minilm` embeddings at concurrency 32, with and without micro-batching."""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
import yaml

from bench.harness import start_bastion, wrk


def _config(enabled: bool) -> Path:
    cfg = Path(tempfile.mkdtemp()) / "bastion.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "deployments": [
                    {"name": "minilm", "batching": {"enabled": enabled, "max_batch_size": 32}},
                ]
            }
        )
    )
    return cfg


def main(seconds: int = 10) -> str:
    body = orjson.dumps(
        {"model": "minilm", "input": "my parcel has not arrived and nobody answers the phone"}
    ).decode()
    results = {}
    for enabled in (False, True):
        server = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(_config(enabled))})
        try:
            url = server.url + "/v1/embeddings"
            wrk(url, body, server.key, 32, 3)
            results[enabled] = wrk(url, body, server.key, 32, seconds)
        finally:
            server.stop()
    off, on = results[False], results[True]
    return "\n".join(
        [
            "### Adaptive micro-batching — `minilm` embeddings at concurrency 32 — issue 3",
            "",
            "| batching | req/s | p50 ms | p99 ms | non-2xx |",
            "|---|---:|---:|---:|---:|",
            f"| off | {off.rps:,.0f} | {off.p50_ms:.1f} | {off.p99_ms:.1f} | {off.errors} |",
            f"| on (max 32, no added wait) | {on.rps:,.0f} | {on.p50_ms:.1f} | {on.p99_ms:.1f} | "
            f"{on.errors} |",
            "",
            f"Speed-up: **{on.rps / max(off.rps, 1e-9):.1f}×** (target ≥ 3×). One server process "
            "pinned to CPU 0 (the encoder runs on one thread), wrk on CPU 1.",
        ]
    )

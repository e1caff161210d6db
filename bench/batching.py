"""Issue 20 item 4: `minilm` embeddings at concurrency 32, with and without micro-batching.

Two servers (batching off, batching on), each pinned to CPU 0, wrk on CPU 1; rounds alternate
between them so that both see the same neighbours on a shared machine. Besides req/s, the
server's own CPU time per request (``/proc/<pid>/stat``) is reported: on a loaded machine it
is the fairer figure. Two workloads: the same 55-character text every time, and 64 distinct
texts of 1 to 60 words in turn (where a batch's padding matters).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson
import yaml

from bench.harness import ROOT, RunningServer, start_bastion, wrk

TEXT = "my parcel has not arrived and nobody answers the phone"


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


def _body(text: str) -> str:
    return orjson.dumps({"model": "minilm", "input": text}).decode()


def mixed_bodies(count: int = 64, seed: int = 20) -> list[str]:
    """``count`` distinct texts of 1 to 60 words (mostly short), cut from the docs."""
    words = [w for w in (ROOT / "docs" / "architecture.md").read_text().split() if w.isalpha()]
    rng = random.Random(seed)
    bodies = []
    for _ in range(count):
        size = rng.choice((1, 3, 6, 9, 12, 20, 30, 60))
        start = rng.randrange(len(words) - size)
        bodies.append(_body(" ".join(words[start : start + size])))
    return bodies


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Round:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server CPU time per request
    errors: int


def _round(server: RunningServer, bodies: list[str], seconds: int) -> Round:
    url = server.url + "/v1/embeddings"
    wrk(url, bodies[0], server.key, 32, 2, bodies=bodies)  # warm-up
    before = _cpu_seconds(server.proc.pid)
    result = wrk(url, bodies[0], server.key, 32, seconds, bodies=bodies)
    spent = _cpu_seconds(server.proc.pid) - before
    cpu_ms = 1000 * spent / max(result.rps * seconds, 1)
    return Round(result.rps, result.p50_ms, result.p99_ms, cpu_ms, result.errors)


def main(seconds: int = 5, rounds: int = 2) -> str:
    workloads = {"same text": [_body(TEXT)], "64 mixed texts": mixed_bodies()}
    servers = {
        enabled: start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(_config(enabled))})
        for enabled in (False, True)
    }
    runs: dict[tuple[str, bool], list[Round]] = {}
    try:
        for _ in range(rounds):
            for name, bodies in workloads.items():
                for enabled, server in servers.items():
                    runs.setdefault((name, enabled), []).append(_round(server, bodies, seconds))
    finally:
        for server in servers.values():
            server.stop()
    lines = [
        "### Adaptive micro-batching — `minilm` embeddings at concurrency 32 — issue 20 item 4",
        "",
        "| workload | batching | req/s | p50 ms | p99 ms | server CPU ms/req | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for name in workloads:
        for enabled in (False, True):
            rs = runs[(name, enabled)]
            lines.append(
                f"| {name} | {'on' if enabled else 'off'} "
                f"| {' / '.join(f'{r.rps:,.0f}' for r in rs)} "
                f"| {statistics.median(r.p50_ms for r in rs):.0f} "
                f"| {statistics.median(r.p99_ms for r in rs):.0f} "
                f"| {' / '.join(f'{r.cpu_ms:.2f}' for r in rs)} | {sum(r.errors for r in rs)} |"
            )
        off, on = runs[(name, False)], runs[(name, True)]
        rps = [b.rps / max(a.rps, 1e-9) for a, b in zip(off, on, strict=True)]
        cpu = [a.cpu_ms / max(b.cpu_ms, 1e-9) for a, b in zip(off, on, strict=True)]
        summary.append(
            f"- {name}: req/s on/off per round {', '.join(f'{x:.2f}×' for x in rps)}; "
            f"server CPU per request off/on {', '.join(f'{x:.2f}×' for x in cpu)} (target ≥ 3×)."
        )
    lines += ["", *summary, "", f"Rounds alternate off/on, {seconds} s each after 2 s of warm-up; "]
    lines[-1] += (
        "one server process per mode pinned to CPU 0 (the encoder runs on one thread), wrk on "
        f"CPU 1; load average at the end {os.getloadavg()[0]:.1f}."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())

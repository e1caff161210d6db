"""Issue 15 benchmark: what continuation and hedging cost a healthy stream (nothing, we hope).

One Bastion server (pinned to CPU 0) serves two groups over the same fault upstream (CPU 1,
no fault set): ``plain`` (continuation off, no hedging) and ``guarded`` (continuation by
restart, hedging after 1 s — never reached by a healthy stream, so the race is set up and
torn down on every request). Requests alternate between the groups so that both see the same
machine load; each measures the time to the first content chunk and to ``[DONE]`` with a
streaming httpx client. Bounded: a few hundred streams per group and concurrency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench.gateway_overhead import LATER_ISSUES_OFF, start_upstream
from bench.harness import start_bastion

GROUPS = ("plain", "guarded")
MESSAGES = [{"role": "user", "content": "hello there, how are you today"}]


def _config(upstream: str) -> Path:
    def group(name: str, continuation: str, hedge: int | None) -> dict[str, object]:
        up = {"base_url": upstream, "model": name, "continuation": continuation}
        return {"name": name, "upstreams": [up], "hedge_after_ms": hedge}

    cfg = Path(tempfile.mkdtemp()) / "bastion.yaml"
    settings = {
        **LATER_ISSUES_OFF,
        "demo": False,
        "llm": {"groups": [group("plain", "none", None), group("guarded", "restart", 1000)]},
    }
    cfg.write_text(yaml.safe_dump(settings))
    return cfg


async def _one(client: httpx.AsyncClient, url: str, model: str) -> tuple[float, float]:
    body = {"model": model, "messages": MESSAGES, "stream": True}
    started = time.perf_counter()
    first = 0.0
    async with client.stream("POST", url, json=body) as r:
        async for line in r.aiter_lines():
            if not first and '"content":"' in line and '"content":""' not in line:
                first = time.perf_counter() - started
            if line == "data: [DONE]":
                break
        else:
            raise RuntimeError(f"{model}: the stream did not end with [DONE]")
    return first * 1000, (time.perf_counter() - started) * 1000


async def _measure(
    url: str, key: str, streams: int, concurrency: int
) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {g: [] for g in GROUPS}
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as client:
        queue = [GROUPS[i % 2] for i in range(2 * streams)]  # alternating: the same load

        async def worker() -> None:
            while queue:
                model = queue.pop()
                out[model].append(await _one(client, url, model))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(streams: int = 400) -> str:
    upstream_proc, upstream = start_upstream(cpu=1)
    rows: list[str] = []
    load = os.getloadavg()
    try:
        server = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(_config(upstream))})
        try:
            url = server.url + "/v1/chat/completions"
            asyncio.run(_measure(url, server.key, 50, 4))  # warm-up
            for concurrency in (1, 16):
                results = asyncio.run(_measure(url, server.key, streams, concurrency))
                for group in GROUPS:
                    ttft = [r[0] for r in results[group]]
                    total = [r[1] for r in results[group]]
                    rows.append(
                        f"| {group} | {concurrency} | {len(total)} | "
                        f"{statistics.median(ttft):.2f} | {_pct(ttft, 0.99):.2f} | "
                        f"{statistics.median(total):.2f} | {_pct(total, 0.99):.2f} |"
                    )
        finally:
            server.stop()
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    after = os.getloadavg()
    return "\n".join(
        [
            "### Healthy streams with continuation and hedging on — issue 15",
            "",
            "Streamed chat completions through one Bastion server (CPU 0) to the fault upstream "
            "(CPU 1, no fault), alternating between a group with continuation off and no "
            "hedging (`plain`) and one with continuation by restart and `hedge_after_ms: 1000` "
            "(`guarded`; a healthy stream never reaches the hedge, but its race is set up and "
            "cancelled on every request). Times in ms from the request to the first content "
            "chunk and to `[DONE]`, measured by an httpx streaming client.",
            "",
            "| group | concurrency | streams | first chunk p50 | p99 | whole stream p50 | p99 |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Machine load average (1 min) {load[0]:.1f} before, {after[0]:.1f} after: the "
            "machine is shared, so compare the two groups of one run (they alternate request "
            "by request), not runs.",
        ]
    )


if __name__ == "__main__":
    print(main())

"""Issue 15 benchmark: what continuation and hedging cost a healthy stream (nothing, we hope).

One Bastion server (pinned to CPU 0) serves two groups over the same fault upstream (CPU 1,
no fault set): ``plain`` (continuation off, no hedging) and ``guarded`` (continuation by
restart, hedging after 1 s — never reached by a healthy stream, so the race is set up and
torn down on every request); each group is served by its own server process, and a third
runs the code from before continuation and hedging existed (the parent of the commit that
added ``bastion/gateway/route.py``, exported by ``git archive``) with the same ``plain``
group. All three are pinned to CPU 0 and take a third of the requests each.
Requests rotate between the three so that all see the same machine load; each measures the
time to the first content chunk and to ``[DONE]`` with a streaming httpx client. Bounded: a
few hundred streams per group and concurrency.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench.gateway_overhead import LATER_ISSUES_OFF, start_upstream
from bench.harness import ROOT, start_bastion

GROUPS = ("before", "plain", "guarded")
MESSAGES = [{"role": "user", "content": "hello there, how are you today"}]


def _config(upstream: str, *, before: bool = False) -> Path:
    def group(name: str, continuation: str, hedge: int | None) -> dict[str, object]:
        up = {"base_url": upstream, "model": name, "continuation": continuation}
        return {"name": name, "upstreams": [up], "hedge_after_ms": hedge}

    groups = [group("plain", "none", None), group("guarded", "restart", 1000)]
    if before:  # settings that predate both features
        groups = [{"name": "plain", "upstreams": [{"base_url": upstream, "model": "plain"}]}]
    cfg = Path(tempfile.mkdtemp()) / "bastion.yaml"
    settings = {**LATER_ISSUES_OFF, "demo": False, "llm": {"groups": groups}}
    cfg.write_text(yaml.safe_dump(settings))
    return cfg


def _code_before() -> Path:
    """The package as it was just before continuation and hedging (git archive to a temp dir)."""
    git = ["git", "-C", str(ROOT)]
    added = subprocess.run(
        [*git, "log", "--diff-filter=A", "--format=%H", "--", "bastion/gateway/route.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    out = Path(tempfile.mkdtemp(prefix="bastion-before-"))
    archive = subprocess.run(
        [*git, "archive", f"{added}^", "bastion"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


async def _one(client: httpx.AsyncClient, url: str, key: str, group: str) -> tuple[float, float]:
    model = "plain" if group == "before" else group
    body = {"model": model, "messages": MESSAGES, "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    first = 0.0
    async with client.stream("POST", url, json=body, headers=headers) as r:
        async for line in r.aiter_lines():
            if not first and '"content":"' in line and '"content":""' not in line:
                first = time.perf_counter() - started
            if line == "data: [DONE]":
                break
        else:
            raise RuntimeError(f"{model}: the stream did not end with [DONE]")
    return first * 1000, (time.perf_counter() - started) * 1000


Servers = dict[str, tuple[str, str]]  # group → (url, key)


async def _measure(
    servers: Servers, streams: int, concurrency: int
) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {g: [] for g in GROUPS}
    limits = httpx.Limits(max_connections=concurrency * 4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        queue = [GROUPS[i % len(GROUPS)] for i in range(len(GROUPS) * streams)]  # in turn

        async def worker() -> None:
            while queue:
                group = queue.pop()
                url, key = servers[group]
                out[group].append(await _one(client, url, key, group))

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
        twin = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(_config(upstream))})
        old_env = {"BASTION_CONFIG": str(_config(upstream, before=True))}
        old = start_bastion(cpu=0, extra_env={**old_env, "PYTHONPATH": str(_code_before())})
        try:
            route = "/v1/chat/completions"
            servers: Servers = {
                "before": (old.url + route, old.key),
                "plain": (server.url + route, server.key),
                "guarded": (twin.url + route, twin.key),
            }
            asyncio.run(_measure(servers, 50, 4))  # warm-up
            for concurrency in (1, 16):
                results = asyncio.run(_measure(servers, streams, concurrency))
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
            twin.stop()
            old.stop()
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    after = os.getloadavg()
    return "\n".join(
        [
            "### Healthy streams with continuation and hedging on — issue 15",
            "",
            "Streamed chat completions to the fault upstream (CPU 1, no fault), rotating "
            "request by request between: `before`, a server running the code from before "
            "continuation and hedging; and, with this code, a group with continuation off and "
            "no hedging (`plain`) and one with continuation by restart and "
            "`hedge_after_ms: 1000` (`guarded`: a healthy stream never reaches the hedge, but "
            "its timer is set and cancelled on every request). Each is served by its own "
            "server process; all three are pinned to CPU 0. Times in ms from the request to "
            "the first content chunk and to `[DONE]`, measured by an httpx streaming client.",
            "",
            "| group | concurrency | streams | first chunk p50 | p99 | whole stream p50 | p99 |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Machine load average (1 min) {load[0]:.1f} before, {after[0]:.1f} after: the "
            "machine is shared, so compare the rows of one run (they take turns request by "
            "request), not runs.",
        ]
    )


if __name__ == "__main__":
    print(main())

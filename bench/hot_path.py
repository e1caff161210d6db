"""Issue 20 benchmark: Bastion with every default on against the floor of a Python gateway.

In one run, with the same fault upstream (no fault set) on CPU 1 and each system pinned to CPU
0, wrk on CPU 1: the bare floor proxy (bench/floor_proxy.py), Bastion with every default on,
Bastion with the observability, guard, audit and monitoring stages off, and LiteLLM's proxy
when it can be installed. Rounds alternate between the systems so that a noisy minute hurts
them alike; the table gives medians and the spread (min–max) over the rounds, and the ratios
to the floor beside DESIGN.md's budget: ≥ 50 % of the floor's req/s at c=64, a c=1 p50 within
0.5 ms of the floor's, a c=1 p99 ≤ 2 ms, and the server's RSS.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.gateway_overhead import (
    BODY,
    LITELLM_KEY,
    bastion_config,
    start_litellm,
    start_upstream,
)
from bench.harness import WrkResult, free_port, pinned, start_bastion, wrk

ROUNDS = 3
SECONDS = 8


@dataclass
class Running:
    url: str
    key: str
    pid: int
    stop: Callable[[], None]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_floor(upstream: str) -> Running:
    port = free_port()
    proc = subprocess.Popen(
        pinned([sys.executable, "-m", "bench.floor_proxy", str(port), upstream], 0),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url + "/v1/chat/completions", content=BODY, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)

    def stop() -> None:
        proc.terminate()
        proc.wait(20)

    return Running(url, "sk-floor", proc.pid, stop)


def start_system(name: str, upstream: str) -> Running | None:
    if name == "floor":
        return start_floor(upstream)
    if name == "litellm":
        lite = start_litellm(upstream, cpu=0)
        if lite is None:
            return None
        proc, url = lite

        def stop_lite() -> None:
            proc.terminate()
            proc.wait(20)

        return Running(url, LITELLM_KEY, proc.pid, stop_lite)
    config = bastion_config(upstream, only_issue3=name == "bastion-lean")
    server = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(config)})
    return Running(server.url, server.key, server.proc.pid, server.stop)


SYSTEMS = {
    "floor": "bare floor proxy (uvicorn + Starlette + aiohttp + orjson)",
    "bastion": "Bastion, every default on (fsync'd audit included)",
    "bastion-lean": "Bastion, guards, audit, monitoring, alerts, logs and metrics off",
    "litellm": "LiteLLM proxy, 1 worker",
}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Round:
    c1: WrkResult
    c64: WrkResult
    rss_mib: float
    cpu_us: float  # server CPU per request at c=64: what a saturated core would allow


def _round(upstream: str, name: str, seconds: int) -> Round | None:
    system = start_system(name, upstream)
    if system is None:
        return None
    try:
        url = system.url + "/v1/chat/completions"
        wrk(url, BODY, system.key, 8, 3)  # warm-up
        c1 = wrk(url, BODY, system.key, 1, seconds)
        before = _cpu_s(system.pid)
        c64 = wrk(url, BODY, system.key, 64, seconds)
        cpu_us = (_cpu_s(system.pid) - before) / max(c64.rps * seconds, 1) * 1e6
        return Round(c1, c64, _rss_mib(system.pid), cpu_us)
    finally:
        system.stop()


def _spread(values: list[float], fmt: str) -> str:
    med = statistics.median(values)
    return f"{med:{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


def main(systems: Sequence[str] | None = None, rounds: int = ROUNDS, seconds: int = SECONDS) -> str:
    names = [n for n in SYSTEMS if systems is None or n in systems]
    upstream_proc, upstream = start_upstream(cpu=1)
    runs: dict[str, list[Round]] = {n: [] for n in names}
    loads: list[float] = []
    try:
        for round_no in range(rounds):
            for name in names:
                if name == "litellm" and not runs["litellm"] and round_no > 0:
                    continue  # not installable on the first round: do not retry
                loads.append(os.getloadavg()[0])
                got = _round(upstream, name, seconds)
                if got is not None:
                    runs[name].append(got)
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    rows = []
    for name in names:
        done = runs[name]
        if not done:
            continue
        rows.append(
            f"| {SYSTEMS[name]} | {_spread([r.c64.rps for r in done], ',.0f')} "
            f"| {_spread([r.cpu_us for r in done], ',.0f')} "
            f"| {_spread([r.c1.p50_ms for r in done], '.2f')} "
            f"| {_spread([r.c1.p99_ms for r in done], '.2f')} "
            f"| {_spread([r.rss_mib for r in done], '.0f')} |"
        )
    lines = [
        "### Hot path against the floor — issue 20",
        "",
        f"Non-streamed chat completions, {rounds} alternating rounds of {seconds} s per "
        "concurrency; medians with the (min–max) spread over the rounds. CPU µs/req is the "
        "server's own CPU time per request during the c=64 run (user + system, every thread): "
        "on a shared machine it is the figure least moved by other load, and its inverse is "
        f"what one saturated core allows. Load average during the run: {min(loads):.1f}–"
        f"{max(loads):.1f} on {os.cpu_count()} CPUs.",
        "",
        "| between client and upstream | req/s c=64 | CPU µs/req c=64 | p50 ms c=1 "
        "| p99 ms c=1 | RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ]
    if runs.get("floor") and runs.get("bastion"):
        floor, bastion = runs["floor"], runs["bastion"]
        floor_rps = statistics.median(r.c64.rps for r in floor)
        floor_cpu = statistics.median(r.cpu_us for r in floor)
        floor_p50 = statistics.median(r.c1.p50_ms for r in floor)
        rps = statistics.median(r.c64.rps for r in bastion)
        cpu = statistics.median(r.cpu_us for r in bastion)
        p50 = statistics.median(r.c1.p50_ms for r in bastion)
        p99 = statistics.median(r.c1.p99_ms for r in bastion)
        rss = statistics.median(r.rss_mib for r in bastion)
        lines += [
            "",
            f"Bastion with every default on keeps **{rps / floor_rps:.0%}** of the floor's "
            f"req/s at c=64 by wrk and **{floor_cpu / cpu:.0%}** by CPU per request "
            f"(target ≥ 50 %); its c=1 p50 is **{p50 - floor_p50:+.2f} ms** from the "
            f"floor's (target ≤ +0.5 ms), its c=1 p99 **{p99:.2f} ms** (target ≤ 2 ms), "
            f"RSS **{rss:.0f} MiB** (target ≤ 150 MiB).",
        ]
        if runs.get("litellm"):
            lite = statistics.median(r.c64.rps for r in runs["litellm"])
            lines.append(f"Against LiteLLM at c=64: **{rps / lite:.1f}×**.")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(main(sys.argv[1:] or None, int(os.environ.get("ROUNDS", ROUNDS)), SECONDS))

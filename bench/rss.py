"""Issue 20 item 3: the resident memory of one ``bastion serve`` worker.

``python -m bench.rss [requests]``: a fresh server with the hot-path bench's configuration
(every default on, the bench's LLM group, the fault upstream), its RSS once ready and after
``requests`` (default 2,000) sequential chat completions with distinct messages, with
``/proc/PID/smaps_rollup``'s split and the server's CPU time per request.

``python -m bench.rss demo``: the demo server's RSS at its first start and at a restart.

``python -m bench.rss soak SECONDS [connections]``: the same server under wrk (c=16 unless
told, 5,000 distinct messages in turn) for SECONDS, its RSS sampled every 10 s.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson

from bench.gateway_overhead import bastion_config, start_upstream
from bench.harness import machine, start_bastion, wrk


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rollup(pid: int) -> str:
    keep = ("Rss", "Pss_Anon", "Pss_File", "Private_Dirty", "Shared_Clean")
    out = []
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key = line.split(":")[0]
        if key in keep:
            out.append(f"{key} {int(line.split()[1]) / 1024:.1f}")
    return ", ".join(out)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def body(i: int) -> str:
    text = f"hello there, message {i}: what does order {i * 7919 % 100_003} need?"
    return orjson.dumps(
        {"model": "bench", "messages": [{"role": "user", "content": text}], "max_tokens": 16}
    ).decode()


def requests_run(n: int) -> None:
    upstream, url = start_upstream(cpu=1)
    server = start_bastion(
        cpu=0, extra_env={"BASTION_CONFIG": str(bastion_config(url, only_issue3=False))}
    )
    try:
        pid = server.proc.pid
        time.sleep(3)  # guards finish loading in a thread after readiness
        start = rss_mib(pid)
        print(f"start: RSS {start:.1f} MiB ({rollup(pid)})", flush=True)
        cpu0 = cpu_s(pid)
        with httpx.Client(headers={"Authorization": f"Bearer {server.key}"}) as client:
            for i in range(n):
                r = client.post(
                    server.url + "/v1/chat/completions",
                    content=body(i),
                    headers={"Content-Type": "application/json"},
                )
                r.raise_for_status()
        used = cpu_s(pid) - cpu0
        libs = sorted(
            {
                name
                for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
                for name in ("scipy", "alembic", "sklearn", "onnxruntime", "sqlalchemy")
                if f"/{name}/" in line
            }
        )
        print(
            f"native libraries mapped: {', '.join(libs) or 'none of the watched'}; "
            f"after {n}: RSS {rss_mib(pid):.1f} MiB ({rollup(pid)}); "
            f"server CPU {used / n * 1e6:,.0f} µs/request",
            flush=True,
        )
    finally:
        server.stop()
        upstream.terminate()
        upstream.wait(20)


def soak(seconds: int, connections: int) -> None:
    upstream, url = start_upstream(cpu=1)
    server = start_bastion(
        cpu=0, extra_env={"BASTION_CONFIG": str(bastion_config(url, only_issue3=False))}
    )
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        t0 = time.monotonic()
        while not done.is_set():
            samples.append((time.monotonic() - t0, rss_mib(server.proc.pid)))
            print(f"  t={samples[-1][0]:5.0f}s RSS {samples[-1][1]:.1f} MiB", flush=True)
            done.wait(10)

    try:
        time.sleep(3)  # guards finish loading in a thread after readiness
        print(f"ready: RSS {rss_mib(server.proc.pid):.1f} MiB", flush=True)
        thread = threading.Thread(target=sample, daemon=True)
        cpu0 = cpu_s(server.proc.pid)
        thread.start()
        bodies = [body(i) for i in range(5000)]
        r = wrk(
            server.url + "/v1/chat/completions",
            bodies[0],
            server.key,
            connections,
            seconds,
            bodies=bodies,
        )
        done.set()
        thread.join()
        used = cpu_s(server.proc.pid) - cpu0
        end = rss_mib(server.proc.pid)
        rss = [s for _, s in samples] + [end]
        print(
            f"wrk c={connections} {seconds}s: {r.rps:,.0f} req/s, p50 {r.p50_ms:.2f} ms, "
            f"p99 {r.p99_ms:.2f} ms, errors {r.errors}; server CPU {used:.1f} s "
            f"({used / max(1, r.rps * seconds) * 1e6:,.0f} µs/request)"
        )
        print(f"RSS MiB: start {rss[0]:.1f}, min {min(rss):.1f}, max {max(rss):.1f}, end {end:.1f}")
        print("curve:", " ".join(f"{s:.0f}" for s in rss))
    finally:
        server.stop()
        upstream.terminate()
        upstream.wait(20)


def demo() -> None:
    """The demo server (``make serve``: no config, demo models on): RSS at its first start
    (which trains and registers the demo models) and at a restart on the same data dir."""
    first = start_bastion(cpu=0)
    data_dir = str(first.data_dir)
    try:
        time.sleep(3)
        print(f"demo, first start: RSS {rss_mib(first.proc.pid):.1f} MiB", flush=True)
    finally:
        first.stop()
    again = start_bastion(cpu=0, extra_env={"BASTION_DATA_DIR": data_dir})
    try:
        time.sleep(3)
        pid = again.proc.pid
        print(f"demo, restart: RSS {rss_mib(pid):.1f} MiB ({rollup(pid)})", flush=True)
    finally:
        again.stop()


def main(argv: list[str]) -> None:
    print(machine(), "| load", os.getloadavg(), flush=True)
    if argv and argv[0] == "demo":
        demo()
    elif argv and argv[0] == "soak":
        soak(int(argv[1]), int(argv[2]) if len(argv) > 2 else 16)
    else:
        requests_run(int(argv[0]) if argv else 2000)
    print("load", os.getloadavg())


if __name__ == "__main__":
    main(sys.argv[1:])

"""Issue 20: the CPU one upstream POST costs, aiohttp's ClientSession against ``backends/http1``.

64 tasks POST the bench's chat body to the fault upstream (another process, pinned to CPU 1)
over keep-alive connections; the figure is this process's CPU time per call, after a warm-up,
in alternating rounds: ``python -m bench.upstream_client [calls] [rounds] [uvloop]``. Each side
is used as ``openai_upstream`` uses it (aiohttp: ``TCPConnector(limit=100, keepalive 30 s)``,
``ClientTimeout(sock_connect, sock_read)``; http1: ``Endpoint.post`` with the same timeouts),
the whole answer read and parsed with orjson, under ``asyncio.timeout`` as on the hot path.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import orjson

from bastion.backends.http1 import Http1Client, encode_headers
from bench.gateway_overhead import BODY, start_upstream

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
PAYLOAD = BODY.encode()
CONCURRENCY = 64


async def _drive(one: Callable[[], Awaitable[None]], calls: int) -> float:
    per_task = calls // CONCURRENCY

    async def task() -> None:
        for _ in range(per_task):
            await one()

    await asyncio.gather(*(one() for _ in range(CONCURRENCY)))  # warm: open the connections
    started = time.process_time()
    await asyncio.gather(*(task() for _ in range(CONCURRENCY)))
    return (time.process_time() - started) / (per_task * CONCURRENCY) * 1e6


async def with_aiohttp(url: str, calls: int) -> float:
    connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
    timeout = aiohttp.ClientTimeout(sock_connect=2.0, sock_read=10.0)
    async with aiohttp.ClientSession(connector=connector, raise_for_status=False) as session:

        async def one() -> None:
            async with asyncio.timeout(600):
                async with session.post(
                    url + "/chat/completions", data=PAYLOAD, headers=HEADERS, timeout=timeout
                ) as resp:
                    raw = await resp.read()
            orjson.loads(raw)

        return await _drive(one, calls)


async def with_http1(url: str, calls: int) -> float:
    head = encode_headers(HEADERS)
    async with Http1Client(limit=100, keepalive_s=30) as client:
        endpoint = client.endpoint(url)

        async def one() -> None:
            async with asyncio.timeout(600):
                resp = await endpoint.post(
                    "/chat/completions", PAYLOAD, head, connect_timeout=2.0, read_timeout=10.0
                )
                try:
                    raw = await resp.read()
                finally:
                    resp.release()
            orjson.loads(raw)

        return await _drive(one, calls)


def main(calls: int = 6400, rounds: int = 4, loop: str = "asyncio") -> dict[str, object]:
    run: Callable[[Awaitable[float]], float] = asyncio.run  # type: ignore[assignment]
    if loop == "uvloop":
        import uvloop

        run = uvloop.run  # type: ignore[assignment]
    proc, url = start_upstream(cpu=1)
    figures: dict[str, list[float]] = {"aiohttp": [], "http1": []}
    try:
        for _ in range(rounds):
            figures["aiohttp"].append(round(run(with_aiohttp(url, calls)), 1))
            figures["http1"].append(round(run(with_http1(url, calls)), 1))
    finally:
        proc.terminate()
        proc.wait()
    medians = {name: statistics.median(values) for name, values in figures.items()}
    return {
        "loop": loop,
        "cpu_us_per_call": figures,
        "median": medians,
        "saved_us": round(medians["aiohttp"] - medians["http1"], 1),
        "load": os.getloadavg(),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    result = main(
        int(args[0]) if args else 6400,
        int(args[1]) if len(args) > 1 else 4,
        args[2] if len(args) > 2 else "asyncio",
    )
    print(orjson.dumps(result).decode())

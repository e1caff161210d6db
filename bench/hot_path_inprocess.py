"""Issue 20, in-process: the CPU a chat completion costs inside the ASGI app, without HTTP.

64 tasks call ``app(scope, receive, send)`` directly (Bastion with every default on, or the
floor proxy's Starlette app), against the fault upstream in another process; the figure is
this process's CPU time (every thread) per request. On a shared machine it moves far less
than wall-clock rates, so two checkouts can be compared by alternating runs:
``PYTHONPATH=<checkout> python -m bench.hot_path_inprocess bastion|floor [requests] [varied]``
(run it from the checkout's own directory: ``-m`` puts the current directory first on the
path). ``varied`` makes every message distinct ("hello there, message 17"), so no per-text
memo serves a request from an earlier one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bench.gateway_overhead import BODY, bastion_config, start_upstream

Message = MutableMapping[str, Any]
App = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
KEY = "bst_inprocess_" + os.urandom(8).hex()


CHAT = "/v1/chat/completions"


def scope(state: dict[str, Any], length: int, path: str = CHAT, key: str = KEY) -> Message:
    """A POST of ``length`` JSON bytes to ``path`` with ``key``, as uvicorn would pass it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),
    }


async def one_request(
    app: App,
    state: dict[str, Any],
    statuses: dict[int, int],
    body: bytes,
    path: str = CHAT,
    key: str = KEY,
) -> None:
    """Send ``body`` through ``app`` in process; count the answer's status in ``statuses``."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    await app(scope(state, len(body), path, key), receive, send)


async def _drive(
    app: App, state: dict[str, Any], requests: int, varied: bool = False
) -> tuple[float, dict[int, int]]:
    statuses: dict[int, int] = {}
    todo = iter(range(requests))
    plain = BODY.encode()

    async def worker() -> None:
        for n in todo:
            body = BODY.replace("hello there", f"hello there, message {n}") if varied else ""
            await one_request(app, state, statuses, body.encode() if varied else plain)

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(64)))
    return (time.process_time() - started) / requests * 1e6, statuses


async def _measure(
    kind: str, upstream: str, requests: int, rounds: int, varied: bool = False
) -> list[float]:
    app: Any
    if kind == "floor":
        from bench.floor_proxy import build

        app = build(upstream)
    else:
        os.environ["BASTION_DATA_DIR"] = tempfile.mkdtemp(prefix="bastion-inprocess-")
        os.environ["BASTION_ADMIN_KEY"] = KEY
        os.environ["BASTION_CONFIG"] = str(bastion_config(upstream, only_issue3=False))
        os.environ["BASTION_LOGGING__LEVEL"] = "warning"
        from bastion.app import app_from_environment
        from bastion.bootstrap import prepare
        from bastion.settings import load_settings

        await prepare(load_settings(), lambda *_: None)
        app = app_from_environment()
    async with app.router.lifespan_context(app) as state:
        await _drive(app, state or {}, 300)  # warm-up
        out = []
        for _ in range(rounds):
            cpu_us, statuses = await _drive(app, state or {}, requests, varied)
            if set(statuses) != {200}:
                raise RuntimeError(f"not every answer was 200: {statuses}")
            out.append(cpu_us)
        return out


def main(kind: str = "bastion", requests: int = 3000, rounds: int = 3, varied: bool = False) -> str:
    import uvloop

    upstream_proc, upstream = start_upstream(cpu=1)
    try:
        got = uvloop.run(_measure(kind, upstream, requests, rounds, varied))
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    return orjson.dumps(
        {
            "kind": kind,
            "varied": varied,
            "cpu_us_per_request": [round(v) for v in got],
            "load": os.getloadavg(),
        }
    ).decode()


if __name__ == "__main__":
    args = sys.argv[1:]
    print(
        main(
            args[0] if args else "bastion",
            int(args[1]) if len(args) > 1 else 3000,
            varied="varied" in args[2:],
        )
    )

"""The edge of the world for action tests: a small idempotent HTTP receiver in a thread.

It records every delivery by its Idempotency-Key (``deliveries`` counts every request that
reached it, ``accepted`` the keys it took), can fail a share of requests with 503, answer a
Retry-After, refuse everything (``down``: the port is closed) and check If-Match on a
versioned resource (``/items/{id}``: 412 on a stale version).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from typing import Any

from aiohttp import web

from tests.e2e.server import free_port


class Receiver:
    def __init__(self, *, fail_rate: float = 0.0, seed: int = 7) -> None:
        self.port = free_port()
        self.fail_rate = fail_rate
        self.fail_status = 503
        self.retry_after: str | None = None
        self.always: int | None = None  # answer this status to everything
        self.refuse_paths: set[str] = set()  # answer 400 (permanent) on these paths
        self.rng = random.Random(seed)
        self.deliveries: Counter[str] = Counter()  # every request, by key
        self.accepted: dict[str, Any] = {}  # key → first body accepted
        self.duplicates = 0  # accepted keys delivered again after success (deduped here)
        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []  # beside ``headers``: every request's raw body
        self.items: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._thread.start()

    def reset(self) -> None:
        with self.lock:
            self.deliveries.clear()
            self.accepted.clear()
            self.headers.clear()
            self.bodies.clear()
            self.duplicates = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def start(self) -> Receiver:
        self._call(self._start())
        return self

    def down(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/items/{id}", self._item)
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _any(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        body = await request.read()
        with self.lock:
            self.deliveries[key] += 1
            self.headers.append(dict(request.headers))
            self.bodies.append(body)
            if self.always is not None:
                return web.Response(status=self.always)
            if request.path in self.refuse_paths:
                return web.Response(status=400)
            if self.rng.random() < self.fail_rate:
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return web.Response(status=self.fail_status, headers=headers)
            if key in self.accepted:
                self.duplicates += 1
                return web.json_response({"ok": True, "duplicate": True})
            self.accepted[key] = {"path": request.path, "body": body.decode()}
        return web.json_response({"ok": True})

    async def _item(self, request: web.Request) -> web.Response:
        item_id = request.match_info["id"]
        sent = await request.json() if request.method != "GET" else {}
        with self.lock:
            item = self.items.setdefault(item_id, {"version": 1, "value": None})
            etag = f'"{item["version"]}"'
            if request.method == "GET":
                return web.json_response(item, headers={"ETag": etag})
            if request.headers.get("If-Match") not in (etag, "*"):
                return web.Response(status=412, headers={"ETag": etag})
            item["value"] = sent.get("value")
            item["version"] += 1
            key = request.headers.get("Idempotency-Key", "")
            self.deliveries[key] += 1
            self.accepted[key] = item["value"]
        return web.json_response(item, headers={"ETag": f'"{item["version"]}"'})

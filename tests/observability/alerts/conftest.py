"""Fixtures for alerting tests: a local webhook receiver (the edge of the world) and clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST; ``fail`` answers with errors."""

    url: str = ""
    bodies: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    fail: list[int] = field(default_factory=list)  # statuses to answer first, in order
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def at(self, path: str) -> str:
        return self.url + path

    def posted(self, path: str | None = None) -> list[dict[str, Any]]:
        return [body for p, body, _ in self.bodies if path is None or p == path]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def handle(request: web.Request) -> web.Response:
        if rec.fail:
            return web.Response(status=rec.fail.pop(0))
        rec.bodies.append((request.path, orjson.loads(await request.read()), dict(request.headers)))
        rec.arrived.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}"
    yield rec
    await runner.cleanup()


class Wall:
    """A wall clock for records that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def wall() -> Wall:
    return Wall()

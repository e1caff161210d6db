"""The floor of a Python gateway: the least a proxy can do between a client and an upstream.

uvicorn (uvloop, httptools) + one Starlette route + one aiohttp ``ClientSession`` + orjson:
parse the body, forward it, parse the answer, send it back. No auth, no limits, no records.
Bastion's figures are read against this (DESIGN.md, "Performance budget"), measured in the
same run with the same upstream and pinning. Run: ``python -m bench.floor_proxy PORT UPSTREAM``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(upstream: str) -> Starlette:
    sessions: list[aiohttp.ClientSession] = []

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256)
        sessions.append(aiohttp.ClientSession(connector=connector))
        yield
        await sessions[0].close()

    async def chat(request: Request) -> Response:
        body = orjson.loads(await request.body())
        async with sessions[0].post(
            upstream + "/chat/completions",
            data=orjson.dumps(body),
            headers={"content-type": "application/json", "authorization": "Bearer sk-floor"},
        ) as answer:
            payload = orjson.loads(await answer.read())
        return Response(orjson.dumps(payload), media_type="application/json")

    return Starlette(
        routes=[Route("/v1/chat/completions", chat, methods=["POST"])], lifespan=lifespan
    )


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2].rstrip("/")
    uvicorn.run(
        build(upstream),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

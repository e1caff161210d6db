"""Small scripted HTTP/1.1 servers for the HTTP client's edge cases (the real socket edge)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Handler = Callable[["Peer"], Awaitable[None]]


@dataclass
class Peer:
    """One accepted connection, its index (0 for the first) and the requests read on it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    index: int
    requests: list[bytes] = field(default_factory=list)

    async def request(self) -> bytes | None:
        """The next request (head and body), or None at the end of the connection."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        whole = head + await self.reader.readexactly(length)
        self.requests.append(whole)
        return whole

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


def answer(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


@dataclass
class Server:
    port: int
    peers: list[Peer]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@asynccontextmanager
async def serving(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    peers: list[Peer] = []
    tasks: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(reader, writer, len(peers))
        peers.append(peer)
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(peer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a test server's connection ends with its test, however it ends
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=ssl_context)
    try:
        yield Server(server.sockets[0].getsockname()[1], peers)
    finally:
        server.close()
        for peer in peers:
            peer.writer.close()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=1)
            for task in pending:
                task.cancel()
        await server.wait_closed()


async def keep_answering(peer: Peer, body: bytes = b'{"ok": true}') -> None:
    while await peer.request() is not None:
        await peer.send(answer(body))

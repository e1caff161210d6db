"""One HTTP/1.1 answer as it arrives: status, headers, body pieces and its per-read timer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from bastion.backends.http1_errors import Http1Error, PayloadError, ReadTimeout, ServerDisconnected

if TYPE_CHECKING:
    from bastion.backends.http1_connection import Http1Connection

# Reading from the socket pauses while this many body bytes wait for the reader.
HIGH_WATER = 1 << 20
# A status line and headers longer than this are refused (aiohttp allows 8 KiB a line).
MAX_HEAD = 1 << 16


class Headers(Mapping[str, str]):
    """An answer's headers, looked up without regard to case (the last value of a name wins)."""

    __slots__ = ("_items",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._items = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class Http1Response:
    """Filled by its connection; read with ``read`` (all) or ``read_chunk`` (what has come).

    ``release`` must follow: it closes the connection unless the whole answer arrived (then
    the connection is already back in its pool).
    """

    __slots__ = (
        "_conn",
        "_error",
        "_gap",
        "_loop",
        "_pieces",
        "_size",
        "_timer",
        "_waiter",
        "complete",
        "head_bytes",
        "head_done",
        "last_read",
        "raw_headers",
        "received",
        "status",
    )

    def __init__(
        self, conn: Http1Connection, loop: asyncio.AbstractEventLoop, read_timeout: float | None
    ) -> None:
        self._conn: Http1Connection | None = conn
        self._loop = loop
        self._pieces: list[bytes] = []
        self._size = 0
        self._error: Http1Error | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._gap = read_timeout
        self._timer: asyncio.TimerHandle | None = None
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.head_done = self.complete = self.received = False
        self.head_bytes = 0
        self.last_read = loop.time()
        if read_timeout is not None:
            self._timer = loop.call_at(self.last_read + read_timeout, self._check_gap)

    @property
    def headers(self) -> Headers:
        return Headers(self.raw_headers)

    # -- fed by the connection ------------------------------------------------------------

    def head_complete(self, status: int) -> None:
        self.status = status
        self.head_done = True
        self._wake()

    def feed(self, piece: bytes) -> None:
        self._pieces.append(piece)
        self._size += len(piece)
        if self._size > HIGH_WATER and self._conn is not None:
            self._conn.pause()
        self._wake()

    def finish(self) -> None:
        """The whole answer arrived; the connection no longer belongs to this answer."""
        self.complete = True
        self._conn = None
        if self._timer is not None:
            self._timer.cancel()
        self._wake()

    def fail(self, error: Http1Error) -> None:
        if self._error is not None or self.complete:
            return  # the first end is the one the reader sees
        self._error = error
        self._conn = None
        if self._timer is not None:
            self._timer.cancel()
        self._wake()

    def lost(self, exc: Exception | None) -> None:
        """The connection closed before the answer was complete."""
        if self._error is not None or self.complete:
            return
        if self.head_done and not any(
            k.lower() in (b"content-length", b"transfer-encoding") for k, _ in self.raw_headers
        ):
            self.finish()  # a body framed by the end of the connection
            return
        error: Http1Error = PayloadError("the connection closed in the middle of the body")
        if not self.head_done:
            error = ServerDisconnected("the server closed the connection before answering")
        if exc is not None:
            error.__cause__ = exc
        self.fail(error)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _check_gap(self) -> None:
        assert self._gap is not None
        due = self.last_read + self._gap
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check_gap)
            return
        self._timer = None
        conn = self._conn
        self.fail(ReadTimeout(f"nothing arrived within {self._gap:g}s"))
        if conn is not None:
            conn.close()

    # -- read by the caller ---------------------------------------------------------------

    async def _wait(self) -> None:
        if self._error is not None:
            raise self._error
        waiter = self._waiter = self._loop.create_future()
        await waiter
        if self._error is not None:
            raise self._error

    async def wait_head(self) -> None:
        while not self.head_done:
            await self._wait()

    async def read(self) -> bytes:
        """The whole body."""
        while not self.complete:
            await self._wait_for_body()
        return b"".join(self._pieces)

    async def read_chunk(self) -> bytes:
        """The body bytes that have arrived (waiting for some); ``b""`` at the end."""
        while not self._pieces and not self.complete:
            await self._wait()
        data = b"".join(self._pieces)
        self._pieces.clear()
        self._size = 0
        if self._conn is not None:
            self._conn.resume()
        return data

    async def _wait_for_body(self) -> None:
        if self._size > HIGH_WATER and self._conn is not None:
            joined = b"".join(self._pieces)  # keep it all: ``read`` wants the whole body
            self._pieces[:] = [joined]
            self._size = 0
            self._conn.resume()
        await self._wait()

    def release(self) -> None:
        """Done with this answer: an unfinished one closes its connection."""
        if self._timer is not None:
            self._timer.cancel()
        conn, self._conn = self._conn, None
        if conn is not None and not self.complete:
            conn.close()

"""The keep-alive connections to one origin: a limit, an idle timeout, and a clean close."""

from __future__ import annotations

import asyncio
import ssl
from collections import deque

from bastion.backends.http1_connection import Http1Connection
from bastion.backends.http1_errors import ClientClosed, ConnectFailed, ConnectTimeout


class OriginPool:
    """At most ``limit`` connections (open or opening) to ``host:port``; the most recently
    used idle one is reused first; one idle for more than ``keepalive_s`` is closed."""

    def __init__(
        self,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        *,
        limit: int,
        keepalive_s: float,
    ) -> None:
        self._host, self._port, self._ssl = host, port, ssl_context
        self._limit = max(1, limit)
        self._keepalive = keepalive_s
        self._idle: list[Http1Connection] = []
        self._all: set[Http1Connection] = set()
        self._opening = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._prune: asyncio.TimerHandle | None = None
        self.closed = False

    @property
    def open_connections(self) -> int:
        return len(self._all)

    @property
    def idle_connections(self) -> int:
        return sum(1 for conn in self._idle if not conn.closed)

    async def acquire(self, connect_timeout: float, *, fresh: bool = False) -> Http1Connection:
        """A connection of this origin: an idle one (unless ``fresh``) or a new one."""
        loop = asyncio.get_running_loop()
        while True:
            if self.closed:
                raise ClientClosed("the HTTP client was closed")
            idle = self._idle
            while idle and not fresh:
                conn = idle.pop()
                if conn.closed or conn.transport is None or conn.transport.is_closing():
                    continue
                if loop.time() - conn.idle_since > self._keepalive:
                    conn.close()
                    continue
                conn.reused = True
                return conn
            if len(self._all) + self._opening < self._limit:
                return await self._connect(loop, connect_timeout)
            await self._wait_for_room(loop)

    async def _wait_for_room(self, loop: asyncio.AbstractEventLoop) -> None:
        waiter = loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # the room given to us goes to the next in line
            else:
                self._waiters.remove(waiter)
            raise

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, connect_timeout: float
    ) -> Http1Connection:
        self._opening += 1
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Http1Connection(loop, self._done, self._lost),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                )
        except TimeoutError:
            self._wake_one()
            raise ConnectTimeout(f"no connection within {connect_timeout:g}s") from None
        except OSError as exc:
            self._wake_one()
            raise ConnectFailed(f"cannot connect: {exc}") from exc
        except BaseException:
            self._wake_one()
            raise
        finally:
            self._opening -= 1
        if self.closed:
            conn.close()
            raise ClientClosed("the HTTP client was closed")
        self._all.add(conn)
        return conn

    def _done(self, conn: Http1Connection, keep_alive: bool) -> None:
        """A whole answer arrived on ``conn``: keep it for the next request, or close it."""
        if keep_alive and not conn.closed and not self.closed:
            loop = asyncio.get_running_loop()
            conn.idle_since = loop.time()
            self._idle.append(conn)
            if self._prune is None:
                self._prune = loop.call_later(self._keepalive, self._close_expired)
        else:
            conn.close()
        self._wake_one()

    def _lost(self, conn: Http1Connection) -> None:
        self._all.discard(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _close_expired(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        keep = []
        for conn in self._idle:
            if conn.closed:
                continue
            if now - conn.idle_since > self._keepalive:
                conn.close()
            else:
                keep.append(conn)
        self._idle[:] = keep
        self._prune = None
        if keep:
            due = min(conn.idle_since for conn in keep) + self._keepalive
            self._prune = loop.call_at(due + 0.001, self._close_expired)

    def close(self) -> None:
        """Close every connection, busy or idle; waiting requests fail with ``ClientClosed``."""
        self.closed = True
        if self._prune is not None:
            self._prune.cancel()
            self._prune = None
        for conn in list(self._all):
            conn.close()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

"""A lean keep-alive HTTP/1.1 client for the OpenAI upstream path (asyncio + httptools).

Measured against aiohttp's ClientSession on the same POST (bench/RESULTS.md, issue 20), it
spends a fraction of the CPU per call: it does only what the upstream path needs — POST,
Content-Length or chunked answers, body streaming, TLS, per-origin keep-alive pools — and no
cookies, redirects, proxies (like today's session: ``trust_env`` off) or decompression.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import urlsplit

from bastion.backends.http1_errors import ServerDisconnected
from bastion.backends.http1_pool import OriginPool
from bastion.backends.http1_response import Http1Response


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Header lines for a request; a name or value that would split the request is refused."""
    lines = []
    for name, value in headers.items():
        if not name or any(c in name for c in ":\r\n") or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} cannot be sent: it holds a colon or a line break")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1")


class Endpoint:
    """POSTs to paths under one base URL, over its origin's pool."""

    __slots__ = ("_host_line", "_pool", "_prefix", "_starts")

    def __init__(self, pool: OriginPool, prefix: str, host_line: bytes) -> None:
        self._pool = pool
        self._prefix = prefix
        self._host_line = host_line
        self._starts: dict[str, bytes] = {}

    def _start(self, path: str) -> bytes:
        start = self._starts.get(path)
        if start is None:
            target = (self._prefix + path).encode("ascii")
            start = self._starts[path] = b"POST " + target + b" HTTP/1.1\r\n" + self._host_line
        return start

    async def post(
        self,
        path: str,
        body: bytes,
        head: bytes,
        *,
        connect_timeout: float,
        read_timeout: float | None,
    ) -> Http1Response:
        """Send the request; return once the answer's status and headers arrived.

        ``head`` is the encoded header lines (``encode_headers``). ``read_timeout`` bounds
        each wait for bytes (None: unbounded). A reused connection the server had closed is
        retried once on a new one, only if not one byte of the answer came.
        """
        data = b"%b%bContent-Length: %d\r\n\r\n%b" % (self._start(path), head, len(body), body)
        fresh = False
        while True:
            conn = await self._pool.acquire(connect_timeout, fresh=fresh)
            try:
                response = conn.send(data, read_timeout)
            except (OSError, RuntimeError) as exc:  # the transport closed under us
                conn.close()
                if conn.reused and not fresh:
                    fresh = True
                    continue
                raise ServerDisconnected("the connection closed before the request went") from exc
            try:
                await response.wait_head()
            except ServerDisconnected:
                response.release()
                if conn.reused and not response.received and not fresh:
                    fresh = True
                    continue
                raise
            except BaseException:
                response.release()
                raise
            return response


class Http1Client:
    """Keep-alive pools per origin, each at most ``limit`` connections; an idle connection
    closes after ``keepalive_s``. ``https`` verifies certificates (``ssl_context`` or the
    system's default). Close it (``close`` or ``async with``) inside the loop that used it."""

    def __init__(
        self,
        *,
        limit: int = 100,
        keepalive_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._limit = limit
        self._keepalive = keepalive_s
        self._ssl = ssl_context
        self._pools: dict[tuple[str, str, int], OriginPool] = {}
        self.closed = False

    def endpoint(self, base_url: str) -> Endpoint:
        """The endpoint for ``base_url`` (``http`` or ``https``, no query)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{base_url!r} is not an http(s) URL: give e.g. https://host/v1")
        if parts.query or parts.fragment or parts.username:
            raise ValueError(f"{base_url!r}: a base URL has no query, fragment or credentials")
        https = parts.scheme == "https"
        host = parts.hostname
        port = parts.port or (443 if https else 80)
        key = (parts.scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            context = (self._ssl or ssl.create_default_context()) if https else None
            if https and self._ssl is None:
                self._ssl = context
            pool = OriginPool(host, port, context, limit=self._limit, keepalive_s=self._keepalive)
            self._pools[key] = pool
            if self.closed:
                pool.close()
        name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
        if port != (443 if https else 80):
            name = f"{name}:{port}"
        host_line = f"Host: {name}\r\nUser-Agent: bastion\r\n".encode("ascii")
        return Endpoint(pool, parts.path.rstrip("/"), host_line)

    async def close(self) -> None:
        self.closed = True
        for pool in self._pools.values():
            pool.close()

    async def __aenter__(self) -> Http1Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""One keep-alive HTTP/1.1 connection: an asyncio Protocol that feeds httptools' parser."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import httptools

from bastion.backends.http1_errors import ProtocolError
from bastion.backends.http1_response import MAX_HEAD, Http1Response


class Http1Connection(asyncio.Protocol):
    """Carries one answer at a time; tells its pool when an answer is complete or it closed.

    ``on_done(conn, keep_alive)`` runs when a whole answer arrived, ``on_lost(conn)`` once
    when the connection is gone. ``reused`` is set by the pool when it comes from idle.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_done: Callable[[Http1Connection, bool], None],
        on_lost: Callable[[Http1Connection], None],
    ) -> None:
        self._loop = loop
        self._time = loop.time
        self._on_done = on_done
        self._on_lost = on_lost
        self._parser = httptools.HttpResponseParser(self)
        self._response: Http1Response | None = None
        self._paused = False
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0

    # -- used by the pool and the answer ---------------------------------------------------

    def send(self, data: bytes, read_timeout: float | None) -> Http1Response:
        response = self._response = Http1Response(self, self._loop, read_timeout)
        assert self.transport is not None
        self.transport.write(data)
        return response

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        response = self._response
        if response is None:  # bytes nobody asked for: the connection cannot be trusted
            self.close()
            return
        response.received = True
        response.last_read = self._time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            error = ProtocolError(f"the server's answer is not valid HTTP/1.1: {exc}")
            error.__cause__ = exc
            self._refuse(response, error)
            return
        if not response.head_done:  # still in the status line and headers
            response.head_bytes += len(data)
            if response.head_bytes > MAX_HEAD:
                self._refuse(response, ProtocolError("the answer's head is over 64 KiB"))

    def _refuse(self, response: Http1Response, error: ProtocolError) -> None:
        self._response = None
        response.fail(error)
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response, self._response = self._response, None
        if response is not None:
            response.lost(exc)
        self._on_lost(self)

    # -- httptools callbacks ----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._response is not None:
            self._response.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        response = self._response
        if response is not None:
            response.head_complete(self._parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        if self._response is not None:
            self._response.feed(body)

    def on_message_complete(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            keep_alive = self._parser.should_keep_alive()
            if self._paused:  # paused for this answer's unread body: the next must be read
                self.resume()
            response.finish()
            self._on_done(self, keep_alive)

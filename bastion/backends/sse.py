"""Server-Sent Events: an incremental parser (bytes in, events out, any chunk boundaries) and
the encoder of one JSON ``data:`` event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event (WHATWG semantics: ``data`` lines joined with newlines)."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Feed it bytes as they arrive; it returns the events completed so far.

    Lines may end in ``\\n``, ``\\r\\n`` or ``\\r`` and may be split anywhere, even between
    ``\\r`` and ``\\n`` or inside a UTF-8 sequence. Comments (``:``) are skipped; an event with
    no ``data`` is not dispatched; a leading byte-order mark is dropped.
    """

    __slots__ = ("_after_cr", "_buffer", "_data", "_event", "_id", "_retry", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._after_cr = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    @property
    def pending(self) -> bool:
        """Whether a partial line or an undispatched event is held back."""
        return bool(self._buffer or self._data)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._after_cr:  # the previous chunk ended in \r: a \n here belongs to it
            self._after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started and buffer:
            if len(buffer) < 3 and b"\xef\xbb\xbf".startswith(buffer):
                self._buffer = buffer
                return []
            self._started = True
            buffer = buffer.removeprefix(b"\xef\xbb\xbf")
        lines = buffer.splitlines(keepends=True)
        self._buffer = b""
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            self._buffer = lines.pop()
        if lines and lines[-1].endswith(b"\r"):
            self._after_cr = True
        events: list[SSEEvent] = []
        for raw in lines:
            event = self._line(raw.rstrip(b"\r\n").decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[SSEEvent]:
        """At end of stream: dispatch an event whose lines are complete but lacks a blank line.

        A partial last line is dropped (the stream was cut inside it).
        """
        self._buffer = b""
        event = self._line("")
        return [] if event is None else [event]

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, self._data = self._data, []
        event, self._event = self._event, ""
        if not data:
            return None
        return SSEEvent("\n".join(data), event or "message", self._id, self._retry)


def encode_event(obj: Any) -> bytes:
    """One ``data:`` event holding ``obj`` as JSON (what OpenAI-compatible streams send)."""
    return b"data: " + orjson.dumps(obj) + b"\n\n"

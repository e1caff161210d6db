"""One plain-HTTP/1.1 exchange over a socket, for the CLI's requests to ``http://`` servers.

``http.client`` pulls in the ``email`` package and ``ssl`` (about 20 ms of CPU, a sixth of a
read-only command's start); a request with ``Connection: close`` and a reply read by length,
by chunks or to the end needs only ``socket``. ``https://`` keeps ``http.client``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import IO, Any

Answer = tuple[int, bytes, dict[str, str]]  # status, body (empty when streamed), headers
MAX_HEADER_LINE = 65536


class BadReply(ConnectionError):
    """The server's answer was not HTTP/1.x as expected."""


def exchange(
    host: str,
    port: int,
    timeout_s: float,
    request: tuple[str, str, bytes | IO[bytes] | None, Mapping[str, str]],
    sink: Callable[[bytes], Any] | None,
    chunk: int,
) -> Answer:
    """Send ``(method, target, body, headers)`` over a fresh connection and read the answer;
    with ``sink``, a successful answer's body goes there ``chunk`` bytes at a time."""
    method, target, body, headers = request
    named = f"[{host}]" if ":" in host else host  # an IPv6 address
    lines = [f"{method} {target} HTTP/1.1", f"host: {named}:{port}", "connection: close"]
    given = {k.lower() for k in headers}
    if isinstance(body, bytes | bytearray) and "content-length" not in given:
        lines.append(f"content-length: {len(body)}")
    elif body is None and method in ("POST", "PUT", "PATCH"):
        lines.append("content-length: 0")
    elif body is not None and "content-length" not in given:  # a stream: sent by chunks
        lines.append("transfer-encoding: chunked")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        framed = "transfer-encoding: chunked" in lines
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        cut = _send(sock, head, body, chunk, framed=framed)
        with sock.makefile("rb") as stream:
            try:
                status, found = _head(stream)
            except OSError:
                if cut is not None:
                    raise cut from None
                raise BadReply("the server closed the connection without answering") from None
            out = sink if sink is not None and status < 400 else None
            parts: list[bytes] = []
            for piece in _body(stream, found, chunk):
                if out is not None:
                    out(piece)
                else:
                    parts.append(piece)
    return status, b"".join(parts), found


def _send(
    sock: socket.socket,
    head: bytes,
    body: bytes | IO[bytes] | None,
    chunk: int,
    *,
    framed: bool = False,
) -> OSError | None:
    """Send the request (a stream without a length ``framed`` in HTTP/1.1 chunks); a server
    that refuses a body it will not read (a 413 on an upload) answers and closes before it
    has all: the error is kept, and its answer read first."""
    try:
        sock.sendall(head)
        if isinstance(body, bytes | bytearray):
            sock.sendall(body)
        elif body is not None:
            while data := body.read(chunk):
                sock.sendall(b"%x\r\n%b\r\n" % (len(data), data) if framed else data)
            if framed:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError) as exc:
        return exc
    return None


def _line(stream: IO[bytes]) -> bytes:
    line = stream.readline(MAX_HEADER_LINE + 1)
    if len(line) > MAX_HEADER_LINE:
        raise BadReply("a header line of the answer is too long")
    return line


def _head(stream: IO[bytes]) -> tuple[int, dict[str, str]]:
    status_line = _line(stream).decode("latin-1").split(None, 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise BadReply(f"not an HTTP/1.x answer: {' '.join(status_line)[:80]!r}")
    try:
        status = int(status_line[1])
    except ValueError as exc:
        raise BadReply(f"a bad status in {' '.join(status_line)[:80]!r}") from exc
    found: dict[str, str] = {}
    while (line := _line(stream)) not in (b"\r\n", b"\n", b""):
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            found[name.strip().lower()] = value.strip()
    return status, found


def _body(stream: IO[bytes], headers: Mapping[str, str], chunk: int) -> Any:
    """The body's pieces: by chunks, by length, or up to the end of the connection."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = _line(stream).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadReply(f"a bad chunk size {size_line[:20]!r}") from exc
            if size == 0:
                while _line(stream) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return
            yield _exactly(stream, size)
            _line(stream)
    elif "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            piece = _exactly(stream, min(chunk, left))
            left -= len(piece)
            yield piece
    else:
        while piece := stream.read(chunk):
            yield piece


def _exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise BadReply(f"the answer ended {size - len(data)} bytes early")
    return data

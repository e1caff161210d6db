"""The CLI's plain-HTTP exchange: bodies by length, by chunks and to the end; what it sends."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator

import pytest

from bastion.cli.wire import BadReply, exchange


@pytest.fixture
def canned() -> Iterator[tuple[int, list[bytes], list[bytes]]]:
    """A one-connection-at-a-time server answering the next canned reply; requests recorded."""
    replies: list[bytes] = []
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(x.split(b":")[1])
                        for x in head.split(b"\r\n")
                        if x.startswith(b"content-length")
                    ),
                    0,
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                while b"transfer-encoding: chunked" in head and not rest.endswith(b"0\r\n\r\n"):
                    rest += conn.recv(65536)
                seen.append(head + b"\r\n\r\n" + rest)
                conn.sendall(replies.pop(0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], replies, seen
    listener.close()


def test_bodies_by_length_by_chunks_and_to_the_end(
    canned: tuple[int, list[bytes], list[bytes]],
) -> None:
    port, replies, seen = canned
    replies += [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
        b"HTTP/1.0 404 Not Found\r\n\r\nall of it",
    ]
    request = ("POST", "/p?q=1", b'{"a":1}', {"content-type": "application/json"})
    assert exchange("127.0.0.1", port, 5, request, None, 2) == (
        200,
        b"hello",
        {"content-length": "5", "x-a": "1"},
    )
    pieces: list[bytes] = []
    status, body, _ = exchange("127.0.0.1", port, 5, ("GET", "/x", None, {}), pieces.append, 4)
    assert (status, body, pieces) == (201, b"", [b"abc", b"de"])
    assert exchange("127.0.0.1", port, 5, ("GET", "/y", None, {}), None, 4)[:2] == (
        404,
        b"all of it",
    )
    first = seen[0].decode()
    assert first.startswith("POST /p?q=1 HTTP/1.1\r\n") and f"host: 127.0.0.1:{port}" in first
    assert "content-length: 7" in first and first.endswith('{"a":1}')


def test_a_reply_that_is_not_http_is_a_connection_error(
    canned: tuple[int, list[bytes], list[bytes]],
) -> None:
    port, replies, _ = canned
    replies.append(b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(BadReply):
        exchange("127.0.0.1", port, 5, ("GET", "/", None, {}), None, 1024)
    assert issubclass(BadReply, OSError)  # the CLI says it cannot reach the server


def test_a_streamed_body_without_a_length_is_sent_in_chunks(
    canned: tuple[int, list[bytes], list[bytes]],
) -> None:
    """A file body (an upload) has no content-length: it goes in HTTP/1.1 chunks, so the
    server reads all of it (sent bare, it would read an empty body)."""
    port, replies, seen = canned
    replies.append(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    upload = io.BytesIO(b"pid\np1\np2\n")
    status, body, _ = exchange("127.0.0.1", port, 5.0, ("POST", "/u", upload, {}), None, 4)
    assert (status, body) == (200, b"ok")
    head, _, sent = seen[0].partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head and b"content-length" not in head
    assert sent == b"4\r\npid\n\r\n4\r\np1\np\r\n2\r\n2\n\r\n0\r\n\r\n"

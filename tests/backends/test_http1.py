"""The lean HTTP/1.1 client against real local servers: framing, streaming, keep-alive, TLS."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from bastion.backends.http1 import Http1Client, encode_headers
from bastion.backends.http1_errors import (
    ConnectFailed,
    PayloadError,
    ProtocolError,
    ReadTimeout,
    ServerDisconnected,
)
from bastion.backends.http1_response import Http1Response
from bastion.backends.openai_upstream import OpenAIUpstream, UpstreamTimeouts
from bastion.errors import Timeout, UpstreamUnavailable
from bastion.testing import FaultUpstream
from tests.backends.http_servers import (
    Peer,
    answer,
    chunk,
    keep_answering,
    serving,
)
from tests.certificates import self_signed

HEAD = encode_headers({"Content-Type": "application/json"})
CHAT = {"messages": [{"role": "user", "content": "hello"}]}


async def post(
    client: Http1Client, url: str, body: bytes = b"{}", read_timeout: float = 2.0
) -> Http1Response:
    return await client.endpoint(url).post(
        "/chat/completions", body, HEAD, connect_timeout=1.0, read_timeout=read_timeout
    )


async def test_keep_alive_reuses_one_connection_and_sends_a_complete_request() -> None:
    async with serving(keep_answering) as server, Http1Client(limit=4) as client:
        for _ in range(3):
            response = await post(client, server.url, b'{"a": 1}')
            assert (response.status, await response.read()) == (200, b'{"ok": true}')
            response.release()
        assert len(server.peers) == 1
        first = server.peers[0].requests[0]
        assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in first
        assert b"Content-Type: application/json\r\nContent-Length: 8\r\n\r\n" in first
        assert first.endswith(b'{"a": 1}')
        assert len(server.peers[0].requests) == 3
        pool = client._pools[("http", "127.0.0.1", server.port)]
        assert (pool.open_connections, pool.idle_connections) == (1, 1)


async def test_chunked_answer_streams_piece_by_piece() -> None:
    second = asyncio.Event()

    async def handler(peer: Peer) -> None:
        await peer.request()
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n\r\n"
        await peer.send(head + chunk(b"data: one\n\n"))
        await second.wait()
        await peer.send(chunk(b"data: two\n\n") + b"0\r\n\r\n")
        await keep_answering(peer)

    async with serving(handler) as server, Http1Client() as client:
        response = await post(client, server.url)
        assert response.headers["retry-after"] == response.headers.get("RETRY-AFTER") == "3"
        assert await response.read_chunk() == b"data: one\n\n"  # before the second was sent
        second.set()
        assert await response.read_chunk() == b"data: two\n\n"
        assert await response.read_chunk() == b""
        response.release()
        again = await post(client, server.url)  # the connection went back to the pool
        assert await again.read() == b'{"ok": true}'
        assert len(server.peers) == 1


async def test_a_large_body_arrives_whole() -> None:
    body = bytes(range(256)) * 4_500  # 1.1 MiB: reading pauses once over 1 MiB, and resumes

    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(answer(body))

    async with serving(handler) as server, Http1Client() as client:
        for _ in range(3):  # over one connection, whose reading must not stay paused
            response = await post(client, server.url)
            assert await response.read() == body
        assert len(server.peers) == 1


async def test_a_body_framed_by_the_end_of_the_connection() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")

    async with serving(handler) as server, Http1Client() as client:
        response = await post(client, server.url)
        assert await response.read() == b"until the end"
        await asyncio.sleep(0.01)
        pool = client._pools[("http", "127.0.0.1", server.port)]
        assert pool.open_connections == 0


async def test_connection_close_answer_is_not_kept() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer(b"{}", extra="Connection: close\r\n"))
        await peer.request()  # the client must not send a second request here

    async with serving(handler) as server, Http1Client() as client:
        for _ in range(2):
            response = await post(client, server.url)
            assert await response.read() == b"{}"
        assert [len(peer.requests) for peer in server.peers] == [1, 1]


async def test_a_stale_keep_alive_connection_is_retried_once_on_a_new_one() -> None:
    async def handler(peer: Peer) -> None:
        if peer.index == 0:  # answers once, then drops the next request unanswered
            await peer.request()
            await peer.send(answer(b"first"))
            await peer.request()
            return
        await keep_answering(peer, b"second")

    async with serving(handler) as server, Http1Client() as client:
        assert await (await post(client, server.url)).read() == b"first"
        assert await (await post(client, server.url)).read() == b"second"
        assert len(server.peers) == 2
        assert len(server.peers[0].requests) == 2  # the lost one, then its retry on peer 1
        assert len(server.peers[1].requests) == 1


async def test_no_retry_once_part_of_the_answer_came_or_on_a_new_connection() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        if peer.index == 0:
            await peer.send(answer(b"first"))
            await peer.request()
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Le")  # then the connection closes
        # peer 1 (and any later one) closes without a word

    async with serving(handler) as server, Http1Client() as client:
        assert await (await post(client, server.url)).read() == b"first"
        with pytest.raises(ServerDisconnected):
            await post(client, server.url)
        assert len(server.peers) == 1
        with pytest.raises(ServerDisconnected):
            await post(client, server.url)  # a new connection: not retried
        assert len(server.peers) == 2


async def test_a_body_cut_short_is_a_payload_error() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")

    async with serving(handler) as server, Http1Client() as client:
        response = await post(client, server.url)
        with pytest.raises(PayloadError):
            await response.read()


async def test_a_silent_server_hits_the_read_timeout_and_the_connection_is_closed() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        if peer.index == 1:  # the head, then nothing more of the body
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await peer.reader.read()  # until the client hangs up

    async with serving(handler) as server, Http1Client() as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ReadTimeout):
            await post(client, server.url, read_timeout=0.1)
        assert 0.09 <= loop.time() - started < 1
        response = await post(client, server.url, read_timeout=0.1)
        with pytest.raises(ReadTimeout):
            await response.read()
        await asyncio.sleep(0.01)
        assert client._pools[("http", "127.0.0.1", server.port)].open_connections == 0


async def test_the_read_timeout_is_per_read_not_in_all() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(4):  # 0.2 s in all, never 0.1 s without a byte
            await asyncio.sleep(0.05)
            await peer.send(chunk(b"x"))
        await peer.send(b"0\r\n\r\n")

    async with serving(handler) as server, Http1Client() as client:
        response = await post(client, server.url, read_timeout=0.1)
        assert await response.read() == b"xxxx"


async def test_a_malformed_status_line_is_a_protocol_error_mapped_as_before() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}")

    async with serving(handler) as server, Http1Client() as client:
        with pytest.raises(ProtocolError):
            await post(client, server.url)
        upstream = OpenAIUpstream(server.url, "", session=client, model="m")
        with pytest.raises(UpstreamUnavailable, match="ProtocolError"):  # as aiohttp's was
            await upstream.chat(CHAT, None)


async def test_an_endless_head_is_refused() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"x" * 70_000 + b"\r\n")
        await peer.reader.read()

    async with serving(handler) as server, Http1Client() as client:
        with pytest.raises(ProtocolError, match="64 KiB"):
            await post(client, server.url)


async def test_a_silent_upstream_is_a_silent_timeout_for_chat() -> None:
    async def handler(peer: Peer) -> None:
        await peer.request()
        await peer.reader.read()

    timeouts = UpstreamTimeouts(connect=1, first_token=0.1, idle=0.1, total=2)
    async with serving(handler) as server, Http1Client() as client:
        upstream = OpenAIUpstream(server.url, "", session=client, timeouts=timeouts, model="m")
        with pytest.raises(Timeout) as info:
            await upstream.chat(CHAT, None)
        assert info.value.details["silent"] is True


async def test_tls_verifies_the_certificate_by_default(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    async with serving(keep_answering, served) as server:
        url = f"https://127.0.0.1:{server.port}/v1"
        async with Http1Client() as client:
            with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
                await post(client, url)
            upstream = OpenAIUpstream(url, "", session=client, model="m")
            with pytest.raises(UpstreamUnavailable, match="unreachable"):
                await upstream.chat(CHAT, None)
        trusting = ssl.create_default_context(cafile=str(cert))
        async with Http1Client(ssl_context=trusting) as client:
            for _ in range(2):
                response = await post(client, url)
                assert await response.read() == b'{"ok": true}'
        assert len(server.peers) == 1  # the refused handshake never reached the server's code
        assert len(server.peers[0].requests) == 2  # both over one kept connection
        assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in server.peers[0].requests[0]


async def test_the_fault_upstream_answers_chat_and_streams_over_one_connection() -> None:
    upstream = FaultUpstream()
    await upstream.start()
    try:
        async with Http1Client(limit=2) as client:
            openai = OpenAIUpstream(upstream.base_url, "", session=client, model="m")
            assert (await openai.chat(CHAT, None))["object"] == "chat.completion"
            chunks = [c async for c in openai.stream_chat(CHAT, None)]
            assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
            assert (await openai.chat(CHAT, None))["choices"]
            pool = next(iter(client._pools.values()))
            assert (pool.open_connections, pool.idle_connections) == (1, 1)
    finally:
        await upstream.stop()


def test_header_lines_that_would_split_the_request_are_refused() -> None:
    assert encode_headers({"A": "1", "B": "two"}) == b"A: 1\r\nB: two\r\n"
    for bad in ({"A": "1\r\nEvil: yes"}, {"A:B": "1"}, {"": "1"}, {"A": "x\ny"}):
        with pytest.raises(ValueError, match="cannot be sent"):
            encode_headers(bad)


def test_a_base_url_that_is_not_http_is_refused() -> None:
    client = Http1Client()
    for bad in ("ftp://host/v1", "http:///v1", "http://host/v1?x=1", "http://u:p@host/v1"):
        with pytest.raises(ValueError):
            client.endpoint(bad)


def test_the_client_runs_on_uvloop_as_the_server_does() -> None:
    """uvicorn runs Bastion on uvloop, whose transports are not ``asyncio.Transport``s."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        async with serving(keep_answering) as server, Http1Client() as client:
            for _ in range(2):
                response = await post(client, server.url)
                assert await response.read() == b'{"ok": true}'
            assert len(server.peers) == 1

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())

"""The per-origin pool: its connection limit, idle timeout, cancellation and shutdown."""

from __future__ import annotations

import asyncio

import pytest

from bastion.backends.http1 import Http1Client, encode_headers
from bastion.backends.http1_errors import ClientClosed, PayloadError
from bastion.backends.http1_response import Http1Response
from tests.backends.http_servers import Peer, Server, answer, chunk, keep_answering, serving

HEAD = encode_headers({"Accept": "application/json"})


async def post(client: Http1Client, url: str) -> Http1Response:
    return await client.endpoint(url).post("/x", b"{}", HEAD, connect_timeout=1.0, read_timeout=2.0)


def counts(client: Http1Client, server: Server) -> tuple[int, int]:
    pool = client._pools[("http", "127.0.0.1", server.port)]
    return pool.open_connections, pool.idle_connections


async def test_the_limit_bounds_connections_and_waiters_get_them_in_turn() -> None:
    async def slow(peer: Peer) -> None:
        while await peer.request() is not None:
            await asyncio.sleep(0.01)
            await peer.send(answer(b"ok"))

    async with serving(slow) as server, Http1Client(limit=2) as client:

        async def one() -> bytes:
            response = await post(client, server.url)
            return await response.read()

        assert await asyncio.gather(*(one() for _ in range(10))) == [b"ok"] * 10
        assert len(server.peers) == 2
        assert sum(len(peer.requests) for peer in server.peers) == 10
        assert counts(client, server) == (2, 2)


async def test_an_idle_connection_closes_after_the_keepalive_timeout() -> None:
    async with serving(keep_answering) as server, Http1Client(keepalive_s=0.05) as client:
        assert await (await post(client, server.url)).read() == b'{"ok": true}'
        assert counts(client, server) == (1, 1)
        await asyncio.sleep(0.2)
        assert counts(client, server) == (0, 0)
        assert server.peers[0].writer.is_closing()  # the server saw the end and hung up
        assert await (await post(client, server.url)).read() == b'{"ok": true}'
        assert len(server.peers) == 2


async def test_a_cancelled_request_closes_its_connection_and_frees_its_room() -> None:
    async def stall_first(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.reader.read()
            return
        await keep_answering(peer)

    async with serving(stall_first) as server, Http1Client(limit=1) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await post(client, server.url)
        await asyncio.sleep(0.01)
        assert counts(client, server) == (0, 0)
        assert await (await post(client, server.url)).read() == b'{"ok": true}'


async def test_releasing_an_unfinished_answer_closes_the_connection() -> None:
    async def endless(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(b"a"))
        await peer.reader.read()

    async with serving(endless) as server, Http1Client() as client:
        response = await post(client, server.url)
        assert await response.read_chunk() == b"a"
        response.release()
        await asyncio.sleep(0.01)
        assert counts(client, server) == (0, 0)


async def test_close_ends_every_connection_and_refuses_new_requests() -> None:
    async def endless(peer: Peer) -> None:
        if peer.index == 0:
            await peer.request()
            await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            await peer.reader.read()
            return
        await keep_answering(peer)

    async with serving(endless) as server:
        client = Http1Client()
        streaming = await post(client, server.url)  # busy on peer 0
        await (await post(client, server.url)).read()  # idle on peer 1
        assert counts(client, server) == (2, 1)
        await client.close()
        with pytest.raises(PayloadError):
            await streaming.read_chunk()
        await asyncio.sleep(0.01)
        assert all(peer.writer.is_closing() for peer in server.peers)  # each saw the end
        assert counts(client, server) == (0, 0)
        with pytest.raises(ClientClosed):
            await post(client, server.url)

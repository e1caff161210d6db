"""OpenAIUpstream against the real fault upstream: every fault becomes the right Bastion error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bastion.backends.http1 import Http1Client
from bastion.backends.openai_upstream import (
    OpenAIUpstream,
    UpstreamTimeouts,
    _Progress,
    create_session,
    error_from_status,
    map_upstream_errors,
)
from bastion.errors import (
    BastionError,
    ContentPolicyViolation,
    ContextLengthExceeded,
    InvalidRequest,
    MalformedUpstreamResponse,
    RateLimited,
    StreamTruncated,
    Timeout,
    UpstreamError,
    UpstreamUnavailable,
)
from bastion.resilience import Deadline, RetryPolicy, call_with_retry
from bastion.testing import FaultUpstream

KEY = "sk-test-DO-NOT-LEAK-1234"
TIMEOUTS = UpstreamTimeouts(connect=0.5, first_token=0.3, idle=0.3, total=2.0, after_finish=0.2)
CHAT = {"model": "alias", "messages": [{"role": "user", "content": "hello"}]}
# The reply to CHAT streams as: role chunk, 4 prefix words, "hello", finish chunk.
EVENTS = 7


@pytest.fixture
async def server() -> AsyncIterator[FaultUpstream]:
    upstream = FaultUpstream()
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def session() -> AsyncIterator[Http1Client]:
    async with create_session(limit=8) as s:
        yield s


@pytest.fixture
def client(server: FaultUpstream, session: Http1Client) -> OpenAIUpstream:
    return OpenAIUpstream(server.base_url, KEY, session=session, timeouts=TIMEOUTS, model="m")


async def collect(client: OpenAIUpstream, body: dict[str, Any] = CHAT) -> list[dict[str, Any]]:
    return [chunk async for chunk in client.stream_chat(body, Deadline.after(2))]


def no_key_in(exc: BaseException) -> None:
    assert KEY not in str(exc)
    assert KEY not in repr(getattr(exc, "details", {}))


async def test_chat_completions_and_embeddings(client: OpenAIUpstream) -> None:
    answer = await client.chat(CHAT, Deadline.after(1))
    assert answer["model"] == "m"
    assert answer["choices"][0]["message"]["content"].endswith("hello")
    assert answer["usage"] == {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6}
    text = await client.completions({"prompt": "a b c"}, None)
    assert text["choices"][0]["text"].endswith("a b c")
    vectors = await client.embeddings({"input": ["x", "y"], "dimensions": 8}, None)
    assert [len(d["embedding"]) for d in vectors["data"]] == [8, 8]


async def test_stream_yields_chunks_and_usage(client: OpenAIUpstream) -> None:
    body = {**CHAT, "stream_options": {"include_usage": True}}
    chunks = await collect(client, body)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text.endswith(" hello")
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 5


async def test_rate_limit_carries_retry_after(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    server.set_fault("m", "rate_limit", retry_after=2, times=2)
    with pytest.raises(RateLimited) as info:
        await client.chat(CHAT, None)
    assert info.value.retry_after == 2
    assert info.value.details["upstream_status"] == 429
    with pytest.raises(RateLimited):
        await collect(client)
    assert (await client.chat(CHAT, None))["choices"]


@pytest.mark.parametrize(
    ("fault", "params", "error"),
    [
        ("error_once", {}, UpstreamError),
        ("error", {"status": 502}, UpstreamUnavailable),
        ("unavailable", {}, UpstreamUnavailable),
        ("error", {"status": 400}, InvalidRequest),
        ("error", {"status": 404}, UpstreamError),
        ("context_length", {}, ContextLengthExceeded),
        ("content_policy", {}, ContentPolicyViolation),
        ("reset", {}, UpstreamUnavailable),
        ("hang", {}, Timeout),
        ("delay_first_token", {"seconds": 2}, Timeout),
        ("slow", {"seconds": 2}, Timeout),
        ("cut_stream", {"after": 1}, UpstreamUnavailable),
    ],
)
async def test_non_streaming_faults(
    client: OpenAIUpstream,
    server: FaultUpstream,
    fault: str,
    params: dict[str, Any],
    error: type[BastionError],
) -> None:
    server.set_fault("m", fault, **params)
    with pytest.raises(error) as info:
        await client.chat(CHAT, Deadline.after(1))
    no_key_in(info.value)
    assert info.value.details["forwarded"] is False
    if fault in {"context_length", "content_policy"}:
        assert isinstance(info.value, InvalidRequest)
        assert "injected" in info.value.message


@pytest.mark.parametrize(
    ("fault", "params", "error", "forwarded"),
    [
        ("unavailable", {}, UpstreamUnavailable, False),
        ("context_length", {}, ContextLengthExceeded, False),
        ("reset", {}, UpstreamUnavailable, False),
        ("hang", {}, Timeout, False),
        ("delay_first_token", {"seconds": 2}, Timeout, False),
        ("cut_stream", {"after": 0}, StreamTruncated, False),
        ("cut_stream", {"after": 3}, StreamTruncated, True),
        ("stall_stream", {"after": 2}, Timeout, True),
        ("malformed_chunk", {"after": 1}, MalformedUpstreamResponse, True),
    ],
)
async def test_streaming_faults(
    client: OpenAIUpstream,
    server: FaultUpstream,
    fault: str,
    params: dict[str, Any],
    error: type[BastionError],
    forwarded: bool,
) -> None:
    server.set_fault("m", fault, **params)
    with pytest.raises(error) as info:
        await collect(client)
    no_key_in(info.value)
    assert info.value.details["forwarded"] is forwarded


async def test_stream_without_done_after_finish_is_complete(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    server.set_fault("m", "omit_done")
    chunks = await collect(client)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    server.set_fault("m", "cut_stream", after=EVENTS)
    assert len(await collect(client)) == EVENTS


async def test_stream_that_stalls_after_finish_ends_promptly(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    server.set_fault("m", "stall_stream", after=EVENTS)
    async with asyncio.timeout(1):
        chunks = await collect(client)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_short_delays_are_within_the_timeouts(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    server.set_fault("m", "delay_first_token", seconds=0.01)
    assert len(await collect(client)) == EVENTS
    server.set_fault("m", "slow", seconds=0.01)
    assert (await client.chat(CHAT, None))["choices"]


async def test_deadline_bounds_the_whole_call(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    server.set_fault("m", "hang")
    with pytest.raises(Timeout):
        [c async for c in client.stream_chat(CHAT, Deadline.after(0.05))]
    with pytest.raises(Timeout):
        await client.chat(CHAT, Deadline.after(0.05))
    server.clear()
    before = server.stats()["total"]
    with pytest.raises(Timeout):
        await client.chat(CHAT, Deadline.after(0))
    assert server.stats()["total"] == before  # nothing was sent


async def test_flap_once_recovers(client: OpenAIUpstream, server: FaultUpstream) -> None:
    server.set_fault("m", "flap", down_s=0.1, once=True)
    with pytest.raises(UpstreamUnavailable):
        await client.chat(CHAT, None)
    async with asyncio.timeout(2):
        while True:
            try:
                await client.chat(CHAT, None)
                break
            except UpstreamUnavailable:
                await asyncio.sleep(0.02)


async def test_breaking_out_of_a_stream_leaves_the_client_usable(client: OpenAIUpstream) -> None:
    async for chunk in client.stream_chat(CHAT, None):
        assert chunk["object"] == "chat.completion.chunk"
        break
    assert (await client.chat(CHAT, None))["choices"]


async def test_connection_refused_is_unavailable(session: Http1Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenAIUpstream(f"http://127.0.0.1:{port}/v1", KEY, session=session, model="m")
    with pytest.raises(UpstreamUnavailable):
        await client.chat(CHAT, None)
    with pytest.raises(UpstreamUnavailable):
        await collect(client)


async def test_wrong_key_is_an_upstream_error_and_the_key_never_shows(
    session: Http1Client,
) -> None:
    server = FaultUpstream(api_key="sk-the-right-one")
    await server.start()
    try:
        client = OpenAIUpstream(server.base_url, KEY, session=session, model="m")
        assert KEY not in repr(client)
        with pytest.raises(UpstreamError) as info:
            await client.chat(CHAT, None)
        assert info.value.details["upstream_status"] == 401
        no_key_in(info.value)
    finally:
        await server.stop()


def test_error_mapping_redacts_the_key_and_reads_retry_after() -> None:
    body = b'{"error": {"message": "bad key sk-test-DO-NOT-LEAK-1234", "code": "x"}}'
    error = error_from_status(400, body, {}, upstream="u", secret=KEY)
    assert type(error) is InvalidRequest
    no_key_in(error)
    dated = error_from_status(
        503, b"oops", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, upstream="u"
    )
    assert isinstance(dated, UpstreamUnavailable)
    assert dated.retry_after == 0.0
    ms = error_from_status(429, b"", {"retry-after-ms": "250"}, upstream="u")
    assert ms.retry_after == 0.25
    assert type(error_from_status(500, b"[]", {}, upstream="u")) is UpstreamError


async def test_retry_recovers_from_error_once_but_not_after_forwarding(
    client: OpenAIUpstream, server: FaultUpstream
) -> None:
    policy = RetryPolicy(max_attempts=3, base_backoff_s=0.001, attempt_timeout_s=0.3)
    server.set_fault("m", "error_once")
    answer = await call_with_retry(
        lambda: client.chat(CHAT, None), policy, deadline=Deadline.after(2)
    )
    assert answer["choices"]
    assert server.stats()["models"]["m"] == {"requests": 2, "faulted": 1}

    server.set_fault("m", "cut_stream", after=3)
    with pytest.raises(StreamTruncated) as info:
        await call_with_retry(lambda: collect(client), policy, deadline=Deadline.after(2))
    assert info.value.details["retry_stopped"] == "not_retryable"
    assert isinstance(info.value, BastionError)


async def test_connect_timeout_is_a_timeout(session: Http1Client) -> None:
    with socket.socket() as listener:  # a full accept queue: SYNs are dropped, connect hangs
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        timeouts = UpstreamTimeouts(connect=0.1, first_token=1, idle=1, total=2)
        client = OpenAIUpstream(
            f"http://127.0.0.1:{port}/v1", KEY, session=session, timeouts=timeouts, model="m"
        )
        try:
            with pytest.raises(Timeout, match="connecting"):
                await client.chat(CHAT, None)
        finally:
            for filler in fillers:
                filler.close()


async def test_plain_calls_drop_stream_flags(client: OpenAIUpstream) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    assert (await client.chat(body, None))["object"] == "chat.completion"


def test_map_upstream_errors_maps_foreign_errors_and_tags_ours() -> None:
    """The one mapping block: a Bastion error gains ``upstream``/``forwarded``; a foreign
    one becomes its Bastion error (caused by it); a bug or a cancellation passes as it is."""
    ours = UpstreamUnavailable("down")
    with pytest.raises(UpstreamUnavailable) as tagged, map_upstream_errors(upstream="u"):
        raise ours
    assert tagged.value is ours and ours.details == {"upstream": "u", "forwarded": False}
    progress = _Progress(forwarded=True)
    cut = aiohttp.ClientPayloadError("cut")
    with (
        pytest.raises(UpstreamUnavailable) as mapped,
        map_upstream_errors(upstream="u", progress=progress),
    ):
        raise cut
    assert mapped.value.__cause__ is cut and mapped.value.details["forwarded"] is True
    for passing in (KeyError("bug"), asyncio.CancelledError()):
        with pytest.raises(type(passing)) as raised, map_upstream_errors(upstream="u"):
            raise passing
        assert raised.value is passing
    with map_upstream_errors(upstream="u"):
        pass

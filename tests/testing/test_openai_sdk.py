"""The official openai SDK, sync and async, talks to the fault upstream as to OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from bastion.testing import FaultUpstream, running_upstream

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "ping pong"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultUpstream]:
    with running_upstream(FaultUpstream(embedding_dim=32)) as upstream:
        yield upstream


@pytest.fixture
def sync_client(server: FaultUpstream) -> Iterator[openai.OpenAI]:
    server.clear()
    with openai.OpenAI(base_url=server.base_url, api_key="sk-x", max_retries=0, timeout=2) as c:
        yield c


@pytest.fixture
async def async_client(server: FaultUpstream) -> AsyncIterator[openai.AsyncOpenAI]:
    server.clear()
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-x", max_retries=0, timeout=2)
    async with client:
        yield client


def test_sync_chat_completion(sync_client: openai.OpenAI) -> None:
    answer = sync_client.chat.completions.create(model="gpt-x", messages=MESSAGES)
    assert answer.choices[0].message.content == "Bastion fault upstream says: ping pong"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.total_tokens == 8


def test_sync_stream_with_usage(sync_client: openai.OpenAI) -> None:
    stream = sync_client.chat.completions.create(
        model="gpt-x",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Bastion fault upstream says: ping pong"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6


def test_sync_completions_embeddings_and_models(sync_client: openai.OpenAI) -> None:
    text = sync_client.completions.create(model="legacy", prompt="say this")
    assert text.choices[0].text.endswith("say this")
    vectors = sync_client.embeddings.create(model="emb", input=["a", "b"])  # base64 by default
    assert [len(d.embedding) for d in vectors.data] == [32, 32]
    floats = sync_client.embeddings.create(model="emb", input="a", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(vectors.data[0].embedding, abs=1e-6)
    assert "fake-chat" in [m.id for m in sync_client.models.list()]


def test_sync_sdk_raises_its_usual_errors(
    sync_client: openai.OpenAI, server: FaultUpstream
) -> None:
    server.set_fault("gpt-x", "rate_limit", retry_after=1)
    with pytest.raises(openai.RateLimitError):
        sync_client.chat.completions.create(model="gpt-x", messages=MESSAGES)
    server.set_fault("gpt-x", "context_length")
    with pytest.raises(openai.BadRequestError) as info:
        sync_client.chat.completions.create(model="gpt-x", messages=MESSAGES)
    assert info.value.code == "context_length_exceeded"
    server.set_fault("gpt-x", "unavailable")
    with pytest.raises(openai.InternalServerError):
        sync_client.chat.completions.create(model="gpt-x", messages=MESSAGES)


async def test_async_chat_and_stream(async_client: openai.AsyncOpenAI) -> None:
    answer = await async_client.chat.completions.create(model="gpt-x", messages=MESSAGES)
    assert answer.choices[0].message.content is not None
    stream = await async_client.chat.completions.create(
        model="gpt-x",
        messages=MESSAGES,
        stream=True,
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream]
    assert "".join(pieces) == answer.choices[0].message.content


async def test_async_sdk_sees_a_cut_stream(
    async_client: openai.AsyncOpenAI, server: FaultUpstream
) -> None:
    server.set_fault("gpt-x", "cut_stream", after=2)
    stream = await async_client.chat.completions.create(
        model="gpt-x",
        messages=MESSAGES,
        stream=True,
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass
